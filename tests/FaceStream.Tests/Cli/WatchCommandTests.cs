using System.Text.Json;
using FaceStream.Cli.Demo;
using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Cli;

/// <summary>`facestream watch` and `facestream run` as operators and scripts use them.</summary>
[Trait("Category", "Live")]
public class WatchCommandTests
{
    [Fact]
    public void Watch_prints_one_json_event_per_line_and_a_summary_for_a_recording()
    {
        var gallery = TestAssets.TempDirectory();
        using (var engine = TestAssets.Engine(minFace: 40))
        {
            DemoAssets.MakeGallery(engine, TestAssets.Store, gallery);
        }

        var r = CliRunner.Run("watch", VideoClips.Instance.Faces, "--gallery", gallery, "--json", "--min-face", "40");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var matches = lines.Where(l => l.GetProperty("kind").GetString() == "match").ToList();
        // Her second appearance (sample3 segment) falls within the default 60 s cooldown.
        Assert.Equal(["Blonde_Woman", "Woman_In_Green"], matches.Select(m => m.GetProperty("identity_id").GetString()!).ToArray());
        Assert.All(matches, m => Assert.Equal("faces-720p", m.GetProperty("camera_id").GetString()));
        var summary = lines[^1];
        Assert.Equal("summary", summary.GetProperty("kind").GetString());
        var camera = summary.GetProperty("cameras")[0];
        Assert.Equal(60, camera.GetProperty("frames_analysed").GetInt32());
        Assert.Equal(2, camera.GetProperty("matches").GetInt32());
        // The pre-screen (on by default) spared the full embedder the photos' other faces, and not the two she and her friend needed.
        Assert.True(camera.GetProperty("prescreened").GetInt32() > 0 && camera.GetProperty("embeddings").GetInt32() >= 4, camera.ToString());
    }

    [Fact]
    public void Watch_annotate_writes_every_analysed_frame_as_a_picture_of_what_was_searched()
    {
        var dir = TestAssets.TempDirectory();
        var config = Path.Combine(dir, "facestream.json");
        File.WriteAllText(config, """{ "Detector": { "Mode": "adaptive" } }""");
        var annotated = Path.Combine(dir, "frames");
        var r = CliRunner.Run("watch", VideoClips.Instance.Faces, "--gallery", TestAssets.TempDirectory(), "--json", "--min-face", "40", "--fps", "2",
            "--config", config, "--annotate", annotated);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var summary = JsonDocument.Parse(r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;
        int analysed = summary.GetProperty("cameras")[0].GetProperty("frames_analysed").GetInt32();
        var files = Directory.GetFiles(annotated).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(analysed, files.Count);
        Assert.Equal("faces-720p-000001.jpg", Path.GetFileName(files[0]));
        using var first = SkiaSharp.SKBitmap.Decode(files[0]);
        Assert.Equal((1280, 720), (first.Width, first.Height));
    }

    [Fact]
    public async Task Watch_without_a_gallery_uses_the_redis_watchlist()
    {
        using var redis = new RedisServer();
        await using (var store = await FaceStream.Watchlist.Store.RedisWatchlistStore.ConnectAsync(FaceStream.Watchlist.Store.WatchlistUri.Parse(redis.Uri)))
        {
            using var engine = TestAssets.Engine(minFace: 40);
            var gallery = TestAssets.TempDirectory();
            DemoAssets.MakeGallery(engine, TestAssets.Store, gallery);
            var enroller = new FaceStream.Application.Enrollment.Enroller(engine, store, new FaceStream.Application.Enrollment.EnrollmentOptions());
            var person = await store.CreateIdentityAsync("Woman In Green", id: "green");
            var photo = await File.ReadAllBytesAsync(Directory.GetFiles(Path.Combine(gallery, "Woman_In_Green"))[0]);
            Assert.True((await enroller.EnrollAsync(person.Id, photo, "crop")).Accepted);
        }

        var r = CliRunner.Run("watch", VideoClips.Instance.Faces, "--watchlist", redis.Uri, "--json", "--min-face", "40");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var matches = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(l => l.GetProperty("kind").GetString() == "match").ToList();
        Assert.Equal("green", Assert.Single(matches).GetProperty("identity_id").GetString());
    }

    [Fact]
    public void Watch_of_a_missing_file_fails_with_the_reason_and_run_rejects_a_bad_config_naming_the_key()
    {
        var r = CliRunner.Run("watch", "/nonexistent/lobby.mp4", "--json");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("No such file", r.Stdout + r.Stderr, StringComparison.Ordinal);

        var config = Path.Combine(TestAssets.TempDirectory(), "bad.json");
        File.WriteAllText(config, """{ "Cameras": [ { "Id": "x", "Url": "rtsp://h/s", "ReadTimeout": "00:00:00" } ] }""");
        var run = CliRunner.Run("run", "--config", config);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Cameras:0:", run.Stderr, StringComparison.Ordinal);

        // A taken metrics port is one clear line and exit code 1, not a stack trace.
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        File.WriteAllText(config, $$"""{ "Metrics": { "Port": {{port}} }, "Events": { "Console": false } }""");
        var busy = CliRunner.Run("run", "--config", config);
        Assert.Equal(1, busy.ExitCode);
        Assert.Contains("address already in use", busy.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", busy.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Watch_on_a_file_that_opens_but_has_no_decodable_frame_exits_1_like_probe()
    {
        // Headers first (faststart), then the media data zeroed: FFmpeg opens it and finds no frame.
        var dir = TestAssets.TempDirectory();
        var headersFirst = Path.Combine(dir, "headers-first.mp4");
        VideoClips.Ffmpeg($"-y -i {VideoClips.Instance.H264_720} -c copy -movflags +faststart {headersFirst}");
        var bytes = File.ReadAllBytes(headersFirst);
        int mdat = bytes.AsSpan().IndexOf("mdat"u8) + 4;
        bytes.AsSpan(mdat).Clear();
        var noFrame = Path.Combine(dir, "no-frame.mp4");
        File.WriteAllBytes(noFrame, bytes);

        Assert.Equal(1, CliRunner.Run("probe", noFrame).ExitCode);
        var r = CliRunner.Run("watch", noFrame, "--gallery", TestAssets.TempDirectory());
        Assert.True(r.ExitCode == 1, r.Stderr);
        Assert.Contains("no-frame: ", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("delivered no frame", r.Stderr, StringComparison.Ordinal);
    }
}
