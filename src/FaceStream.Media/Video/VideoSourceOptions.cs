using FaceStream.Core.Configuration;
using FaceStream.Core.Imaging;

namespace FaceStream.Media.Video;

/// <summary>Per-camera settings: where to read, how long any network call may take, and what frames to hand on.</summary>
public class VideoSourceOptions
{
    /// <summary>Camera id used in frames, logs and metrics.</summary>
    public string Id { get; set; } = "";

    /// <summary>File path, file://, rtsp://, rtsps://, http(s)://, rtmp://, udp://, tcp:// or srt:// address.</summary>
    public string Url { get; set; } = "";

    /// <summary>RTSP transport: tcp (default: survives NAT and lossy links) or udp.</summary>
    public string Transport { get; set; } = "tcp";

    /// <summary>Longest time connecting + reading stream headers may take.</summary>
    public TimeSpan OpenTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest wait for the next packet; past it the source is stalled and reconnects.</summary>
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Frames per second handed on for analysis; every frame is decoded, only these are converted. 0 = all.</summary>
    public double AnalysisFps { get; set; } = 5;

    /// <summary>Frames wider than this are scaled down (aspect kept).</summary>
    public int MaxWidth { get; set; } = 1920;

    /// <summary>Frames taller than this are scaled down (aspect kept).</summary>
    public int MaxHeight { get; set; } = 1920;

    /// <summary>Pixel layout of delivered frames; Bgra32 feeds the detector without another copy.</summary>
    public PixelFormat PixelFormat { get; set; } = PixelFormat.Bgra32;

    /// <summary>Scaler for frames above the size limit: bilinear (default), fast_bilinear (≈2× cheaper), bicubic, point.</summary>
    public string Scaling { get; set; } = "bilinear";

    /// <summary>Decoder threads (frame threading delays output by threads−1 frames).</summary>
    public int DecoderThreads { get; set; } = 1;

    /// <summary>Skip H.264/HEVC deblocking on every frame: a fifth to a third less decode CPU, but the blockiness drifts into later frames until the next key frame, and the detector then found only 77–97 % of the same faces on 1080p crowd clips (docs/benchmarks.md). Off unless decoding is the bottleneck.</summary>
    public bool SkipLoopFilter { get; set; }

    /// <summary>
    /// Frames that will not be analysed and that no other frame refers to (the non-reference B-frames most encoders
    /// write; cameras encoding without B-frames have none) are not decoded at all. Analysed frames come out
    /// bit-identical; only the decoded-frame count drops.
    /// </summary>
    public bool SkipNonReferenceFrames { get; set; } = true;

    /// <summary>Files: start again at the end instead of completing (for demos and soak tests).</summary>
    public bool Loop { get; set; }

    /// <summary>Files: deliver at the file's own frame rate, like a camera, instead of as fast as the consumer takes them.</summary>
    public bool Realtime { get; set; }

    /// <summary>Override of live detection (default: by scheme, network = live, file = not).</summary>
    public bool? Live { get; set; }

    /// <summary>First reconnect delay; doubles per failed attempt up to <see cref="ReconnectMaxDelay"/>.</summary>
    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromSeconds(0.5);

    /// <summary>Ceiling of the reconnect delay.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Random spread (±fraction) on each delay so that many cameras behind one switch do not reconnect in lockstep.</summary>
    public double ReconnectJitter { get; set; } = 0.2;

    // libswscale's SWS_* flag values (stable since FFmpeg 1.x).
    internal static readonly Dictionary<string, int> ScalingFlags = new()
    {
        ["fast_bilinear"] = 1,
        ["bilinear"] = 2,
        ["bicubic"] = 4,
        ["point"] = 16,
    };

    /// <summary>Lists the problems with these settings, each naming its key (empty = valid).</summary>
    public IEnumerable<string> Validate(string prefix = "")
    {
        if (string.IsNullOrWhiteSpace(Url))
        {
            yield return $"{prefix}Url is empty: give a file path or an rtsp:// address";
        }
        else
        {
            string? error = null;
            try
            {
                SourceUrl.Parse(Url);
            }
            catch (ArgumentException e)
            {
                error = e.Message;
            }

            if (error is not null)
            {
                yield return $"{prefix}Url: {error}";
            }
        }

        if (Transport is not ("tcp" or "udp"))
        {
            yield return $"{prefix}Transport = '{Transport}' is not one of: tcp, udp";
        }

        if (OpenTimeout <= TimeSpan.Zero || ReadTimeout <= TimeSpan.Zero)
        {
            yield return $"{prefix}OpenTimeout and {prefix}ReadTimeout must be positive";
        }

        if (AnalysisFps < 0 || AnalysisFps > 240)
        {
            yield return $"{prefix}AnalysisFps = {AnalysisFps} must be between 0 (all frames) and 240";
        }

        if (MaxWidth < 16 || MaxHeight < 16)
        {
            yield return $"{prefix}MaxWidth/MaxHeight must be at least 16";
        }

        if (!ScalingFlags.ContainsKey(Scaling))
        {
            yield return $"{prefix}Scaling = '{Scaling}' is not one of: {string.Join(", ", ScalingFlags.Keys)}";
        }

        if (DecoderThreads < 0 || DecoderThreads > 16)
        {
            yield return $"{prefix}DecoderThreads = {DecoderThreads} must be between 0 (FFmpeg decides) and 16";
        }

        if (ReconnectInitialDelay <= TimeSpan.Zero || ReconnectMaxDelay < ReconnectInitialDelay)
        {
            yield return $"{prefix}ReconnectInitialDelay must be positive and not above {prefix}ReconnectMaxDelay";
        }

        if (ReconnectJitter < 0 || ReconnectJitter >= 1)
        {
            yield return $"{prefix}ReconnectJitter = {ReconnectJitter} must be in [0, 1)";
        }

        // NaN and ±Infinity in any float/double (NaN passes every comparison above).
        foreach (var problem in NumberChecks.Problems(this, prefix))
        {
            yield return problem;
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem.</summary>
    public void ThrowIfInvalid(string prefix = "")
    {
        var problems = Validate(prefix).ToList();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", problems));
        }
    }
}
