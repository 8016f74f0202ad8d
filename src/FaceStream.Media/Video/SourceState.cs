namespace FaceStream.Media.Video;

/// <summary>Where a source is in its life: connecting → streaming → stalled → reconnecting → connecting …; files end in Completed.</summary>
public enum SourceState
{
    Idle,
    Connecting,
    Streaming,

    /// <summary>No packet within the read timeout; a reconnect follows.</summary>
    Stalled,

    /// <summary>Disconnected or failed to connect; waiting out the back-off before the next attempt.</summary>
    Reconnecting,

    /// <summary>A file reached its end.</summary>
    Completed,

    /// <summary>A file could not be opened or read; files are not retried.</summary>
    Failed,

    /// <summary>Stopped by its owner.</summary>
    Stopped,
}

/// <summary>One transition, with a reason an operator can act on (never containing a password).</summary>
public sealed record SourceStateChange(string CameraId, SourceState From, SourceState To, string Reason, DateTimeOffset At);

/// <summary>Counters of one source, readable from any thread while it runs.</summary>
public sealed class VideoSourceStats
{
    private long _decoded;
    private long _leftOut;
    private long _delivered;
    private long _dropped;
    private long _reconnects;
    private long _decodeErrors;
    private long _lastFrameTicks;

    /// <summary>Frames decoded (all of them, analysed or not).</summary>
    public long FramesDecoded => Volatile.Read(ref _decoded);

    /// <summary>Frames not decoded at all: not due for analysis, and no other frame refers to them (<see cref="VideoSourceOptions.SkipNonReferenceFrames"/>).</summary>
    public long FramesLeftOut => Volatile.Read(ref _leftOut);

    /// <summary>Frames converted and handed on.</summary>
    public long FramesDelivered => Volatile.Read(ref _delivered);

    /// <summary>Frames a live source could not hand on because the consumer was full (a drop-oldest channel counts its own).</summary>
    public long FramesDropped => Volatile.Read(ref _dropped);

    /// <summary>Times the source lost its stream and started over.</summary>
    public long Reconnects => Volatile.Read(ref _reconnects);

    /// <summary>Packets the decoder rejected.</summary>
    public long DecodeErrors => Volatile.Read(ref _decodeErrors);

    /// <summary>Wall-clock time of the last decoded frame; null before the first.</summary>
    public DateTimeOffset? LastFrameAt
    {
        get
        {
            var ticks = Volatile.Read(ref _lastFrameTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    internal void Decoded(DateTimeOffset at)
    {
        Interlocked.Increment(ref _decoded);
        Volatile.Write(ref _lastFrameTicks, at.UtcTicks);
    }

    internal void LeftOut(long count) => Interlocked.Add(ref _leftOut, count);

    internal void Delivered() => Interlocked.Increment(ref _delivered);

    internal void Dropped() => Interlocked.Increment(ref _dropped);

    internal void Reconnected() => Interlocked.Increment(ref _reconnects);

    internal void DecodeErrorsSeen(long count) => Interlocked.Add(ref _decodeErrors, count);
}
