using FaceStream.Watchlist.Store;
using FaceStream.Worker.Configuration;
using Prometheus;
using StackExchange.Redis;

namespace FaceStream.Worker.Review;

/// <summary>
/// What the review API and console read and write: the recent events (this worker's ring, or the Redis Stream when
/// events go there), the snapshots the events refer to, the verdicts and audit log, and the feedback counter.
/// </summary>
public sealed class ReviewServices : IAsyncDisposable
{
    private readonly string? _snapshotRoot;
    private readonly IConnectionMultiplexer? _events;

    private ReviewServices(RecentEventsSink recent, IEventHistory history, IReviewStore store, string? snapshotRoot, IConnectionMultiplexer? events, CollectorRegistry registry)
    {
        Recent = recent;
        History = history;
        Store = store;
        _snapshotRoot = snapshotRoot;
        _events = events;
        FeedbackGiven = Prometheus.Metrics.WithCustomRegistry(registry).CreateCounter("facestream_feedback_total", "Verdicts given on alerts in the review console or API, by verdict.", "verdict");
        foreach (var verdict in Feedback.Verdicts)
        {
            FeedbackGiven.WithLabels(verdict);
        }
    }

    /// <summary>The event sink that keeps this worker's recent events (add it to the pipeline's sinks).</summary>
    public RecentEventsSink Recent { get; }

    public IEventHistory History { get; }

    public IReviewStore Store { get; }

    public Counter FeedbackGiven { get; }

    /// <summary>Builds them from the settings: Redis connections where the events (stream, snapshots) or the watchlist live in Redis.</summary>
    public static ReviewServices Create(WorkerSettings settings, CollectorRegistry registry)
    {
        var o = settings.Events;
        var recent = new RecentEventsSink(settings.Api.RecentEvents);
        IConnectionMultiplexer? events = null;
        IEventHistory history = recent;
        if (o.RedisStream.Enabled || o.Snapshots.RedisTtl > TimeSpan.Zero)
        {
            // The same address the sinks publish to (EventSinks.FromSettings has checked it is Redis).
            var uri = WatchlistUri.Parse(o.RedisStream.Uri.Length > 0 ? o.RedisStream.Uri : settings.Watchlist.Uri);
            events = uri.ConnectRedis();
            if (o.RedisStream.Enabled)
            {
                history = new RedisStreamHistory(events, o.RedisStream.Key, uri.Safe);
            }
        }

        var watchlist = WatchlistUri.Parse(settings.Watchlist.Uri);
        IReviewStore store = watchlist.IsMemory ? new MemoryReviewStore() : new RedisReviewStore(watchlist.ConnectRedis(), settings.Watchlist.KeyPrefix, watchlist.Safe);
        string? root = o.Snapshots.Directory.Length > 0 ? Path.GetFullPath(o.Snapshots.Directory) : null;
        return new ReviewServices(recent, history, store, root, events, registry);
    }

    /// <summary>
    /// The JPEG an event's snapshot reference points to, or null when it is gone (retention, TTL) or not one of ours:
    /// only files under Events:Snapshots:Directory and Redis keys facestream:snap:* are read.
    /// </summary>
    public async Task<byte[]?> SnapshotAsync(string reference)
    {
        if (OurFile(reference) is { } path)
        {
            return File.Exists(path) ? await File.ReadAllBytesAsync(path) : null;
        }

        if (OurKey(reference) is { } key)
        {
            var value = await Redis(db => db.StringGetAsync(key));
            return value.HasValue ? (byte[]?)value : null;
        }

        return null;
    }

    /// <summary>
    /// Erases what an event's snapshot reference points to: the face and the frame of that event (the two files
    /// EVENT-face.jpg and EVENT-frame.jpg side by side, or the two Redis keys facestream:snap:EVENT:face|frame), so
    /// nothing of it is left. Only our own files and keys, as <see cref="SnapshotAsync"/>. Answers how many were deleted.
    /// </summary>
    public async Task<int> EraseSnapshotAsync(string reference)
    {
        if (OurFile(reference) is { } path)
        {
            string stem = path[..path.LastIndexOf('-')];
            int deleted = 0;
            foreach (var sibling in new[] { stem + "-face.jpg", stem + "-frame.jpg" }.Where(File.Exists))
            {
                File.Delete(sibling);
                deleted++;
            }

            return deleted;
        }

        if (OurKey(reference) is { } key)
        {
            string stem = key[..key.LastIndexOf(':')];
            return (int)await Redis(db => db.KeyDeleteAsync([stem + ":face", stem + ":frame"]));
        }

        return 0;
    }

    /// <summary>The full path of a file: reference under Events:Snapshots:Directory (EVENT-face.jpg or EVENT-frame.jpg), else null.</summary>
    private string? OurFile(string reference)
    {
        if (!reference.StartsWith("file:", StringComparison.Ordinal) || _snapshotRoot is null || !Uri.TryCreate(reference, UriKind.Absolute, out var uri) || !uri.IsFile)
        {
            return null;
        }

        var path = Path.GetFullPath(uri.LocalPath);
        bool inside = path.StartsWith(_snapshotRoot.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal);
        return inside && (path.EndsWith("-face.jpg", StringComparison.Ordinal) || path.EndsWith("-frame.jpg", StringComparison.Ordinal)) ? path : null;
    }

    /// <summary>The key of a redis:facestream:snap:* reference when events go to Redis, else null.</summary>
    private string? OurKey(string reference) =>
        reference.StartsWith("redis:facestream:snap:", StringComparison.Ordinal) && _events is not null ? reference["redis:".Length..] : null;

    private async Task<T> Redis<T>(Func<IDatabase, Task<T>> call)
    {
        try
        {
            return await call(_events!.GetDatabase());
        }
        catch (RedisException e)
        {
            throw new WatchlistUnavailableException($"snapshot store: {RedisFailure.Describe(e)}", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        if (_events is not null)
        {
            await _events.DisposeAsync();
        }
    }
}
