using System.Globalization;
using System.Text.Json;
using FaceStream.Watchlist.Store;
using FaceStream.Worker.Events;
using StackExchange.Redis;

namespace FaceStream.Worker.Review;

/// <summary>A published event as the review API reads it back: the fields it filters on, and the event's JSON (the wire schema).</summary>
public sealed record RecentEvent(Guid Id, string Kind, string CameraId, string? IdentityId, DateTimeOffset At, string? Snapshot, string Json)
{
    /// <summary>Reads the fields from an event's JSON (<see cref="EventJson"/>); null when it is not one.</summary>
    public static RecentEvent? Parse(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var e = doc.RootElement;
            string? Text(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            if (!Guid.TryParse(Text("event_id"), out var id) || Text("kind") is not { } kind || Text("camera_id") is not { } camera
                || !DateTimeOffset.TryParse(Text("frame_timestamp"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                return null;
            }

            return new RecentEvent(id, kind, camera, Text("identity_id"), at, Text("snapshot"), json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>A filter on recent events: newest first, at most <see cref="Limit"/>; null fields match anything.</summary>
/// <param name="Kinds">Event kinds (match, unknown, camera_state); empty = all.</param>
public sealed record EventQuery(int Limit, string? Camera = null, string? Identity = null, IReadOnlyCollection<string>? Kinds = null, DateTimeOffset? Since = null, DateTimeOffset? Until = null)
{
    public bool Matches(RecentEvent e) =>
        (Camera is null || e.CameraId == Camera) && (Identity is null || e.IdentityId == Identity) && (Kinds is null || Kinds.Count == 0 || Kinds.Contains(e.Kind))
        && (Since is null || e.At >= Since) && (Until is null || e.At < Until);
}

/// <summary>Where the review API reads published events from.</summary>
public interface IEventHistory
{
    /// <summary>Where the events come from, for the API's answers and logs.</summary>
    string Describe { get; }

    Task<IReadOnlyList<RecentEvent>> ListAsync(EventQuery query);

    Task<RecentEvent?> FindAsync(Guid id);
}

/// <summary>The newest events of this worker in a ring (single node): an event sink like the others, read by the review API.</summary>
public sealed class RecentEventsSink(int capacity) : IEventSink, IEventHistory
{
    private readonly RecentEvent?[] _ring = new RecentEvent?[capacity];
    private readonly Lock _lock = new();
    private long _written;

    public string Name => "memory:recent";

    public string Describe => $"this worker's memory (the last {capacity} events)";

    public ValueTask PublishAsync(FaceEvent e, CancellationToken cancel)
    {
        var recent = RecentEvent.Parse(EventJson.Serialize(e));
        lock (_lock)
        {
            _ring[_written % capacity] = recent;
            _written++;
        }

        return ValueTask.CompletedTask;
    }

    public Task<IReadOnlyList<RecentEvent>> ListAsync(EventQuery query) => Task.FromResult<IReadOnlyList<RecentEvent>>(NewestFirst().Where(query.Matches).Take(query.Limit).ToList());

    public Task<RecentEvent?> FindAsync(Guid id) => Task.FromResult(NewestFirst().FirstOrDefault(e => e.Id == id));

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private List<RecentEvent> NewestFirst()
    {
        lock (_lock)
        {
            var list = new List<RecentEvent>((int)Math.Min(_written, capacity));
            for (long i = _written - 1; i >= Math.Max(0, _written - capacity); i--)
            {
                if (_ring[i % capacity] is { } e)
                {
                    list.Add(e);
                }
            }

            return list;
        }
    }
}

/// <summary>
/// The events of every worker, read back from the Redis Stream they publish to (Events:RedisStream), newest first
/// (XREVRANGE in pages); a search looks through the newest <see cref="ScanLimit"/> entries at most.
/// </summary>
public sealed class RedisStreamHistory(IConnectionMultiplexer redis, string key, string safeAddress) : IEventHistory
{
    public const int ScanLimit = 20_000;
    private const int Page = 500;

    public string Describe => $"the Redis stream {safeAddress}/{key}";

    public async Task<IReadOnlyList<RecentEvent>> ListAsync(EventQuery query)
    {
        var found = new List<RecentEvent>();
        await ScanAsync(e =>
        {
            if (query.Matches(e))
            {
                found.Add(e);
            }

            // Older entries cannot be newer than Since: stop there.
            return found.Count < query.Limit && (query.Since is null || e.At >= query.Since);
        });
        return found;
    }

    public async Task<RecentEvent?> FindAsync(Guid id)
    {
        RecentEvent? hit = null;
        await ScanAsync(e =>
        {
            hit = e.Id == id ? e : null;
            return hit is null;
        });
        return hit;
    }

    /// <summary>Hands entries newest first to <paramref name="more"/> until it answers false, the stream ends or <see cref="ScanLimit"/> entries were read.</summary>
    private async Task ScanAsync(Func<RecentEvent, bool> more)
    {
        RedisValue end = "+";
        int scanned = 0;
        try
        {
            while (scanned < ScanLimit)
            {
                var entries = await redis.GetDatabase().StreamRangeAsync(key, "-", end, Page + (scanned == 0 ? 0 : 1), Order.Descending);
                // After the first page, the first entry is the previous page's last (the range is inclusive).
                var fresh = scanned == 0 ? entries : entries.Skip(1).ToArray();
                if (fresh.Length == 0)
                {
                    return;
                }

                foreach (var entry in fresh)
                {
                    scanned++;
                    if (RecentEvent.Parse(entry["event"].ToString()) is { } e && !more(e))
                    {
                        return;
                    }
                }

                end = fresh[^1].Id;
            }
        }
        catch (RedisException e)
        {
            throw new WatchlistUnavailableException($"event stream {safeAddress}/{key}: {RedisFailure.Describe(e)}", e);
        }
    }
}
