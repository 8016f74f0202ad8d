namespace FaceStream.Media.Video.Interop;

/// <summary>Byte offsets of the few FFmpeg struct fields read directly; one row per supported set of library majors.</summary>
/// <remarks>
/// Everything else goes through functions. A wrong row gives garbage rather than an exception, so rows are only
/// chosen after the version check and the stream is self-checked (codec type must read as video).
/// </remarks>
internal sealed record FfmpegLayout(
    string Release,
    int FormatNbStreams,
    int FormatStreams,
    int StreamTimeBase,
    int StreamCodecpar,
    int CodecparWidth,
    int CodecparHeight,
    int PacketPts,
    int PacketStreamIndex,
    int FrameData,
    int FrameLinesize,
    int FrameWidth,
    int FrameHeight,
    int FrameFormat,
    int FramePts)
{
    /// <summary>FFmpeg 5.x (libavformat 59, libavcodec 59, libavutil 57, libswscale 6), checked with offsetof against Debian 12's headers.</summary>
    public static readonly FfmpegLayout Ffmpeg5 = new("5.x", 44, 48, 16, 208, 56, 60, 8, 36, 0, 64, 104, 108, 116, 136);

    // AVFormatContext.interrupt_callback is not an AVOption but sits between two that are, in every 4.x-7.x header.
    internal const string OptionAfterInterrupt = "fdebug";
    internal const string OptionBeforeInterrupt = "err_detect";
    internal const int InterruptCallbackSize = 16;
}
