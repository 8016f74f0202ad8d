using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FaceStream.Core.Imaging;
using FaceStream.Media.Video.Interop;
using static FaceStream.Media.Video.Interop.FfmpegNative;

namespace FaceStream.Media.Video;

/// <summary>What an opened source delivers.</summary>
public sealed record StreamInfo(string Codec, int Width, int Height, double Fps, bool IsLive);

/// <summary>Facts of the frame the decoder holds right now.</summary>
internal readonly record struct DecodedFrame(int Width, int Height, int PixelFormat, double PtsSeconds);

/// <summary>One open FFmpeg demuxer + decoder for one source. Not thread-safe, except <see cref="Abort"/>.</summary>
/// <remarks>Every blocking FFmpeg call runs under a deadline enforced by FFmpeg's interrupt callback, so none can hang.</remarks>
internal sealed unsafe class FfmpegDecoder : IDisposable
{
    private readonly FfmpegLayout _layout;
    private readonly SourceUrl _url;
    private readonly InterruptState* _interrupt;
    private void* _format;
    private void* _codec;
    private void* _packet;
    private void* _frame;
    private void* _sws;
    private int _streamIndex;
    private double _timeBase;
    private bool _draining;
    private int _skipFrame = AvDiscardDefault;
    private readonly List<long> _mayBeLeftOut = [];

    private FfmpegDecoder(SourceUrl url)
    {
        _layout = FfmpegLibrary.Layout;
        _url = url;
        _interrupt = (InterruptState*)NativeMemory.AllocZeroed((nuint)sizeof(InterruptState));
    }

    public StreamInfo Info { get; private set; } = new("", 0, 0, 0, false);

    /// <summary>Why the stream ended (end of file, connection closed, read error), once <see cref="TryReadFrame"/> returned false.</summary>
    public string EndReason { get; private set; } = "";

    /// <summary>Decode errors skipped so far (a damaged packet costs a frame, not the stream).</summary>
    public long DecodeErrors { get; private set; }

    /// <summary>
    /// Stream time (seconds, the packets' own clock) before which no frame is wanted: a packet stamped earlier is
    /// decoded only if another frame refers to it (H.264/HEVC reference pictures); non-reference frames (most encoders'
    /// B-frames) are dropped by the decoder unseen. NaN (default) = decode every frame.
    /// </summary>
    /// <remarks>
    /// A packet stamped more than <see cref="SkipJumpGuard"/> before it is taken for a clock that jumped back (a camera
    /// restarted, a file looped) and decoded. The frames that are decoded come out bit-identical, since nothing
    /// refers to the frames left out.
    /// </remarks>
    public double SkipNonReferenceBefore { get; set; } = double.NaN;

    /// <summary>Frames the decoder left out because of <see cref="SkipNonReferenceBefore"/> (counted once a later frame is out).</summary>
    public long FramesLeftOut { get; private set; }

    /// <summary>See <see cref="SkipNonReferenceBefore"/>.</summary>
    public double SkipJumpGuard { get; set; } = 1;

    /// <summary>Makes any FFmpeg call in progress on another thread return at once; safe from any thread.</summary>
    public void Abort() => Volatile.Write(ref _interrupt->Abort, 1);

    /// <summary>Opens, reads stream headers and starts the decoder, all within the open timeout.</summary>
    public static FfmpegDecoder Open(SourceUrl url, VideoSourceOptions options, bool isLive, CancellationToken cancel)
    {
        var decoder = new FfmpegDecoder(url);
        using var registration = cancel.Register(decoder.Abort);
        try
        {
            decoder.OpenCore(options, isLive);
            return decoder;
        }
        catch
        {
            decoder.Dispose();
            throw;
        }
    }

