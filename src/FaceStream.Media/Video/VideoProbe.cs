using System.Diagnostics;
using System.Text.Json;
using FaceStream.Media.Video.Interop;

namespace FaceStream.Media.Video;

/// <summary>What <c>facestream probe</c> reports about a source.</summary>
public sealed record ProbeResult(
    string Url,
    bool IsLive,
    string Codec,
    int Width,
    int Height,
    double Fps,
    string SourcePixelFormat,
    TimeSpan TimeToOpen,
    TimeSpan TimeToFirstFrame,
    string FfmpegVersions);

/// <summary>
/// A probe's answer as <c>facestream probe --json</c> and <c>POST /api/cameras/{id}/probe</c> give it: what the source
/// delivered, or why it delivered nothing. The URL is always the redacted one (no password).
/// </summary>
public sealed record ProbeOutcome(string Url, ProbeResult? Result, string? Error)
{
    public bool Ok => Result is not null;

    /// <summary>Writes the members <c>url, ok</c>, then the result's (<c>live, codec, width, height, fps, pixel_format, open_ms, first_frame_ms, ffmpeg</c>) or <c>error</c>, into the object being written.</summary>
    public void WriteMembers(Utf8JsonWriter w)
    {
        w.WriteString("url", Url);
        w.WriteBoolean("ok", Ok);
        if (Result is not { } r)
        {
            w.WriteString("error", Error);
            return;
        }

        w.WriteBoolean("live", r.IsLive);
        w.WriteString("codec", r.Codec);
        w.WriteNumber("width", r.Width);
        w.WriteNumber("height", r.Height);
        w.WriteNumber("fps", Math.Round(r.Fps, 3));
        w.WriteString("pixel_format", r.SourcePixelFormat);
        w.WriteNumber("open_ms", Math.Round(r.TimeToOpen.TotalMilliseconds));
        w.WriteNumber("first_frame_ms", Math.Round(r.TimeToFirstFrame.TotalMilliseconds));
        w.WriteString("ffmpeg", r.FfmpegVersions);
    }
}

/// <summary>Opens a source, decodes its first frame and reports what it delivers: the first check when a camera misbehaves.</summary>
public static class VideoProbe
{
    /// <summary>Throws <see cref="VideoSourceException"/> (or <see cref="FfmpegUnavailableException"/>) with the reason when the source cannot deliver a frame in time.</summary>
    public static ProbeResult Probe(VideoSourceOptions options, CancellationToken cancel = default)
    {
        var versions = FfmpegLibrary.EnsureLoaded();
        var url = SourceUrl.Parse(options.Url);
        var isLive = options.Live ?? url.IsLive;
        var clock = Stopwatch.StartNew();
        using var decoder = FfmpegDecoder.Open(url, options, isLive, cancel);
        var opened = clock.Elapsed;
        using var registration = cancel.Register(decoder.Abort);
        if (!decoder.TryReadFrame(options.ReadTimeout, out var frame))
        {
            throw new VideoSourceException(SourceFailure.NoVideo, $"{url.Safe} opened but delivered no frame ({(decoder.EndReason.Length > 0 ? decoder.EndReason : "end of stream")})");
        }

        var info = decoder.Info;
        return new ProbeResult(url.Safe, isLive, info.Codec, frame.Width, frame.Height, info.Fps, FfmpegDecoder.PixelFormatName(frame.PixelFormat), opened, clock.Elapsed, versions.ToString());
    }

    /// <summary><see cref="Probe"/>, with a source that cannot deliver (or FFmpeg missing) as a failed outcome instead of an exception.</summary>
    public static ProbeOutcome TryProbe(VideoSourceOptions options, CancellationToken cancel = default)
    {
        try
        {
            var result = Probe(options, cancel);
            return new ProbeOutcome(result.Url, result, null);
        }
        catch (Exception e) when (e is VideoSourceException or FfmpegUnavailableException)
        {
            return new ProbeOutcome(SourceUrl.Redact(options.Url), null, e.Message);
        }
    }
}
