using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using StackExchange.Redis;

namespace FaceStream.Watchlist.Store;

/// <summary>
/// The shared watchlist in Redis. Keys (prefix "facestream:wl"): <c>:version</c> (INCR on every change),
/// <c>:identities</c> (set of ids), <c>:identity:{id}</c> (hash: name, metadata, created, updated),
/// <c>:templates:{id}</c> (set of template ids), <c>:template:{tid}</c> (hash: identity, model, vector as float32
/// little-endian, quality, created, crop JPEG). Every change is one MULTI/EXEC and is announced on the
/// <c>:changes</c> channel as a <see cref="WatchlistChange"/> (new version, identity, kind).
/// </summary>
public sealed class RedisWatchlistStore : IWatchlistStore
{
    public const string DefaultPrefix = "facestream:wl";

    /// <summary>Commands pipelined at once by a load (see <see cref="Pipelined"/>).</summary>
    private const int PipelineBatch = 4096;

    private readonly IConnectionMultiplexer _redis;
    private readonly string _prefix;
    private readonly WatchlistUri _uri;

    private RedisWatchlistStore(IConnectionMultiplexer redis, WatchlistUri uri, string prefix)
    {
        _redis = redis;
        _uri = uri;
        _prefix = prefix;
    }

    public string Describe => _uri.Safe;

    private IDatabase Db => _redis.GetDatabase();

    private RedisKey VersionKey => $"{_prefix}:version";

    private RedisKey IdentitiesKey => $"{_prefix}:identities";

    private RedisChannel Channel => RedisChannel.Literal($"{_prefix}:changes");

    /// <summary>Connects (or keeps trying in the background when Redis is down: operations then fail with <see cref="WatchlistUnavailableException"/>).</summary>
    public static async Task<RedisWatchlistStore> ConnectAsync(WatchlistUri uri, string prefix = DefaultPrefix) => new(await uri.ConnectRedisAsync(), uri, prefix);

    /// <summary>
    /// <see cref="ConnectAsync"/> for a dependency-injection factory (which cannot await), as Aspire's Redis client
    /// registers its multiplexer: the first attempt waits at most the connect timeout, later ones run in the background.
    /// </summary>
    public static RedisWatchlistStore Connect(WatchlistUri uri, string prefix = DefaultPrefix) => new(uri.ConnectRedis(), uri, prefix);

    public Task<IdentityRecord> CreateIdentityAsync(string name, IReadOnlyDictionary<string, string>? metadata = null, string? id = null, CancellationToken cancel = default) => Guard(async () =>
    {
        var now = DateTimeOffset.UtcNow;
        var record = new IdentityRecord(id ?? WatchlistIds.NewId(), name, metadata ?? new Dictionary<string, string>(), now, now);
        var tran = Db.CreateTransaction();
        tran.AddCondition(Condition.KeyNotExists(IdentityKey(record.Id)));
        _ = tran.HashSetAsync(IdentityKey(record.Id),
        [
            new("name", record.Name),
            new("metadata", JsonSerializer.Serialize(record.Metadata)),
            new("created", Stamp(now)),
            new("updated", Stamp(now)),
        ]);
        _ = tran.SetAddAsync(IdentitiesKey, record.Id);
        var version = tran.StringIncrementAsync(VersionKey);
        if (!await tran.ExecuteAsync())
        {
            throw new ArgumentException($"identity '{record.Id}' already exists");
        }

        await Announce(await version, WatchlistChange.IdentityCreated, record.Id);
        return record;
    });

    public Task<IdentityRecord?> GetIdentityAsync(string id, CancellationToken cancel = default) => Guard(async () =>
    {
        var fields = await Db.HashGetAllAsync(IdentityKey(id));
        return fields.Length == 0 ? null : ToIdentity(id, fields);
    });

    public Task<IReadOnlyList<IdentityRecord>> ListIdentitiesAsync(CancellationToken cancel = default) => Guard(async () =>
    {
        var snapshot = await LoadIdentities();
        return (IReadOnlyList<IdentityRecord>)snapshot.OrderBy(i => i.Name, StringComparer.Ordinal).ToList();
    });

    public Task<bool> DeleteIdentityAsync(string id, CancellationToken cancel = default) => Guard(async () =>
    {
        var templateIds = await Db.SetMembersAsync(TemplatesKey(id));
        var tran = Db.CreateTransaction();
        tran.AddCondition(Condition.KeyExists(IdentityKey(id)));
        _ = tran.KeyDeleteAsync([IdentityKey(id), TemplatesKey(id), .. templateIds.Select(t => TemplateKey(t!))]);
        _ = tran.SetRemoveAsync(IdentitiesKey, id);
        var version = tran.StringIncrementAsync(VersionKey);
        if (!await tran.ExecuteAsync())
        {
            return false;
        }

        await Announce(await version, WatchlistChange.IdentityDeleted, id);
        return true;
    });

