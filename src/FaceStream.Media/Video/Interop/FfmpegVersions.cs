namespace FaceStream.Media.Video.Interop;

/// <summary>The four FFmpeg library versions found at run time.</summary>
public sealed record FfmpegVersions(Version AvFormat, Version AvCodec, Version AvUtil, Version SwScale)
{
    private static readonly (int Format, int Codec, int Util, int Scale, string Release)[] Supported = [(59, 59, 57, 6, "5.x")];

    /// <summary>The supported combinations, for messages.</summary>
    public static string SupportedText =>
        string.Join("; ", Supported.Select(s => $"FFmpeg {s.Release} = libavformat {s.Format}, libavcodec {s.Codec}, libavutil {s.Util}, libswscale {s.Scale}"));

    /// <summary>Unpacks FFmpeg's <c>major&lt;&lt;16 | minor&lt;&lt;8 | micro</c> version integer.</summary>
    public static Version Unpack(uint packed) => new((int)(packed >> 16), (int)((packed >> 8) & 0xFF), (int)(packed & 0xFF));

    /// <summary>Returns the struct layout for these versions, or throws naming what was found and what is supported.</summary>
    internal FfmpegLayout SelectLayout()
    {
        foreach (var s in Supported)
        {
            if (AvFormat.Major == s.Format && AvCodec.Major == s.Codec && AvUtil.Major == s.Util && SwScale.Major == s.Scale)
            {
                return FfmpegLayout.Ffmpeg5;
            }
        }

        throw new FfmpegUnavailableException(
            $"unsupported or mixed FFmpeg libraries: found {this}; supported: {SupportedText}. " +
            "On Debian 12: apt-get install libavformat59 libavcodec59 libavutil57 libswscale6");
    }

    /// <inheritdoc />
    public override string ToString() => $"libavformat {AvFormat}, libavcodec {AvCodec}, libavutil {AvUtil}, libswscale {SwScale}";
}

/// <summary>FFmpeg's shared libraries are missing or of an unsupported version; the message says which and how to fix it.</summary>
public sealed class FfmpegUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
