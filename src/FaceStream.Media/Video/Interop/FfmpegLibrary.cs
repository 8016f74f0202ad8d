using System.Reflection;
using System.Runtime.InteropServices;

namespace FaceStream.Media.Video.Interop;

/// <summary>Loads Debian's FFmpeg shared libraries by SONAME, checks their versions once, and exposes the struct layout.</summary>
public static unsafe class FfmpegLibrary
{
    // Runtime packages ship only libavformat.so.59 etc.; the unversioned name comes with -dev packages. Newer majors
    // are tried too so that the version check can name them instead of failing with a bare loader error.
    private static readonly Dictionary<string, string[]> Sonames = new()
    {
        [FfmpegNative.AvFormat] = ["libavformat.so.59", "libavformat.so.60", "libavformat.so.61", "libavformat.so.62", "libavformat.so"],
        [FfmpegNative.AvCodec] = ["libavcodec.so.59", "libavcodec.so.60", "libavcodec.so.61", "libavcodec.so.62", "libavcodec.so"],
        [FfmpegNative.AvUtil] = ["libavutil.so.57", "libavutil.so.58", "libavutil.so.59", "libavutil.so.60", "libavutil.so"],
        [FfmpegNative.SwScale] = ["libswscale.so.6", "libswscale.so.7", "libswscale.so.8", "libswscale.so.9", "libswscale.so"],
    };

    private static readonly Lazy<(FfmpegVersions Versions, FfmpegLayout Layout)> Loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    // Every native call is reached through Layout/Versions, so registering here runs before the first P/Invoke.
    static FfmpegLibrary() => NativeLibrary.SetDllImportResolver(typeof(FfmpegLibrary).Assembly, Resolve);

    /// <summary>The versions found; throws <see cref="FfmpegUnavailableException"/> when missing or unsupported.</summary>
    public static FfmpegVersions Versions => Loaded.Value.Versions;

    internal static FfmpegLayout Layout => Loaded.Value.Layout;

    /// <summary>Loads and checks the libraries; call at start-up so a bad install fails before any camera is opened.</summary>
    public static FfmpegVersions EnsureLoaded() => Versions;

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (!Sonames.TryGetValue(name, out var candidates))
        {
            return 0;
        }

        foreach (var candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, out var handle))
            {
                return handle;
            }
        }

        return 0;
    }

    private static (FfmpegVersions, FfmpegLayout) Load()
    {
        FfmpegVersions versions;
        try
        {
            versions = new FfmpegVersions(
                FfmpegVersions.Unpack(FfmpegNative.avformat_version()),
                FfmpegVersions.Unpack(FfmpegNative.avcodec_version()),
                FfmpegVersions.Unpack(FfmpegNative.avutil_version()),
                FfmpegVersions.Unpack(FfmpegNative.swscale_version()));
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new FfmpegUnavailableException(
                $"FFmpeg shared libraries not found ({e.Message}). Supported: {FfmpegVersions.SupportedText}. " +
                "On Debian 12: apt-get install libavformat59 libavcodec59 libavutil57 libswscale6", e);
        }

        var layout = versions.SelectLayout();
        // FFmpeg prints to stderr by default, and its messages can contain URLs with credentials.
        FfmpegNative.av_log_set_level(FfmpegNative.AvLogQuiet);
        FfmpegNative.avformat_network_init();
        return (versions, layout);
    }
}