    public Task<TemplateRecord> AddTemplateAsync(string identityId, string modelId, float[] vector, float quality, byte[]? crop, CancellationToken cancel = default) => Guard(async () =>
    {
        var template = new TemplateRecord(WatchlistIds.NewId(), identityId, modelId, vector, quality, DateTimeOffset.UtcNow, crop);
        var tran = Db.CreateTransaction();
        tran.AddCondition(Condition.KeyExists(IdentityKey(identityId)));
        _ = tran.HashSetAsync(TemplateKey(template.Id), TemplateFields(template));
        _ = tran.SetAddAsync(TemplatesKey(identityId), template.Id);
        _ = tran.HashSetAsync(IdentityKey(identityId), "updated", Stamp(template.CreatedAt));
        var version = tran.StringIncrementAsync(VersionKey);
        if (!await tran.ExecuteAsync())
        {
            throw new KeyNotFoundException($"identity '{identityId}' does not exist");
        }

        await Announce(await version, WatchlistChange.TemplateAdded, identityId);
        return template;
    });

    public Task<IReadOnlyList<TemplateRecord>> ListTemplatesAsync(string identityId, CancellationToken cancel = default) => Guard(async () =>
    {
        var ids = await Db.SetMembersAsync(TemplatesKey(identityId));
        var loaded = await Task.WhenAll(ids.Select(async t => (Id: (string)t!, Fields: await Db.HashGetAllAsync(TemplateKey(t!)))));
        return (IReadOnlyList<TemplateRecord>)loaded.Where(l => l.Fields.Length > 0).Select(l => ToTemplate(l.Id, l.Fields.ToDictionary(), withCrop: true)).ToList();
    });

    public Task ReplaceTemplateAsync(TemplateRecord template, CancellationToken cancel = default) => Guard(async () =>
    {
        var tran = Db.CreateTransaction();
        tran.AddCondition(Condition.KeyExists(TemplateKey(template.Id)));
        _ = tran.HashSetAsync(TemplateKey(template.Id), TemplateFields(template));
        var version = tran.StringIncrementAsync(VersionKey);
        if (!await tran.ExecuteAsync())
        {
            throw new KeyNotFoundException($"template '{template.Id}' does not exist");
        }

        await Announce(await version, WatchlistChange.TemplateReplaced, template.IdentityId);
        return true;
    });

    public Task<bool> DeleteTemplateAsync(string identityId, string templateId, CancellationToken cancel = default) => Guard(async () =>
    {
        var tran = Db.CreateTransaction();
        tran.AddCondition(Condition.SetContains(TemplatesKey(identityId), templateId));
        _ = tran.KeyDeleteAsync(TemplateKey(templateId));
        _ = tran.SetRemoveAsync(TemplatesKey(identityId), templateId);
        var version = tran.StringIncrementAsync(VersionKey);
        if (!await tran.ExecuteAsync())
        {
            return false;
        }

        await Announce(await version, WatchlistChange.TemplateDeleted, identityId);
        return true;
    });

    public Task<long> GetVersionAsync(CancellationToken cancel = default) => Guard(async () => (long?)await Db.StringGetAsync(VersionKey) ?? 0);

    public Task<WatchlistSnapshot> LoadAllAsync(CancellationToken cancel = default) => Guard(async () =>
    {
        // Version first: a change during the load leaves the cache one version behind, and it reloads at once.
        long version = (long?)await Db.StringGetAsync(VersionKey) ?? 0;
        var identities = await LoadIdentities();
        var db = Db;
        var templateSets = await Task.WhenAll(identities.Select(i => db.SetMembersAsync(TemplatesKey(i.Id))));
        var templates = await LoadTemplates(templateSets.SelectMany(s => s));
        return new WatchlistSnapshot(version, identities, templates);
    });

    public Task<IdentitySnapshot> LoadIdentityAsync(string id, CancellationToken cancel = default) => Guard(async () =>
    {
        var db = Db;
        var fields = db.HashGetAllAsync(IdentityKey(id));
        var templateIds = db.SetMembersAsync(TemplatesKey(id));
        var identity = await fields;
        if (identity.Length == 0)
        {
            return new IdentitySnapshot(id, null, []);
        }

        return new IdentitySnapshot(id, ToIdentity(id, identity), await LoadTemplates(await templateIds));
    });

    public Task SubscribeAsync(Action<WatchlistChange> onChange, CancellationToken cancel = default) => Guard(async () =>
    {
        // One queue for the channel: messages are handed over one at a time, in the order Redis sent them.
        var queue = await _redis.GetSubscriber().SubscribeAsync(Channel);
        queue.OnMessage(message => onChange(WatchlistChange.Parse(message.Message)));
        return true;
    });

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();

