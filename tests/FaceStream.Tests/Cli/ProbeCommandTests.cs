using System.Text.Json;
using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Cli;

/// <summary>`facestream probe`: what an operator runs first when a camera misbehaves.</summary>
[Trait("Category", "Live")]
public class ProbeCommandTests
{
    [Fact]
    public void Probe_reports_codec_size_and_fps_of_a_file_and_an_rtsp_camera()
    {
        var file = CliRunner.Run("probe", VideoClips.Instance.H264_1080, "--json");
        Assert.Equal(0, file.ExitCode);
        var j = JsonDocument.Parse(file.Stdout).RootElement;
        Assert.True(j.GetProperty("ok").GetBoolean());
        Assert.Equal("h264", j.GetProperty("codec").GetString());
        Assert.Equal(1920, j.GetProperty("width").GetInt32());
        Assert.Equal(1080, j.GetProperty("height").GetInt32());
        Assert.Equal(25, j.GetProperty("fps").GetDouble());
        Assert.False(j.GetProperty("live").GetBoolean());

        using var server = new RtspServer(VideoClips.Instance.H264_720);
        var live = CliRunner.Run("probe", server.Url);
        Assert.Equal(0, live.ExitCode);
        Assert.Contains("live, h264 1280x720 @ 25 fps", live.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Probe_of_a_dead_camera_exits_1_with_the_reason_and_hides_the_password()
    {
        var r = CliRunner.Run("probe", "rtsp://admin:hunter2@127.0.0.1:9/stream", "--timeout", "3", "--json");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("refused", r.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("hunter2", r.Stdout + r.Stderr, StringComparison.Ordinal);
        var j = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.False(j.GetProperty("ok").GetBoolean());
        Assert.Equal("rtsp://admin:***@127.0.0.1:9/stream", j.GetProperty("url").GetString());

        var missing = CliRunner.Run("probe", "/nonexistent.mp4");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("No such file", missing.Stderr, StringComparison.Ordinal);

        var scheme = CliRunner.Run("probe", "ftp://x/y");
        Assert.Equal(2, scheme.ExitCode);
        Assert.Contains("unsupported URL scheme 'ftp'", scheme.Stderr, StringComparison.Ordinal);
    }
}
