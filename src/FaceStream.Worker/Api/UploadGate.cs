using System.Runtime;

namespace FaceStream.Worker.Api;

/// <summary>
/// Bounds the memory of image uploads: at most N decoded and analysed at once, the rest wait briefly or are told
/// to come back. After a large image, when no other upload is running, the large-object heap is compacted once so
/// the worker returns the decoded frame's pages instead of keeping its peak for good.
/// </summary>
public sealed class UploadGate(int slots, TimeSpan queueTimeout) : IDisposable
{
    /// <summary>Above this many decoded pixels an image is "large" (16 MP: 64 MB of BGRA, on the large-object heap).</summary>
    public const long LargeImagePixels = 16_000_000;

    private readonly SemaphoreSlim _slots = new(slots, slots);
    private int _largeSinceCompaction;

    /// <summary>Seconds a refused client should wait (the Retry-After header).</summary>
    public int RetryAfterSeconds => Math.Max(1, (int)Math.Ceiling(queueTimeout.TotalSeconds));

    /// <summary>A slot for one upload, or null when none freed up within the queue timeout.</summary>
    public async Task<IDisposable?> EnterAsync(CancellationToken cancel) =>
        await _slots.WaitAsync(queueTimeout, cancel) ? new Slot(this) : null;

    /// <summary>Notes that the current upload decoded a large image (compaction then follows when the gate empties).</summary>
    public void NoteLargeImage() => Interlocked.Exchange(ref _largeSinceCompaction, 1);

    private void Leave()
    {
        _slots.Release();
        if (_slots.CurrentCount == slots && Interlocked.Exchange(ref _largeSinceCompaction, 0) == 1)
        {
            // Off the request path: a full blocking collection takes tens of ms with a few hundred MB to compact.
            _ = Task.Run(() =>
            {
                GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            });
        }
    }

    public void Dispose() => _slots.Dispose();

    private sealed class Slot(UploadGate gate) : IDisposable
    {
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0)
            {
                gate.Leave();
            }
        }
    }
}