    private void OpenCore(VideoSourceOptions options, bool isLive)
    {
        var layout = _layout;
        _format = avformat_alloc_context();
        if (_format == null)
        {
            throw new OutOfMemoryException("avformat_alloc_context failed");
        }

        InstallInterruptCallback();
        void* dict = null;
        try
        {
            var timeoutUs = ((long)options.ReadTimeout.TotalMicroseconds).ToString(CultureInfo.InvariantCulture);
            if (_url.Scheme is "rtsp" or "rtsps")
            {
                SetOption(&dict, "rtsp_transport", options.Transport);
                SetOption(&dict, "timeout", timeoutUs);
            }
            else if (_url.Scheme != "file")
            {
                SetOption(&dict, "rw_timeout", timeoutUs);
            }

            Arm(options.OpenTimeout);
            int rc;
            using (var address = new Utf8(_url.Address))
            {
                var format = _format;
                rc = avformat_open_input(&format, address.Pointer, null, &dict);
                _format = format; // FFmpeg frees the context and writes NULL on failure
            }

            Check(rc, "open", options.OpenTimeout);
            Check(avformat_find_stream_info(_format, null), "read stream headers of", options.OpenTimeout);
        }
        finally
        {
            av_dict_free(&dict);
        }

        void* codec = null;
        var index = av_find_best_stream(_format, AvMediaTypeVideo, -1, -1, &codec, 0);
        if (index == AvErrorStreamNotFound)
        {
            throw new VideoSourceException(SourceFailure.NoVideo, $"{_url.Safe} has no video stream");
        }

        if (index == AvErrorDecoderNotFound || codec == null)
        {
            throw new VideoSourceException(SourceFailure.NoVideo, $"{_url.Safe}: no decoder for its video codec in this FFmpeg build");
        }

        Check(index, "find the video stream of", options.OpenTimeout);
        _streamIndex = index;
        var stream = ((byte**)*(byte**)((byte*)_format + layout.FormatStreams))[index];
        var codecpar = *(byte**)(stream + layout.StreamCodecpar);
        var timeBase = *(AvRational*)(stream + layout.StreamTimeBase);
        // Self-check of the layout row: a wrong row reads garbage here instead of crashing later.
        if (*(int*)codecpar != AvMediaTypeVideo || timeBase.Num <= 0 || timeBase.Den <= 0)
        {
            throw new FfmpegUnavailableException(
                $"FFmpeg struct layout check failed for {FfmpegLibrary.Versions} (codec type {*(int*)codecpar}, time base {timeBase.Num}/{timeBase.Den}); supported: {FfmpegVersions.SupportedText}");
        }

        _timeBase = timeBase.ToDouble();
        _codec = avcodec_alloc_context3(codec);
        Check(avcodec_parameters_to_context(_codec, codecpar), "configure the decoder for", options.OpenTimeout);
        void* codecOptions = null;
        try
        {
            SetOption(&codecOptions, "threads", options.DecoderThreads.ToString(CultureInfo.InvariantCulture));
            if (options.SkipLoopFilter)
            {
                SetOption(&codecOptions, "skip_loop_filter", "all");
            }
            Check(avcodec_open2(_codec, codec, &codecOptions), "open the decoder for", options.OpenTimeout);
        }
        finally
        {
            av_dict_free(&codecOptions);
        }

        _packet = av_packet_alloc();
        _frame = av_frame_alloc();
        var codecName = Marshal.PtrToStringUTF8((nint)(*(byte**)codec)) ?? "?";
        var fps = av_guess_frame_rate(_format, stream, null).ToDouble();
        Info = new StreamInfo(codecName, *(int*)(codecpar + layout.CodecparWidth), *(int*)(codecpar + layout.CodecparHeight), fps, isLive);
    }

    /// <summary>Decodes up to the next frame. False at the end of the stream (see <see cref="EndReason"/>); throws on a deadline or abort.</summary>
    public bool TryReadFrame(TimeSpan readTimeout, out DecodedFrame frame)
    {
        var layout = _layout;
        while (true)
        {
            var received = avcodec_receive_frame(_codec, _frame);
            if (received == 0)
            {
                var pts = *(long*)((byte*)_frame + layout.FramePts);
                CountLeftOut(pts);
                frame = new DecodedFrame(
                    *(int*)((byte*)_frame + layout.FrameWidth),
                    *(int*)((byte*)_frame + layout.FrameHeight),
                    *(int*)((byte*)_frame + layout.FrameFormat),
                    pts == AvNoPtsValue ? double.NaN : pts * _timeBase);
                return true;
            }

            if (received == AvErrorEof)
            {
                FramesLeftOut += _mayBeLeftOut.Count;
                _mayBeLeftOut.Clear();
                frame = default;
                return false;
            }

            if (received != AvErrorEagain)
            {
                // A decoder that cannot produce frames any more: end the stream rather than spin.
                EndReason = $"decoder error: {ErrorText(received)}";
                frame = default;
                return false;
            }

            if (_draining)
            {
                frame = default;
                return false;
            }

            Arm(readTimeout);
            var read = av_read_frame(_format, _packet);
            // A read can succeed although its deadline fired: RTSP's line reader turns the interrupted socket read into end
            // of stream, and av_read_frame then returns the packet the H.264 parser still held. Taken as data, it armed a
            // fresh deadline and a frozen server was noticed after twice the read timeout.
            if (read < 0 || _interrupt->Fired != 0)
            {
                ThrowIfInterrupted(readTimeout, "reading");
                // Dead RTSP servers report plain EOF; other errors end the stream the same way, with their text kept.
                EndReason = read == AvErrorEof ? "end of stream" : $"read error: {ErrorText(read)}";
                _draining = true;
                avcodec_send_packet(_codec, null);
                continue;
            }

            if (*(int*)((byte*)_packet + layout.PacketStreamIndex) == _streamIndex)
            {
                var packetPts = *(long*)((byte*)_packet + layout.PacketPts);
                var unwanted = UnwantedPacket(packetPts);
                SetSkipFrame(unwanted ? AvDiscardNonRef : AvDiscardDefault);
                if (unwanted)
                {
                    _mayBeLeftOut.Add(packetPts);
                }

                var sent = avcodec_send_packet(_codec, _packet);
                if (sent < 0 && sent != AvErrorEagain)
                {
                    DecodeErrors++;
                }
            }

            av_packet_unref(_packet);
        }
    }

