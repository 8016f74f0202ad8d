using System.Buffers;
using System.Runtime.InteropServices;
using FaceStream.Core.Imaging;

namespace FaceStream.Media.Video;

/// <summary>One decoded, converted frame in a pooled native buffer. Dispose it (or let the channel's drop callback do so) to return the buffer.</summary>
public sealed unsafe class VideoFrame : IDisposable
{
    // Rows start on cache-line boundaries: swscale's SIMD paths want aligned destinations.
    internal const int RowAlignment = 64;

    private readonly VideoFramePool _pool;
    private readonly NativeBuffer _buffer;
    private ImageFrame? _image;
    private int _rented;

    internal VideoFrame(VideoFramePool pool, int capacity)
    {
        _pool = pool;
        _buffer = new NativeBuffer(capacity);
    }

    /// <summary>Camera id from the source options.</summary>
    public string CameraId { get; private set; } = "";

    /// <summary>Position among delivered frames of this source, from 0; gaps never occur, dropped frames downstream leave them.</summary>
    public long Sequence { get; private set; }

    /// <summary>Frames decoded by the source up to this one, from 1 (sequence counts only the converted ones).</summary>
    public long DecodedIndex { get; private set; }

    /// <summary>Live: wall-clock capture time (from the stream's clock, anchored at arrival). Files: open time + media time.</summary>
    public DateTimeOffset Timestamp { get; private set; }

    /// <summary>Files: position in the media. Live: time since the source's first frame.</summary>
    public TimeSpan MediaTime { get; private set; }

    /// <summary><see cref="System.Diagnostics.Stopwatch"/> timestamp of delivery by the source, for frame-to-decision latency.</summary>
    public long DeliveredTicks { get; private set; }

    public int Width { get; private set; }

    public int Height { get; private set; }

    /// <summary>Bytes between row starts.</summary>
    public int Stride { get; private set; }

    public PixelFormat Format { get; private set; }

    internal int Capacity => _buffer.Length;

    internal byte* Pointer => _buffer.Pointer;

    /// <summary>The pixels (valid until disposed).</summary>
    public ReadOnlyMemory<byte> Pixels => _buffer.Memory[..(Stride * Height)];

    /// <summary>The frame as an engine image; the same object for the frame's lifetime, so analysis allocates nothing per frame.</summary>
    public ImageFrame Image => _image ??= new ImageFrame(Width, Height, Stride, Format, Pixels);

    internal static int StrideFor(int width, PixelFormat format) =>
        ((width * format.BytesPerPixel()) + RowAlignment - 1) / RowAlignment * RowAlignment;

    internal void Describe(string cameraId, long sequence, long decodedIndex, DateTimeOffset timestamp, TimeSpan mediaTime, int width, int height, PixelFormat format)
    {
        var stride = StrideFor(width, format);
        if (_image is null || Width != width || Height != height || Format != format)
        {
            _image = null;
        }

        (CameraId, Sequence, DecodedIndex, Timestamp, MediaTime, Width, Height, Stride, Format) =
            (cameraId, sequence, decodedIndex, timestamp, mediaTime, width, height, stride, format);
        DeliveredTicks = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    internal bool TryRent() => Interlocked.Exchange(ref _rented, 1) == 0;

    /// <summary>Returns the buffer to the pool; a second call does nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _rented, 0) == 1)
        {
            _pool.Return(this);
        }
    }

    internal void Free() => ((IDisposable)_buffer).Dispose();

    /// <summary>64-byte aligned native memory exposed as <see cref="Memory{T}"/>.</summary>
    private sealed class NativeBuffer : MemoryManager<byte>
    {
        private byte* _ptr;

        public NativeBuffer(int length)
        {
            Length = length;
            _ptr = (byte*)NativeMemory.AlignedAlloc((nuint)length, RowAlignment);
        }

        public int Length { get; }

        public byte* Pointer => _ptr;

        public override Span<byte> GetSpan() => new(_ptr, Length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(_ptr + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
            if (_ptr != null)
            {
                NativeMemory.AlignedFree(_ptr);
                _ptr = null;
            }
        }
    }
}
