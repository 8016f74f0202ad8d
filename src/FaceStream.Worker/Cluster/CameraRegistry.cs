using System.Text.Json;
using FaceStream.Worker.Configuration;
using StackExchange.Redis;

namespace FaceStream.Worker.Cluster;

/// <summary>
/// The cluster's camera list: a Redis hash of camera id → settings (JSON), seeded from the config's Cameras when Redis
/// has none, changed through the camera API, each change announced on a pub/sub channel as the watchlist's are.
/// </summary>
public sealed class CameraRegistry(IConnectionMultiplexer redis, TimeSpan leaseTtl)
{
    // KEYS: cameras hash, version, claims-paused. ARGV: ttl ms, then id, json pairs. Seeds only when the version key is
    // missing (first start, or Redis lost its data); then pauses claims for one TTL so that workers still running cameras
    // from before the loss find their leases gone and stop them before anyone takes them again. 1 when it seeded.
    private const string SeedScript = """
        if redis.call('EXISTS', KEYS[2]) == 1 then
          return 0
        end
        for i = 2, #ARGV, 2 do
          redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1])
        end
        redis.call('INCR', KEYS[2])
        redis.call('SET', KEYS[3], '1', 'PX', ARGV[1])
        return 1
        """;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    private IDatabase Db => redis.GetDatabase();

    /// <summary>The registry's version, or null when it was never seeded or Redis lost its data.</summary>
    public async Task<long?> VersionAsync() => (long?)await Db.StringGetAsync(ClusterKeys.CamerasVersion);

    /// <summary>Writes <paramref name="cameras"/> when the registry does not exist yet; true when it did so.</summary>
    public async Task<bool> SeedAsync(IEnumerable<CameraOptions> cameras)
    {
        var args = new List<RedisValue> { (long)leaseTtl.TotalMilliseconds };
        foreach (var c in cameras)
        {
            args.Add(c.Id);
            args.Add(Serialize(c));
        }

        bool seeded = (long)await Db.ScriptEvaluateAsync(SeedScript, [ClusterKeys.Cameras, ClusterKeys.CamerasVersion, ClusterKeys.ClaimsPaused], args.ToArray()) == 1;
        if (seeded)
        {
            await AnnounceAsync("seeded");
        }

        return seeded;
    }

    /// <summary>Every camera, ordered by id; entries that no longer parse are reported in <paramref name="broken"/> and left out.</summary>
    public async Task<IReadOnlyList<CameraOptions>> ListAsync(ICollection<string>? broken = null)
    {
        var list = new List<CameraOptions>();
        foreach (var entry in await Db.HashGetAllAsync(ClusterKeys.Cameras))
        {
            try
            {
                list.Add(JsonSerializer.Deserialize<CameraOptions>((string)entry.Value!, Json) ?? throw new JsonException("null"));
            }
            catch (JsonException)
            {
                broken?.Add((string)entry.Name!);
            }
        }

        return list.OrderBy(c => c.Id, StringComparer.Ordinal).ToList();
    }

    public async Task<CameraOptions?> GetAsync(string id) =>
        await Db.HashGetAsync(ClusterKeys.Cameras, id) is { IsNullOrEmpty: false } json ? JsonSerializer.Deserialize<CameraOptions>((string)json!, Json) : null;

    /// <summary>Adds or replaces a camera (already validated); true when it is new.</summary>
    public async Task<bool> PutAsync(CameraOptions camera)
    {
        bool created = await Db.HashSetAsync(ClusterKeys.Cameras, camera.Id, Serialize(camera));
        await Db.StringIncrementAsync(ClusterKeys.CamerasVersion);
        await AnnounceAsync("camera " + camera.Id);
        return created;
    }

    /// <summary>Removes a camera; false when there was none with that id.</summary>
    public async Task<bool> DeleteAsync(string id)
    {
        bool deleted = await Db.HashDeleteAsync(ClusterKeys.Cameras, id);
        if (deleted)
        {
            // A camera added again later under this id must not count as taken over from its old owner's lease.
            await Db.HashDeleteAsync(ClusterKeys.Renewals, id);
            await Db.StringIncrementAsync(ClusterKeys.CamerasVersion);
            await AnnounceAsync("camera " + id);
        }

        return deleted;
    }

    /// <summary>Tells every worker to look again now (a change, a hand-over, a worker leaving).</summary>
    public Task AnnounceAsync(string what) => redis.GetSubscriber().PublishAsync(RedisChannel.Literal(ClusterKeys.Changes), what);

    /// <summary>Calls <paramref name="onChange"/> on every announcement (the subscription survives reconnects).</summary>
    public Task SubscribeAsync(Action onChange) => redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(ClusterKeys.Changes), (_, _) => onChange());

    private static string Serialize(CameraOptions c) => JsonSerializer.Serialize(c, Json);
}
