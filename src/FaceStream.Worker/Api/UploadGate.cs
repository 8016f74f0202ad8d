using System.Diagnostics;
using System.Runtime;
using System.Threading.RateLimiting;

namespace FaceStream.Worker.Api;

/// <summary>
/// Bounds the memory of image uploads, one gate for the whole worker (enrollment, analyse and feedback share it): at
/// most N images decoded and analysed at once, and at most a budget of decoded pixels between them, because an
/// upload's memory grows with its pixels (≈ 11 bytes per pixel measured: 0.55 GB for one 48 MP photo,
/// docs/benchmarks.md). So two phone photos run side by side while a 48 MP one runs alone. The rest wait in arrival
/// order (a large photo is not overtaken for ever by small ones) or are told to come back. After a large image, when
/// no other upload is running, the large-object heap is compacted once so the worker returns the decoded frame's
/// pages instead of keeping its peak for good.
/// </summary>
public sealed class UploadGate : IDisposable
{
    /// <summary>Above this many decoded pixels an image is "large" (16 MP: 64 MB of BGRA, on the large-object heap).</summary>
    public const long LargeImagePixels = 16_000_000;

    /// <summary>The pixel budget is counted in permits of this many pixels (the limiter counts in ints).</summary>
    private const long PixelsPerPermit = 100_000;

    // System.Threading.RateLimiting's limiters take several permits in one request and queue in arrival order, which a
    // SemaphoreSlim cannot; one for the count, one for the pixels, always taken in that order.
    private readonly ConcurrencyLimiter _count;
    private readonly ConcurrencyLimiter _pixels;
    private readonly int _pixelPermits;
    private readonly TimeSpan _queueTimeout;
    private int _inside;
    private int _largeSinceCompaction;

    public UploadGate(int slots, long pixelBudget, TimeSpan queueTimeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pixelBudget, PixelsPerPermit);
        _pixelPermits = (int)Math.Min(int.MaxValue, pixelBudget / PixelsPerPermit);
        _queueTimeout = queueTimeout;
        _count = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = slots, QueueLimit = int.MaxValue, QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        _pixels = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = _pixelPermits, QueueLimit = int.MaxValue, QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>Seconds a refused client should wait (the Retry-After header).</summary>
    public int RetryAfterSeconds => Math.Max(1, (int)Math.Ceiling(_queueTimeout.TotalSeconds));

    /// <summary>
    /// A place for one upload of <paramref name="pixels"/> decoded pixels (null = unknown: it takes the whole budget; an
    /// image larger than the budget runs alone), or null when none freed up within the queue timeout.
    /// </summary>
    public async Task<IDisposable?> EnterAsync(long? pixels, CancellationToken cancel)
    {
        int permits = pixels is { } p ? (int)Math.Clamp((p + PixelsPerPermit - 1) / PixelsPerPermit, 1, _pixelPermits) : _pixelPermits;
        long start = Stopwatch.GetTimestamp();
        if (await AcquireAsync(_count, 1, _queueTimeout, cancel) is not { } count)
        {
            return null;
        }

        RateLimitLease? budget;
        try
        {
            budget = await AcquireAsync(_pixels, permits, _queueTimeout - Stopwatch.GetElapsedTime(start), cancel);
        }
        catch
        {
            count.Dispose();
            throw;
        }

        if (budget is null)
        {
            count.Dispose();
            return null;
        }

        Interlocked.Increment(ref _inside);
        if (pixels is null or > LargeImagePixels)
        {
            Interlocked.Exchange(ref _largeSinceCompaction, 1);
        }

        return new Place(this, count, budget);
    }

    /// <summary>An acquired lease, at once when the permits are free and nobody queues before us, else after waiting up to <paramref name="wait"/>; null when none came in time.</summary>
    private static async ValueTask<RateLimitLease?> AcquireAsync(ConcurrencyLimiter limiter, int permits, TimeSpan wait, CancellationToken cancel)
    {
        var lease = limiter.AttemptAcquire(permits);
        if (lease.IsAcquired)
        {
            return lease;
        }

        lease.Dispose();
        if (wait <= TimeSpan.Zero)
        {
            return null;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(wait);
        try
        {
            lease = await limiter.AcquireAsync(permits, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            // The queue timeout, not the client: the caller answers 429 with Retry-After.
            return null;
        }

        if (lease.IsAcquired)
        {
            return lease;
        }

        lease.Dispose();
        return null;
    }

    private void Leave(RateLimitLease count, RateLimitLease budget)
    {
        budget.Dispose();
        count.Dispose();
        if (Interlocked.Decrement(ref _inside) == 0 && Interlocked.Exchange(ref _largeSinceCompaction, 0) == 1)
        {
            // Off the request path: a full blocking collection takes tens of ms with a few hundred MB to compact.
            _ = Task.Run(() =>
            {
                GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            });
        }
    }

    public void Dispose()
    {
        _pixels.Dispose();
        _count.Dispose();
    }

    private sealed class Place(UploadGate gate, RateLimitLease count, RateLimitLease budget) : IDisposable
    {
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0)
            {
                gate.Leave(count, budget);
            }
        }
    }
}
