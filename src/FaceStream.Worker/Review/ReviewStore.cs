using System.Collections.Concurrent;
using System.Text.Json;
using FaceStream.Watchlist.Store;
using StackExchange.Redis;

namespace FaceStream.Worker.Review;

/// <summary>An operator's verdict on an alert: <c>correct</c> or <c>wrong</c>, who gave it and when.</summary>
public sealed record Feedback(Guid EventId, string Verdict, string Who, DateTimeOffset At)
{
    public static readonly string[] Verdicts = ["correct", "wrong"];
}

/// <summary>One line of the audit log: who changed what, when.</summary>
public sealed record AuditEntry(DateTimeOffset At, string Who, string What);

/// <summary>
/// Where verdicts and the audit log are kept: Redis when the watchlist is in Redis (shared by every worker, kept across
/// restarts), else this process's memory.
/// </summary>
public interface IReviewStore : IAsyncDisposable
{
    string Describe { get; }

    /// <summary>Stores (or replaces) the verdict on an event.</summary>
    Task SetFeedbackAsync(Feedback feedback);

    /// <summary>The verdicts given on these events (the others have none).</summary>
    Task<IReadOnlyDictionary<Guid, Feedback>> FeedbackAsync(IReadOnlyCollection<Guid> eventIds);

    Task AuditAsync(AuditEntry entry);

    /// <summary>The newest audit entries first.</summary>
    Task<IReadOnlyList<AuditEntry>> AuditLogAsync(int limit);
}

/// <summary>Verdicts and audit log in memory (single node; gone at restart). The audit log keeps its newest <see cref="MaxAudit"/> lines.</summary>
public sealed class MemoryReviewStore : IReviewStore
{
    public const int MaxAudit = 100_000;

    private readonly ConcurrentDictionary<Guid, Feedback> _feedback = new();
    private readonly LinkedList<AuditEntry> _audit = new();

    public string Describe => "memory";

    public Task SetFeedbackAsync(Feedback feedback)
    {
        _feedback[feedback.EventId] = feedback;
        return Task.CompletedTask;
    }

    public Task<IReadOnlyDictionary<Guid, Feedback>> FeedbackAsync(IReadOnlyCollection<Guid> eventIds) =>
        Task.FromResult<IReadOnlyDictionary<Guid, Feedback>>(eventIds.Distinct().Where(_feedback.ContainsKey).ToDictionary(id => id, id => _feedback[id]));

    public Task AuditAsync(AuditEntry entry)
    {
        lock (_audit)
        {
            _audit.AddFirst(entry);
            if (_audit.Count > MaxAudit)
            {
                _audit.RemoveLast();
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<AuditEntry>> AuditLogAsync(int limit)
    {
        lock (_audit)
        {
            return Task.FromResult<IReadOnlyList<AuditEntry>>(_audit.Take(limit).ToList());
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Verdicts in a Redis hash (PREFIX:feedback, field = event id) and the audit log in a Redis list (PREFIX:audit, newest first, trimmed to <see cref="MemoryReviewStore.MaxAudit"/>).</summary>
public sealed class RedisReviewStore(IConnectionMultiplexer redis, string keyPrefix, string safeAddress) : IReviewStore
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private readonly RedisKey _feedback = $"{keyPrefix}:feedback";
    private readonly RedisKey _audit = $"{keyPrefix}:audit";

    public string Describe => $"{safeAddress} ({keyPrefix}:feedback, {keyPrefix}:audit)";

    public Task SetFeedbackAsync(Feedback feedback) =>
        Call(() => redis.GetDatabase().HashSetAsync(_feedback, feedback.EventId.ToString("N"), JsonSerializer.Serialize(feedback, Web)));

    public Task<IReadOnlyDictionary<Guid, Feedback>> FeedbackAsync(IReadOnlyCollection<Guid> eventIds) => Call(async () =>
    {
        var ids = eventIds.Distinct().ToArray();
        if (ids.Length == 0)
        {
            return (IReadOnlyDictionary<Guid, Feedback>)new Dictionary<Guid, Feedback>();
        }

        var values = await redis.GetDatabase().HashGetAsync(_feedback, ids.Select(id => (RedisValue)id.ToString("N")).ToArray());
        var found = new Dictionary<Guid, Feedback>();
        for (int i = 0; i < ids.Length; i++)
        {
            if (values[i].HasValue && JsonSerializer.Deserialize<Feedback>(values[i].ToString(), Web) is { } f)
            {
                found[ids[i]] = f;
            }
        }

        return found;
    });

    public Task AuditAsync(AuditEntry entry) => Call(async () =>
    {
        var db = redis.GetDatabase();
        await db.ListLeftPushAsync(_audit, JsonSerializer.Serialize(entry, Web));
        await db.ListTrimAsync(_audit, 0, MemoryReviewStore.MaxAudit - 1);
    });

    public Task<IReadOnlyList<AuditEntry>> AuditLogAsync(int limit) => Call(async () =>
    {
        var values = await redis.GetDatabase().ListRangeAsync(_audit, 0, limit - 1);
        return (IReadOnlyList<AuditEntry>)values.Select(v => JsonSerializer.Deserialize<AuditEntry>(v.ToString(), Web)!).ToList();
    });

    public async ValueTask DisposeAsync() => await redis.DisposeAsync();

    /// <summary>Redis failures as the watchlist's "unavailable" (the API answers 503 with Retry-After).</summary>
    private async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (RedisException e)
        {
            throw new WatchlistUnavailableException($"review store {safeAddress}: {RedisFailure.Describe(e)}", e);
        }
    }

    private Task Call(Func<Task> call) => Call(async () =>
    {
        await call();
        return true;
    });
}
