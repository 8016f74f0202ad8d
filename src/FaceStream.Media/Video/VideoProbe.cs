using System.Diagnostics;
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
}
