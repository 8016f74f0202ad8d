using System.Threading.Channels;
using FaceStream.Media.Video;
using FaceStream.Media.Video.Interop;
using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Media;

/// <summary>Broken files and addresses: a clear, safe error and no hang.</summary>
public sealed class VideoBadInputTests
{
    private static async Task<(VideoSourceException Error, VideoSource Source)> RunFile(string path)
    {
        var source = new VideoSource(new VideoSourceOptions { Id = "bad", Url = path, OpenTimeout = TimeSpan.FromSeconds(5) }, new VideoFramePool());
        var channel = Channel.CreateUnbounded<VideoFrame>();
        var error = await Assert.ThrowsAsync<VideoSourceException>(() => source.RunAsync(channel.Writer, CancellationToken.None));
        return (error, source);
    }

    [Fact]
    public async Task A_missing_file_fails_naming_it()
    {
        var (error, source) = await RunFile("/nonexistent/camera.mp4");
        Assert.Contains("/nonexistent/camera.mp4", error.Message, StringComparison.Ordinal);
        Assert.Contains("No such file", error.Message, StringComparison.Ordinal);
        Assert.Equal(SourceState.Failed, source.State);
    }

    [Trait("Category", "Live")]
    [Fact]
    public async Task Truncated_random_and_audio_only_files_fail_with_their_reason()
    {
        var clips = VideoClips.Instance;
        var (truncated, _) = await RunFile(clips.Truncated);
        Assert.Equal(SourceFailure.OpenFailed, truncated.Failure);
        var (random, _) = await RunFile(clips.RandomBytes);
        Assert.Equal(SourceFailure.OpenFailed, random.Failure);
        Assert.Contains("random.mp4", random.Message, StringComparison.Ordinal);
        var (audio, _) = await RunFile(clips.AudioOnly);
        Assert.Equal(SourceFailure.NoVideo, audio.Failure);
        Assert.Contains("no video stream", audio.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unsupported_scheme_is_refused_before_ffmpeg_sees_it()
    {
        var e = Assert.Throws<ArgumentException>(() => new VideoSource(new VideoSourceOptions { Id = "x", Url = "gopher://user:pw@host/cam" }, new VideoFramePool()));
        Assert.Contains("unsupported URL scheme 'gopher'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(":pw@", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rtsp://admin:pa55@10.0.0.1:554/stream1", "rtsp://admin:***@10.0.0.1:554/stream1")]
    [InlineData("rtsp://admin:p@ss@cam.local/live", "rtsp://admin:***@cam.local/live")]
    [InlineData("rtsp://viewer@cam.local/live", "rtsp://viewer@cam.local/live")]
    [InlineData("rtsp://cam.local/live?user=a", "rtsp://cam.local/live?user=a")]
    [InlineData("/data/videos/lobby.mp4", "/data/videos/lobby.mp4")]
    [InlineData("rtsp://cam.local/live?user=admin&password=Secr3t", "rtsp://cam.local/live?user=admin&password=***")]
    [InlineData("rtsp://cam.local/live?USER=admin&PWD=Secr3t&channel=1", "rtsp://cam.local/live?USER=admin&PWD=***&channel=1")]
    [InlineData("rtsp://a:b@cam.local/live?passwd=x&pass=y&token=z", "rtsp://a:***@cam.local/live?passwd=***&pass=***&token=***")]
    [InlineData("https://h/x?api_key=1&apikey=2&Api-Key=3&key=4&secret=5&auth=6&sig=7&signature=8&X-Amz-Signature=9",
        "https://h/x?api_key=***&apikey=***&Api-Key=***&key=***&secret=***&auth=***&sig=***&signature=***&X-Amz-Signature=***")]
    [InlineData("https://h/x?access%5Ftoken=1&res=hd#frag", "https://h/x?access%5Ftoken=***&res=hd#frag")]
    [InlineData("rtsp://cam.local/live?Secr3t&channel=1", "rtsp://cam.local/live?***&channel=1")]
    [InlineData("rtsp://cam.local?password=x", "rtsp://cam.local?password=***")]
    public void Redaction_hides_the_password_and_secret_query_values(string url, string expected) => Assert.Equal(expected, SourceUrl.Redact(url));

    [Fact]
    public void Options_name_the_bad_key()
    {
        var problems = new VideoSourceOptions { Url = "rtsp://x/y", Transport = "quic", AnalysisFps = -1, Scaling = "lanczos9" }.Validate("Cameras:0:").ToList();
        Assert.Contains(problems, p => p.StartsWith("Cameras:0:Transport = 'quic'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Cameras:0:AnalysisFps", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Cameras:0:Scaling", StringComparison.Ordinal));
    }

    [Fact]
    public void The_version_check_refuses_unknown_and_mixed_majors_naming_both()
    {
        var installed = FfmpegLibrary.EnsureLoaded();
        Assert.Equal(59, installed.AvFormat.Major);

        var mixed = installed with { AvCodec = new Version(60, 3, 100) };
        var e = Assert.Throws<FfmpegUnavailableException>(() => mixed.SelectLayout());
        Assert.Contains("libavcodec 60.3.100", e.Message, StringComparison.Ordinal);
        Assert.Contains("FFmpeg 5.x = libavformat 59", e.Message, StringComparison.Ordinal);
        var newer = new FfmpegVersions(new(61, 1, 100), new(61, 3, 100), new(59, 8, 100), new(8, 1, 100));
        Assert.Throws<FfmpegUnavailableException>(() => newer.SelectLayout());
    }

    [Fact]
    public void Backoff_doubles_up_to_the_ceiling_with_bounded_jitter()
    {
        var initial = TimeSpan.FromSeconds(0.5);
        var max = TimeSpan.FromSeconds(10);
        Assert.Equal(0.5, VideoSource.BackoffDelay(0, initial, max, 0.2, 0.5).TotalSeconds, 6);
        Assert.Equal(4.0, VideoSource.BackoffDelay(3, initial, max, 0.2, 0.5).TotalSeconds, 6);
        Assert.Equal(10.0, VideoSource.BackoffDelay(50, initial, max, 0.2, 0.5).TotalSeconds, 6);
        Assert.Equal(8.0, VideoSource.BackoffDelay(50, initial, max, 0.2, 0.0).TotalSeconds, 6);
        Assert.Equal(12.0, VideoSource.BackoffDelay(50, initial, max, 0.2, 1.0).TotalSeconds, 6);
    }

    [Fact]
    public void Fitting_keeps_the_aspect_and_even_sizes()
    {
        Assert.Equal((1920, 1080), VideoSource.FitWithin(1920, 1080, 1920, 1920));
        Assert.Equal((1920, 1080), VideoSource.FitWithin(3840, 2160, 1920, 1920));
        Assert.Equal((606, 1080), VideoSource.FitWithin(1080, 1920, 1920, 1080));
    }
}
