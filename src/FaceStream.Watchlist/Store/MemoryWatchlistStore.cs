namespace FaceStream.Watchlist.Store;

/// <summary>The embedded watchlist: this process only, gone at exit. The default for the demo and single-machine use.</summary>
public sealed class MemoryWatchlistStore : IWatchlistStore
{
    private readonly object _lock = new();
    private readonly Dictionary<string, IdentityRecord> _identities = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<TemplateRecord>> _templates = new(StringComparer.Ordinal);
    private readonly List<Action<WatchlistChange>> _subscribers = [];
    private long _version;

    public string Describe => "memory:";

    public Task<IdentityRecord> CreateIdentityAsync(string name, IReadOnlyDictionary<string, string>? metadata = null, string? id = null, CancellationToken cancel = default)
    {
        var now = DateTimeOffset.UtcNow;
        var record = new IdentityRecord(id ?? WatchlistIds.NewId(), name, metadata ?? new Dictionary<string, string>(), now, now);
        lock (_lock)
        {
            if (!_identities.TryAdd(record.Id, record))
            {
                throw new ArgumentException($"identity '{record.Id}' already exists");
            }

            _templates[record.Id] = [];
        }

        Changed(WatchlistChange.IdentityCreated, record.Id);
        return Task.FromResult(record);
    }

    public Task<IdentityRecord?> GetIdentityAsync(string id, CancellationToken cancel = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_identities.GetValueOrDefault(id));
        }
    }

    public Task<IReadOnlyList<IdentityRecord>> ListIdentitiesAsync(CancellationToken cancel = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<IdentityRecord>>(_identities.Values.OrderBy(i => i.Name, StringComparer.Ordinal).ToList());
        }
    }

    public Task<bool> DeleteIdentityAsync(string id, CancellationToken cancel = default)
    {
        bool removed;
        lock (_lock)
        {
            removed = _identities.Remove(id);
            _templates.Remove(id);
        }

        if (removed)
        {
            Changed(WatchlistChange.IdentityDeleted, id);
        }

        return Task.FromResult(removed);
    }

    public Task<TemplateRecord> AddTemplateAsync(string identityId, string modelId, float[] vector, float quality, byte[]? crop, CancellationToken cancel = default)
    {
        var template = new TemplateRecord(WatchlistIds.NewId(), identityId, modelId, vector, quality, DateTimeOffset.UtcNow, crop);
        lock (_lock)
        {
            if (!_templates.TryGetValue(identityId, out var list))
            {
                throw new KeyNotFoundException($"identity '{identityId}' does not exist");
            }

            list.Add(template);
            _identities[identityId] = _identities[identityId] with { UpdatedAt = template.CreatedAt };
        }

        Changed(WatchlistChange.TemplateAdded, identityId);
        return Task.FromResult(template);
    }

    public Task<IReadOnlyList<TemplateRecord>> ListTemplatesAsync(string identityId, CancellationToken cancel = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<TemplateRecord>>(_templates.TryGetValue(identityId, out var list) ? list.ToList() : []);
        }
    }

    public Task ReplaceTemplateAsync(TemplateRecord template, CancellationToken cancel = default)
    {
        lock (_lock)
        {
            var list = _templates.GetValueOrDefault(template.IdentityId) ?? throw new KeyNotFoundException($"identity '{template.IdentityId}' does not exist");
            int i = list.FindIndex(t => t.Id == template.Id);
            if (i < 0)
            {
                throw new KeyNotFoundException($"template '{template.Id}' does not exist");
            }

            list[i] = template;
        }

        Changed(WatchlistChange.TemplateReplaced, template.IdentityId);
        return Task.CompletedTask;
    }

    public Task<bool> DeleteTemplateAsync(string identityId, string templateId, CancellationToken cancel = default)
    {
        bool removed;
        lock (_lock)
        {
            removed = _templates.TryGetValue(identityId, out var list) && list.RemoveAll(t => t.Id == templateId) > 0;
        }

        if (removed)
        {
            Changed(WatchlistChange.TemplateDeleted, identityId);
        }

        return Task.FromResult(removed);
    }

    public Task<long> GetVersionAsync(CancellationToken cancel = default) => Task.FromResult(Interlocked.Read(ref _version));

    public Task<WatchlistSnapshot> LoadAllAsync(CancellationToken cancel = default)
    {
        lock (_lock)
        {
            return Task.FromResult(new WatchlistSnapshot(_version, _identities.Values.ToList(), _templates.Values.SelectMany(t => t).ToList()));
        }
    }

    public Task<IdentitySnapshot> LoadIdentityAsync(string id, CancellationToken cancel = default)
    {
        lock (_lock)
        {
            return Task.FromResult(new IdentitySnapshot(id, _identities.GetValueOrDefault(id), _templates.TryGetValue(id, out var list) ? list.ToList() : []));
        }
    }

    public Task SubscribeAsync(Action<WatchlistChange> onChange, CancellationToken cancel = default)
    {
        lock (_lock)
        {
            _subscribers.Add(onChange);
        }

        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private void Changed(string kind, string identityId)
    {
        long version = Interlocked.Increment(ref _version);
        Action<WatchlistChange>[] subscribers;
        lock (_lock)
        {
            subscribers = _subscribers.ToArray();
        }

        var change = new WatchlistChange(version, identityId, kind);
        foreach (var s in subscribers)
        {
            s(change);
        }
    }
}