    private async Task<List<IdentityRecord>> LoadIdentities()
    {
        var ids = (await Db.SetMembersAsync(IdentitiesKey)).Select(id => (string)id!).ToList();
        var fields = await Pipelined(ids, (batch, id) => batch.HashGetAllAsync(IdentityKey(id)));
        var identities = new List<IdentityRecord>(ids.Count);
        for (int i = 0; i < ids.Count; i++)
        {
            if (fields[i].Length > 0)
            {
                identities.Add(ToIdentity(ids[i], fields[i]));
            }
        }

        return identities;
    }

    /// <summary>
    /// One command per item, pipelined in batches of <see cref="PipelineBatch"/> awaited one after another.
    /// StackExchange.Redis times a command out from when it was written, so 100k commands written at once (a full
    /// resync at 100k templates: ≈ 200 MB of replies) failed the 5 s timeout on a busy 2-core machine.
    /// </summary>
    private async Task<T[]> Pipelined<T>(List<string> items, Func<IBatch, string, Task<T>> command)
    {
        var results = new T[items.Count];
        var db = Db;
        for (int start = 0; start < items.Count; start += PipelineBatch)
        {
            var batch = db.CreateBatch();
            var pending = items.Skip(start).Take(PipelineBatch).Select(item => command(batch, item)).ToList();
            batch.Execute();
            (await Task.WhenAll(pending)).CopyTo(results, start);
        }

        return results;
    }

    /// <summary>The templates (without crops) of the given ids; ids whose hash is gone (deleted meanwhile) are left out.</summary>
    private async Task<List<TemplateRecord>> LoadTemplates(IEnumerable<RedisValue> templateIds)
    {
        var ids = templateIds.Select(t => (string)t!).ToList();
        RedisValue[] fields = ["identity", "model", "vector", "quality", "created"];
        var values = await Pipelined(ids, (batch, t) => batch.HashGetAsync(TemplateKey(t), fields));
        var templates = new List<TemplateRecord>(ids.Count);
        for (int i = 0; i < ids.Count; i++)
        {
            if (!values[i][0].IsNull)
            {
                templates.Add(ToTemplate(ids[i], fields.Zip(values[i]).ToDictionary(p => p.First, p => p.Second), withCrop: false));
            }
        }

        return templates;
    }

    private async Task Announce(long version, string kind, string identityId) =>
        await _redis.GetSubscriber().PublishAsync(Channel, new WatchlistChange(version, identityId, kind).ToMessage());

    private async Task<T> Guard<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            throw new WatchlistUnavailableException(RedisFailure.IsAuthentication(e)
                ? $"watchlist at {_uri.Safe}: {RedisFailure.Describe(e)}"
                : $"watchlist at {_uri.Safe} is unavailable: {e.GetType().Name}", e);
        }
    }

    private RedisKey IdentityKey(string id) => $"{_prefix}:identity:{id}";

    private RedisKey TemplatesKey(string identityId) => $"{_prefix}:templates:{identityId}";

    private RedisKey TemplateKey(string templateId) => $"{_prefix}:template:{templateId}";

    private static string Stamp(DateTimeOffset t) => t.ToString("O", CultureInfo.InvariantCulture);

    private static HashEntry[] TemplateFields(TemplateRecord t)
    {
        var entries = new List<HashEntry>
        {
            new("identity", t.IdentityId),
            new("model", t.ModelId),
            new("vector", MemoryMarshal.AsBytes(t.Vector.AsSpan()).ToArray()),
            new("quality", t.Quality.ToString("R", CultureInfo.InvariantCulture)),
            new("created", Stamp(t.CreatedAt)),
        };
        if (t.Crop is not null)
        {
            entries.Add(new("crop", t.Crop));
        }

        return entries.ToArray();
    }

    private static IdentityRecord ToIdentity(string id, HashEntry[] fields)
    {
        var f = fields.ToDictionary();
        var metadata = f.TryGetValue("metadata", out var m) && !m.IsNullOrEmpty
            ? JsonSerializer.Deserialize<Dictionary<string, string>>((string)m!) ?? []
            : [];
        return new IdentityRecord(id, (string?)f.GetValueOrDefault("name") ?? id, metadata,
            DateTimeOffset.Parse((string)f["created"]!, CultureInfo.InvariantCulture), DateTimeOffset.Parse((string)f["updated"]!, CultureInfo.InvariantCulture));
    }

    private static TemplateRecord ToTemplate(string id, Dictionary<RedisValue, RedisValue> f, bool withCrop)
    {
        var vector = MemoryMarshal.Cast<byte, float>((byte[])f["vector"]!).ToArray();
        return new TemplateRecord(id, (string)f["identity"]!, (string)f["model"]!, vector,
            float.Parse((string)f["quality"]!, CultureInfo.InvariantCulture), DateTimeOffset.Parse((string)f["created"]!, CultureInfo.InvariantCulture),
            withCrop && f.TryGetValue("crop", out var crop) && !crop.IsNull ? (byte[])crop! : null);
    }
}
