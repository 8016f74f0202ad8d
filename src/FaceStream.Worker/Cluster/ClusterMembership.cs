using System.Globalization;
using StackExchange.Redis;

namespace FaceStream.Worker.Cluster;

/// <summary>A live worker, the number of cameras it owned at its last heartbeat and its weight in the fair share (Cluster:Capacity).</summary>
public readonly record struct LiveWorker(string Id, int Cameras, double Capacity = 1);

/// <summary>
/// Heartbeats: each worker puts itself in a sorted set scored by when its heartbeat expires (Redis server time, so
/// the workers' clocks do not matter) with its load and capacity; whoever beats next drops the expired ones. Leaving removes it at once.
/// </summary>
public sealed class ClusterMembership(IDatabase db, string workerId, TimeSpan ttl, double capacity = 1)
{
    // KEYS: workers zset, load hash, capacity hash. ARGV: id, ttl ms, cameras owned, capacity. Returns id1, load1,
    // capacity1, id2, ... of the live workers (a worker of a version without capacities counts 1).
    private const string HeartbeatScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
        for _, id in ipairs(dead) do
          redis.call('HDEL', KEYS[2], id)
          redis.call('HDEL', KEYS[3], id)
        end
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
        redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
        local live = redis.call('ZRANGE', KEYS[1], 0, -1)
        local out = {}
        for _, id in ipairs(live) do
          table.insert(out, id)
          table.insert(out, redis.call('HGET', KEYS[2], id) or '0')
          table.insert(out, redis.call('HGET', KEYS[3], id) or '1')
        end
        return out
        """;

    private readonly long _ttlMs = (long)ttl.TotalMilliseconds;

    /// <summary>Says this worker is alive, owns <paramref name="cameras"/> and has its capacity; returns the live workers (this one included), ordered by id.</summary>
    public async Task<IReadOnlyList<LiveWorker>> HeartbeatAsync(int cameras)
    {
        var result = (RedisResult[])(await db.ScriptEvaluateAsync(HeartbeatScript, [ClusterKeys.Workers, ClusterKeys.WorkerLoad, ClusterKeys.WorkerCapacity],
            [workerId, _ttlMs, cameras, capacity.ToString("R", CultureInfo.InvariantCulture)]))!;
        var live = new List<LiveWorker>(result.Length / 3);
        for (int i = 0; i + 2 < result.Length; i += 3)
        {
            var weight = double.TryParse((string?)result[i + 2], NumberStyles.Float, CultureInfo.InvariantCulture, out var c) && c > 0 ? c : 1;
            live.Add(new LiveWorker((string)result[i]!, int.TryParse((string?)result[i + 1], out var n) ? n : 0, weight));
        }

        return live.OrderBy(w => w.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>Leaves the cluster at once (graceful stop): the others recount without waiting for the heartbeat to expire.</summary>
    public async Task LeaveAsync()
    {
        await db.SortedSetRemoveAsync(ClusterKeys.Workers, workerId);
        await db.HashDeleteAsync(ClusterKeys.WorkerLoad, workerId);
        await db.HashDeleteAsync(ClusterKeys.WorkerCapacity, workerId);
    }
}

/// <summary>How many cameras a worker should own: its part of the cameras by capacity, rounded down and up.</summary>
public static class FairShare
{
    /// <summary>⌊cameras × capacity ÷ total⌋ and ⌈cameras × capacity ÷ total⌉, the total being the capacities of the live workers (this one's included).</summary>
    public static (int Floor, int Ceiling) Of(int cameras, double capacity, double totalCapacity)
    {
        double exact = cameras * capacity / totalCapacity;
        // A hair of tolerance for doubles: 6 × 0.1 ÷ 0.3 is 2.0000000000000004 and must be a share of 2, not 3.
        return ((int)Math.Floor(exact + 1e-9), Math.Min(cameras, (int)Math.Ceiling(exact - 1e-9)));
    }
}
