using StackExchange.Redis;

namespace FaceStream.Worker.Cluster;

/// <summary>A live worker and the number of cameras it owned at its last heartbeat.</summary>
public readonly record struct LiveWorker(string Id, int Cameras);

/// <summary>
/// Heartbeats: each worker puts itself in a sorted set scored by when its heartbeat expires (Redis server time, so
/// the workers' clocks do not matter) with its load; whoever beats next drops the expired ones. Leaving removes it at once.
/// </summary>
public sealed class ClusterMembership(IDatabase db, string workerId, TimeSpan ttl)
{
    // KEYS: workers zset, load hash. ARGV: id, ttl ms, cameras owned. Returns id1, load1, id2, load2, ... of the live workers.
    private const string HeartbeatScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
        for _, id in ipairs(dead) do
          redis.call('HDEL', KEYS[2], id)
        end
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
        local live = redis.call('ZRANGE', KEYS[1], 0, -1)
        local out = {}
        for _, id in ipairs(live) do
          table.insert(out, id)
          table.insert(out, redis.call('HGET', KEYS[2], id) or '0')
        end
        return out
        """;

    private readonly long _ttlMs = (long)ttl.TotalMilliseconds;

    /// <summary>Says this worker is alive and owns <paramref name="cameras"/>; returns the live workers (this one included), ordered by id.</summary>
    public async Task<IReadOnlyList<LiveWorker>> HeartbeatAsync(int cameras)
    {
        var result = (RedisResult[])(await db.ScriptEvaluateAsync(HeartbeatScript, [ClusterKeys.Workers, ClusterKeys.WorkerLoad], [workerId, _ttlMs, cameras]))!;
        var live = new List<LiveWorker>(result.Length / 2);
        for (int i = 0; i + 1 < result.Length; i += 2)
        {
            live.Add(new LiveWorker((string)result[i]!, int.TryParse((string?)result[i + 1], out var n) ? n : 0));
        }

        return live.OrderBy(w => w.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>Leaves the cluster at once (graceful stop): the others recount without waiting for the heartbeat to expire.</summary>
    public async Task LeaveAsync()
    {
        await db.SortedSetRemoveAsync(ClusterKeys.Workers, workerId);
        await db.HashDeleteAsync(ClusterKeys.WorkerLoad, workerId);
    }
}