    /// <summary>Frames come out in presentation order, so an unwanted packet stamped before this frame that has not come out never will.</summary>
    private void CountLeftOut(long pts)
    {
        if (_mayBeLeftOut.Count == 0 || pts == AvNoPtsValue)
        {
            return;
        }

        // In place, without a predicate delegate: this runs for every decoded frame while frames are being left out.
        int kept = 0;
        bool sameSeen = false;
        for (int i = 0; i < _mayBeLeftOut.Count; i++)
        {
            long p = _mayBeLeftOut[i];
            if (p < pts)
            {
                FramesLeftOut++;
            }
            else if (p == pts && !sameSeen)
            {
                sameSeen = true;   // this very frame came out: it was decoded after all
            }
            else
            {
                _mayBeLeftOut[kept++] = p;
            }
        }

        _mayBeLeftOut.RemoveRange(kept, _mayBeLeftOut.Count - kept);
    }

    private bool UnwantedPacket(long pts)
    {
        if (pts == AvNoPtsValue || double.IsNaN(SkipNonReferenceBefore))
        {
            return false;
        }

        var seconds = pts * _timeBase;
        return seconds < SkipNonReferenceBefore && seconds >= SkipNonReferenceBefore - SkipJumpGuard;
    }

    /// <summary>AVCodecContext.skip_frame is read per packet by the H.264/HEVC decoders (and copied to frame threads), so it can change between packets.</summary>
    private void SetSkipFrame(int discard)
    {
        if (discard == _skipFrame)
        {
            return;
        }

        // A UTF-8 literal is stored with a terminating zero, so it can be passed as a C string without a copy.
        fixed (byte* name = "skip_frame"u8)
        {
            if (av_opt_set_int(_codec, name, discard, 0) >= 0)
            {
                _skipFrame = discard;
            }
        }
    }

    /// <summary>Converts (and scales) the held frame into <paramref name="target"/>.</summary>
    public void Convert(in DecodedFrame source, VideoFrame target, int swsFlags)
    {
        var layout = _layout;
        var dstFormat = PixelFormats.ToFfmpeg(target.Format);
        _sws = sws_getCachedContext(_sws, source.Width, source.Height, source.PixelFormat, target.Width, target.Height, dstFormat, swsFlags, null, null, null);
        if (_sws == null)
        {
            throw new VideoSourceException(SourceFailure.NoVideo, $"{_url.Safe}: cannot convert pixel format {source.PixelFormat} to {target.Format}");
        }

        var dst = stackalloc byte*[4];
        var dstStride = stackalloc int[4];
        dst[0] = target.Pointer;
        dstStride[0] = target.Stride;
        sws_scale(_sws, (byte**)((byte*)_frame + layout.FrameData), (int*)((byte*)_frame + layout.FrameLinesize), 0, source.Height, dst, dstStride);
    }

    /// <summary>Name of an FFmpeg pixel format, for probe output.</summary>
    public static string PixelFormatName(int format) => Marshal.PtrToStringUTF8((nint)av_get_pix_fmt_name(format)) ?? format.ToString(CultureInfo.InvariantCulture);

