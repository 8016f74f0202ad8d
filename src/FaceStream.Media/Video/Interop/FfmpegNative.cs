using System.Runtime.InteropServices;

namespace FaceStream.Media.Video.Interop;

/// <summary>The FFmpeg functions FaceStream calls; handles are opaque pointers, struct fields go through <see cref="FfmpegLayout"/>.</summary>
internal static unsafe class FfmpegNative
{
    // Logical names; FfmpegLibrary's resolver maps them to the versioned SONAMEs that runtime-only images ship.
    internal const string AvFormat = "avformat";
    internal const string AvCodec = "avcodec";
    internal const string AvUtil = "avutil";
    internal const string SwScale = "swscale";

    internal const int AvMediaTypeVideo = 0;
    internal const int AvLogQuiet = -8;
    internal const long AvNoPtsValue = long.MinValue;
    // enum AVDiscard (libavcodec/defs.h): which frames a decoder may skip.
    internal const int AvDiscardDefault = 0;
    internal const int AvDiscardNonRef = 8;
    internal const int AvErrorEof = -541478725;
    internal const int AvErrorEagain = -11;
    internal const int AvErrorExit = -1414092869;
    internal const int AvErrorStreamNotFound = -1381258232;
    internal const int AvErrorDecoderNotFound = -1128613112;

    [StructLayout(LayoutKind.Sequential)]
    internal struct AvRational
    {
        public int Num;
        public int Den;

        public readonly double ToDouble() => Den == 0 ? 0 : (double)Num / Den;
    }

    [DllImport(AvFormat)] internal static extern uint avformat_version();
    [DllImport(AvFormat)] internal static extern int avformat_network_init();
    [DllImport(AvFormat)] internal static extern void* avformat_alloc_context();
    [DllImport(AvFormat)] internal static extern void* avformat_get_class();
    [DllImport(AvFormat)] internal static extern int avformat_open_input(void** ps, byte* url, void* fmt, void** options);
    [DllImport(AvFormat)] internal static extern int avformat_find_stream_info(void* ic, void** options);
    [DllImport(AvFormat)] internal static extern int av_find_best_stream(void* ic, int type, int wantedStream, int relatedStream, void** decoderRet, int flags);
    [DllImport(AvFormat)] internal static extern int av_read_frame(void* ic, void* pkt);
    [DllImport(AvFormat)] internal static extern void avformat_close_input(void** s);
    [DllImport(AvFormat)] internal static extern void avformat_free_context(void* s);
    [DllImport(AvFormat)] internal static extern AvRational av_guess_frame_rate(void* ctx, void* stream, void* frame);

    [DllImport(AvCodec)] internal static extern uint avcodec_version();
    [DllImport(AvCodec)] internal static extern void* avcodec_alloc_context3(void* codec);
    [DllImport(AvCodec)] internal static extern int avcodec_parameters_to_context(void* codec, void* par);
    [DllImport(AvCodec)] internal static extern int avcodec_open2(void* avctx, void* codec, void** options);
    [DllImport(AvCodec)] internal static extern int avcodec_send_packet(void* avctx, void* avpkt);
    [DllImport(AvCodec)] internal static extern int avcodec_receive_frame(void* avctx, void* frame);
    [DllImport(AvCodec)] internal static extern void avcodec_free_context(void** avctx);
    [DllImport(AvCodec)] internal static extern void* av_packet_alloc();
    [DllImport(AvCodec)] internal static extern void av_packet_free(void** pkt);
    [DllImport(AvCodec)] internal static extern void av_packet_unref(void* pkt);

    [DllImport(AvUtil)] internal static extern uint avutil_version();
    [DllImport(AvUtil)] internal static extern void* av_frame_alloc();
    [DllImport(AvUtil)] internal static extern void av_frame_free(void** frame);
    [DllImport(AvUtil)] internal static extern void av_frame_unref(void* frame);
    [DllImport(AvUtil)] internal static extern int av_dict_set(void** pm, byte* key, byte* value, int flags);
    [DllImport(AvUtil)] internal static extern void av_dict_free(void** m);
    [DllImport(AvUtil)] internal static extern int av_strerror(int errnum, byte* errbuf, nuint errbufSize);
    [DllImport(AvUtil)] internal static extern int av_opt_set_int(void* obj, byte* name, long value, int searchFlags);
    [DllImport(AvUtil)] internal static extern void* av_opt_ptr(void* avclass, void* obj, byte* name);
    [DllImport(AvUtil)] internal static extern void av_log_set_level(int level);
    [DllImport(AvUtil)] internal static extern int av_get_pix_fmt(byte* name);
    [DllImport(AvUtil)] internal static extern byte* av_get_pix_fmt_name(int pixFmt);

    [DllImport(SwScale)] internal static extern uint swscale_version();
    [DllImport(SwScale)] internal static extern void* sws_getCachedContext(void* context, int srcW, int srcH, int srcFormat, int dstW, int dstH, int dstFormat, int flags, void* srcFilter, void* dstFilter, double* param);
    [DllImport(SwScale)] internal static extern int sws_scale(void* c, byte** srcSlice, int* srcStride, int srcSliceY, int srcSliceH, byte** dst, int* dstStride);
    [DllImport(SwScale)] internal static extern void sws_freeContext(void* swsContext);

    /// <summary>FFmpeg's text for an error code, e.g. "Connection refused".</summary>
    internal static string ErrorText(int code)
    {
        var buffer = stackalloc byte[256];
        return av_strerror(code, buffer, 256) == 0 ? Marshal.PtrToStringUTF8((nint)buffer) ?? $"error {code}" : $"error {code}";
    }

    /// <summary>A NUL-terminated UTF-8 copy for the duration of one native call.</summary>
    internal readonly ref struct Utf8
    {
        private readonly nint _ptr;

        public Utf8(string text) => _ptr = Marshal.StringToCoTaskMemUTF8(text);

        public byte* Pointer => (byte*)_ptr;

        public void Dispose() => Marshal.FreeCoTaskMem(_ptr);
    }
}
