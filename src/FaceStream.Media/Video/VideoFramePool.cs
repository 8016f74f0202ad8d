using System.Collections.Concurrent;
using FaceStream.Core.Imaging;

namespace FaceStream.Media.Video;

/// <summary>Recycles frame buffers so that a running camera allocates nothing per frame; shared by all sources of a process.</summary>
public sealed class VideoFramePool : IDisposable
{
    private readonly ConcurrentBag<VideoFrame> _idle = [];
    private readonly int _maxIdle;
    private long _allocated;
    private long _outstanding;
    private volatile bool _disposed;

    /// <param name="maxIdle">Buffers kept for reuse; more are freed on return (a burst must not pin memory forever).</param>
    public VideoFramePool(int maxIdle = 64) => _maxIdle = maxIdle;

    /// <summary>Buffers ever allocated: flat in steady state.</summary>
    public long Allocated => Interlocked.Read(ref _allocated);

    /// <summary>Frames handed out and not yet disposed: a leak shows as growth here.</summary>
    public long Outstanding => Interlocked.Read(ref _outstanding);

    internal VideoFrame Rent(int width, int height, PixelFormat format)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var needed = VideoFrame.StrideFor(width, format) * height;
        VideoFrame? frame = null;
        var tries = _idle.Count;
        while (tries-- > 0 && _idle.TryTake(out var candidate))
        {
            if (candidate.Capacity >= needed)
            {
                frame = candidate;
                break;
            }

            // Too small for this size (the camera changed resolution): let it go.
            candidate.Free();
        }

        if (frame is null)
        {
            frame = new VideoFrame(this, needed);
            Interlocked.Increment(ref _allocated);
        }

        frame.TryRent();
        Interlocked.Increment(ref _outstanding);
        return frame;
    }

    internal void Return(VideoFrame frame)
    {
        Interlocked.Decrement(ref _outstanding);
        if (_disposed || _idle.Count >= _maxIdle)
        {
            frame.Free();
            return;
        }

        _idle.Add(frame);
    }

    /// <summary>Frees idle buffers; frames still out are freed when they come back.</summary>
    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryTake(out var frame))
        {
            frame.Free();
        }
    }
}