    public void Dispose()
    {
        if (_sws != null)
        {
            sws_freeContext(_sws);
            _sws = null;
        }

        fixed (void** frame = &_frame)
        {
            av_frame_free(frame);
        }

        fixed (void** packet = &_packet)
        {
            av_packet_free(packet);
        }

        fixed (void** codec = &_codec)
        {
            avcodec_free_context(codec);
        }

        if (_format != null)
        {
            fixed (void** format = &_format)
            {
                avformat_close_input(format);
            }
        }

        if (_interrupt != null)
        {
            NativeMemory.Free(_interrupt);
        }
    }

    private void InstallInterruptCallback()
    {
        var cls = avformat_get_class();
        using var after = new Utf8(FfmpegLayout.OptionAfterInterrupt);
        using var before = new Utf8(FfmpegLayout.OptionBeforeInterrupt);
        var afterPtr = (byte*)av_opt_ptr(cls, _format, after.Pointer);
        var beforePtr = (byte*)av_opt_ptr(cls, _format, before.Pointer);
        if (afterPtr == null || beforePtr == null)
        {
            throw new FfmpegUnavailableException($"cannot locate AVFormatContext.interrupt_callback in {FfmpegLibrary.Versions}");
        }

        var offset = afterPtr - (byte*)_format - FfmpegLayout.InterruptCallbackSize;
        var expected = ((beforePtr - (byte*)_format) + sizeof(int) + 7) & ~7L;
        if (offset != expected)
        {
            throw new FfmpegUnavailableException($"AVFormatContext.interrupt_callback offsets disagree ({offset} vs {expected}) in {FfmpegLibrary.Versions}");
        }

        var callback = (void**)((byte*)_format + offset);
        callback[0] = (delegate* unmanaged[Cdecl]<void*, int>)&OnInterrupt;
        callback[1] = _interrupt;
    }

    private void Arm(TimeSpan timeout)
    {
        _interrupt->Fired = 0;
        _interrupt->Deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
    }

    private void Check(int rc, string what, TimeSpan timeout)
    {
        if (rc >= 0)
        {
            return;
        }

        ThrowIfInterrupted(timeout, what);
        // RTSP rewrites refused/interrupted handshakes to INVALIDDATA, so the text is a hint, not a diagnosis.
        throw new VideoSourceException(SourceFailure.OpenFailed, $"cannot {what} {_url.Safe}: {ErrorText(rc)}");
    }

    private void ThrowIfInterrupted(TimeSpan timeout, string what)
    {
        if (Volatile.Read(ref _interrupt->Abort) != 0)
        {
            throw new OperationCanceledException($"{what} {_url.Safe} was stopped");
        }

        if (_interrupt->Fired != 0)
        {
            throw new VideoSourceException(SourceFailure.Timeout, $"{_url.Safe}: no data within {timeout.TotalSeconds:0.#} s while {(what.EndsWith("ing", StringComparison.Ordinal) ? what : "trying to " + what + " it")}");
        }
    }

    private static void SetOption(void** dict, string key, string value)
    {
        using var k = new Utf8(key);
        using var v = new Utf8(value);
        av_dict_set(dict, k.Pointer, v.Pointer, 0);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnInterrupt(void* opaque)
    {
        var state = (InterruptState*)opaque;
        if (Volatile.Read(ref state->Abort) != 0)
        {
            return 1;
        }

        if (Stopwatch.GetTimestamp() > state->Deadline)
        {
            state->Fired = 1;
            return 1;
        }

        return 0;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct InterruptState
    {
        public long Deadline;
        public int Abort;
        public int Fired;
    }
}

/// <summary>Maps engine pixel formats to FFmpeg's by name (the enum numbering is FFmpeg's business).</summary>
internal static unsafe class PixelFormats
{
    private static readonly int[] Codes = Enum.GetValues<PixelFormat>().Select(Lookup).ToArray();

    public static int ToFfmpeg(PixelFormat format) => Codes[(int)format];

    private static int Lookup(PixelFormat format)
    {
        var name = format switch
        {
            PixelFormat.Rgb24 => "rgb24",
            PixelFormat.Bgr24 => "bgr24",
            PixelFormat.Rgba32 => "rgba",
            PixelFormat.Bgra32 => "bgra",
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
        FfmpegLibrary.EnsureLoaded();
        using var n = new Utf8(name);
        return av_get_pix_fmt(n.Pointer);
    }
}
