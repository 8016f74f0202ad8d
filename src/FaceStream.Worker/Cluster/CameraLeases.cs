using StackExchange.Redis;

namespace FaceStream.Worker.Cluster;

/// <summary>A lease just taken (or already held): its epoch, and for a lease that expired unreleased, how long ago its holder last renewed it.</summary>
/// <param name="SinceLastRenewal">The camera's previous lease ran out without a release (its worker died, hung or lost Redis): the time from
/// that lease's last renewal to this grant, by Redis' clock. Null when the camera was free (released, new) or the lease already this worker's.</param>
public readonly record struct LeaseGrant(long Epoch, TimeSpan? SinceLastRenewal);

/// <summary>
/// One lease per camera: a Redis string "owner|epoch" with a TTL. Taking it (SET NX PX) increments the camera's fencing
/// counter, whose value (the epoch) goes into the camera's events; renewing and releasing compare the whole value, so a
/// worker whose lease expired (paused, cut off) can neither extend nor delete its successor's. Beside the leases a hash
/// holds each held lease's last renewal (Redis time, ms); a release deletes the entry, so an entry found when a lease is
/// taken means the previous one expired: the take-over time starts there.
/// </summary>
public sealed class CameraLeases(IDatabase db, string workerId, TimeSpan ttl)
{
    // KEYS: lease, epoch counter, claims-paused flag, renewals hash. ARGV: owner, ttl ms, camera. Returns {epoch held, ms
    // since the expired previous lease's last renewal or -1}; epoch 0 when another worker holds it (or claims are paused).
    // A missing counter (new camera, or Redis lost its data) starts at the server's time in ms, so epochs keep growing
    // across a Redis restart without persistence.
    private const string AcquireScript = """
        local t = redis.call('TIME')
        local now = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
        local v = redis.call('GET', KEYS[1])
        if v then
          local sep = string.find(v, '|', 1, true)
          if string.sub(v, 1, sep - 1) == ARGV[1] then
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            redis.call('HSET', KEYS[4], ARGV[3], now)
            return {tonumber(string.sub(v, sep + 1)), -1}
          end
          return {0, -1}
        end
        if redis.call('EXISTS', KEYS[3]) == 1 then
          return {0, -1}
        end
        if redis.call('EXISTS', KEYS[2]) == 0 then
          redis.call('SET', KEYS[2], now)
        end
        local epoch = redis.call('INCR', KEYS[2])
        redis.call('SET', KEYS[1], ARGV[1] .. '|' .. epoch, 'NX', 'PX', ARGV[2])
        local last = redis.call('HGET', KEYS[4], ARGV[3])
        redis.call('HSET', KEYS[4], ARGV[3], now)
        if last then
          return {epoch, tonumber(now) - tonumber(last)}
        end
        return {epoch, -1}
        """;

    // KEYS: lease, renewals hash. ARGV: "owner|epoch", ttl ms, camera. 1 when still ours (extended), else 0.
    private const string RenewScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
          local t = redis.call('TIME')
          redis.call('HSET', KEYS[2], ARGV[3], t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000)))
          return 1
        end
        return 0
        """;

    // KEYS: lease, renewals hash. ARGV: "owner|epoch", camera. 1 when it was ours (deleted), else 0.
    private const string ReleaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('DEL', KEYS[1])
          redis.call('HDEL', KEYS[2], ARGV[2])
          return 1
        end
        return 0
        """;

    private readonly long _ttlMs = (long)ttl.TotalMilliseconds;

    public string WorkerId { get; } = workerId;

    /// <summary>The epoch of the lease now held by this worker (new or already ours), or null when another worker holds it.</summary>
    public async Task<long?> TryAcquireAsync(string camera) => (await TryTakeAsync(camera))?.Epoch;

    /// <summary>The lease now held by this worker (new or already ours), or null when another worker holds it (or claims are paused).</summary>
    public async Task<LeaseGrant?> TryTakeAsync(string camera)
    {
        var reply = (RedisResult[])(await db.ScriptEvaluateAsync(AcquireScript, [ClusterKeys.Lease(camera), ClusterKeys.Epoch(camera), ClusterKeys.ClaimsPaused, ClusterKeys.Renewals],
            [WorkerId, _ttlMs, camera]))!;
        long epoch = (long)reply[0], sinceMs = (long)reply[1];
        return epoch > 0 ? new LeaseGrant(epoch, sinceMs >= 0 ? TimeSpan.FromMilliseconds(sinceMs) : null) : null;
    }

    /// <summary>Extends the lease; false when it is no longer this worker's with this epoch (expired, taken over).</summary>
    public async Task<bool> RenewAsync(string camera, long epoch) =>
        (long)await db.ScriptEvaluateAsync(RenewScript, [ClusterKeys.Lease(camera), ClusterKeys.Renewals], [Value(epoch), _ttlMs, camera]) == 1;

    /// <summary>Gives the lease up at once (a hand-over); false when it was not this worker's any more.</summary>
    public async Task<bool> ReleaseAsync(string camera, long epoch) =>
        (long)await db.ScriptEvaluateAsync(ReleaseScript, [ClusterKeys.Lease(camera), ClusterKeys.Renewals], [Value(epoch), camera]) == 1;

    /// <summary>Who holds the camera's lease now, with which epoch; null when nobody does.</summary>
    public async Task<(string Owner, long Epoch)?> HolderAsync(string camera) => Parse(await db.StringGetAsync(ClusterKeys.Lease(camera)));

    /// <summary>The holders of many cameras in one round trip.</summary>
    public async Task<IReadOnlyDictionary<string, (string Owner, long Epoch)>> HoldersAsync(IReadOnlyList<string> cameras)
    {
        var values = await db.StringGetAsync(cameras.Select(c => (RedisKey)ClusterKeys.Lease(c)).ToArray());
        var holders = new Dictionary<string, (string, long)>(StringComparer.Ordinal);
        for (int i = 0; i < cameras.Count; i++)
        {
            if (Parse(values[i]) is { } h)
            {
                holders[cameras[i]] = h;
            }
        }

        return holders;
    }

    private string Value(long epoch) => $"{WorkerId}|{epoch}";

    private static (string Owner, long Epoch)? Parse(RedisValue value)
    {
        if (value.IsNullOrEmpty)
        {
            return null;
        }

        string s = value!;
        int sep = s.LastIndexOf('|');
        return sep > 0 && long.TryParse(s.AsSpan(sep + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var epoch)
            ? (s[..sep], epoch)
            : null;
    }
}
