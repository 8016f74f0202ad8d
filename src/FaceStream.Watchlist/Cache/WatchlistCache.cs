using System.Collections.Concurrent;
using FaceStream.Core.Matching;
using FaceStream.Watchlist.Store;
using Microsoft.Extensions.Logging;

namespace FaceStream.Watchlist.Cache;

/// <summary>
/// This process's copy of the watchlist as a search index for the running embedder. Kept current by the store's
/// change messages (Redis pub/sub): a message whose version follows the cache's reloads just the identity it names
/// and swaps a new index in (<see cref="GalleryIndex.With"/>: unchanged rows keep their codes); a version gap, a bare
/// version from an older writer or an unreadable message reloads everything, logged with the reason. In case a
/// message was missed, versions are also compared every <c>resyncInterval</c>. When the store is unreachable the last
/// index keeps serving and <see cref="Reachable"/> says so.
/// </summary>
public sealed class WatchlistCache : IAsyncDisposable
{
    private readonly IWatchlistStore _store;
    private readonly string _modelId;
    private readonly int _dimension;
    private readonly TimeSpan _resyncInterval;
    private readonly ILogger _log;
    private readonly bool _incremental;
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly SemaphoreSlim _syncing = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly HashSet<string> _warnedModels = [];
    private readonly ConcurrentQueue<WatchlistChange> _changes = new();
    private readonly Dictionary<string, int> _skipped = new(StringComparer.Ordinal);
    private Task? _loop;
    private long _fullResyncs;
    private long _incrementalUpdates;
    private volatile GalleryIndex _index;
    private long _version = -1;

    /// <param name="incremental">Apply change messages by reloading only the identities they name (off: every change
    /// reloads everything, as before; for comparisons).</param>
    public WatchlistCache(IWatchlistStore store, string modelId, int dimension, TimeSpan resyncInterval, ILogger log, bool incremental = true)
    {
        _incremental = incremental;
        _store = store;
        _modelId = modelId;
        _dimension = dimension;
        _resyncInterval = resyncInterval;
        _log = log;
        _index = GalleryIndex.Empty(modelId, dimension);
    }

    /// <summary>The current index; swapped atomically, so searches never lock.</summary>
    public GalleryIndex Index => _index;

    /// <summary>Store version the index was built from (−1 before the first load).</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>False while the store cannot be reached (the last index keeps serving).</summary>
    public bool Reachable { get; private set; }

    public string? LastError { get; private set; }

    /// <summary>Templates left out because another model (or dimension) made them: never compared silently.</summary>
    public int SkippedTemplates { get; private set; }

    /// <summary>Times the whole watchlist was loaded (the first load included).</summary>
    public long FullResyncs => Interlocked.Read(ref _fullResyncs);

    /// <summary>Index swaps that applied change messages by reloading only the identities they named.</summary>
    public long IncrementalUpdates => Interlocked.Read(ref _incrementalUpdates);

    /// <summary>How long an out-of-order message waits for the ones before it (writers announce after their own
    /// transaction, so two close changes can arrive swapped) before the gap counts as missed.</summary>
    public static TimeSpan GapGrace { get; } = TimeSpan.FromMilliseconds(100);

    public string Store => _store.Describe;

    /// <summary>Raised after every rebuild with the new index.</summary>
    public event Action<GalleryIndex>? Changed;

    /// <summary>After every check of the store, answered or not (<see cref="Reachable"/>, <see cref="Version"/> are current).</summary>
    public event Action? Checked;

    /// <summary>Follows changes and loads once (an unreachable store is logged, not thrown).</summary>
    public async Task StartAsync(CancellationToken cancel = default)
    {
        // Subscribed before the load: a change made during it is then either in the load or in the queue.
        try
        {
            await _store.SubscribeAsync(OnChange, cancel);
        }
        catch (WatchlistUnavailableException e)
        {
            // StackExchange.Redis restores subscriptions on reconnect only for those it made; versions still resync.
            _log.LogWarning("watchlist {Store}: change notifications not subscribed ({Reason}); relying on version checks every {Interval}", _store.Describe, e.Message, _resyncInterval);
        }

        await SyncAsync(force: true, cancel);
        _loop = Task.Run(() => FollowAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Checks the version now and rebuilds if it moved (or always, with <paramref name="force"/>).</summary>
    public async Task<bool> SyncAsync(bool force = false, CancellationToken cancel = default)
    {
        // The follow loop and callers may sync at the same time; one rebuild at a time keeps the state consistent.
        await _syncing.WaitAsync(cancel);
        try
        {
            bool changed = await SyncCoreAsync(force, cancel);
            Checked?.Invoke();
            return changed;
        }
        finally
        {
            _syncing.Release();
        }
    }

    private async Task<bool> SyncCoreAsync(bool force, CancellationToken cancel)
    {
        try
        {
            long version = await _store.GetVersionAsync(cancel);
            if (!force && version == Version)
            {
                MarkReachable();
                return false;
            }

            await ResyncAsync(force ? "requested" : $"store at version {version}, cache at {Version} with no change message to apply", cancel);
            return true;
        }
        catch (WatchlistUnavailableException e)
        {
            Unreachable(e);
            return false;
        }
    }

    /// <summary>Applies the queued change messages: incrementally when their versions follow the cache's, else a full resync.</summary>
    private async Task ApplyChangesAsync(CancellationToken cancel)
    {
        await _syncing.WaitAsync(cancel);
        try
        {
            var received = Drain();
            var (apply, reason) = Plan(received);
            if (reason is not null && reason.StartsWith("version gap", StringComparison.Ordinal))
            {
                // Maybe the missing message is on its way: wait a moment before reloading everything.
                await Task.Delay(GapGrace, cancel);
                (apply, reason) = Plan([.. received, .. Drain()]);
            }

            try
            {
                if (reason is not null)
                {
                    await ResyncAsync(reason, cancel);
                }
                else if (apply.Count > 0)
                {
                    await UpdateAsync(apply, cancel);
                }
            }
            catch (WatchlistUnavailableException e)
            {
                // The version did not move: the next message (a gap then) or version check reloads everything.
                Unreachable(e);
            }

            Checked?.Invoke();
        }
        finally
        {
            _syncing.Release();
        }
    }

    private List<WatchlistChange> Drain()
    {
        var changes = new List<WatchlistChange>();
        while (_changes.TryDequeue(out var change))
        {
            changes.Add(change);
        }

        return changes;
    }

    /// <summary>The changes to apply in order, or why they cannot be (then everything is reloaded); older versions are dropped.</summary>
    private (List<WatchlistChange> Apply, string? FullReason) Plan(List<WatchlistChange> changes)
    {
        long current = Version;
        var apply = new List<WatchlistChange>();
        foreach (var change in changes.OrderBy(c => c.Version))
        {
            if (!_incremental && change.Version > current)
            {
                return (apply, "incremental updates off");
            }

            if (change.Kind == WatchlistChange.Unreadable)
            {
                return (apply, "a change message that could not be read");
            }

            if (change.Version <= current)
            {
                continue;
            }

            if (!change.NamesIdentity)
            {
                return (apply, $"version {change.Version} announced without the identity it changed (kind '{change.Kind}', an older writer?)");
            }

            if (change.Version != current + 1)
            {
                return (apply, $"version gap: cache at {current}, next message for {change.Version}");
            }

            apply.Add(change);
            current = change.Version;
        }

        return (apply, null);
    }

    /// <summary>Reloads the identities the changes name and swaps in an index with just their rows replaced.</summary>
    private async Task UpdateAsync(List<WatchlistChange> changes, CancellationToken cancel)
    {
        var ids = changes.Select(c => c.IdentityId!).Distinct(StringComparer.Ordinal).ToList();
        var loaded = await Task.WhenAll(ids.Select(id => _store.LoadIdentityAsync(id, cancel)));
        var updates = new List<(Identity, IReadOnlyList<float[]>)>(loaded.Length);
        foreach (var snapshot in loaded)
        {
            int skipped = 0;
            IReadOnlyList<float[]> templates = snapshot.Identity is null ? [] : Usable(snapshot.Templates, out skipped);
            _skipped.Remove(snapshot.Id);
            if (snapshot.Identity is not null && skipped > 0)
            {
                _skipped[snapshot.Id] = skipped;
            }

            updates.Add((new Identity(snapshot.Id, snapshot.Identity?.Name ?? snapshot.Id), templates));
        }

        var index = _index.With(updates);
        SkippedTemplates = _skipped.Values.Sum();
        _index = index;
        long version = changes[^1].Version;
        Interlocked.Exchange(ref _version, version);
        Interlocked.Increment(ref _incrementalUpdates);
        MarkReachable();
        _log.LogDebug("watchlist {Store}: version {Version} applied incrementally ({Changes}), {Identities} identities, {Templates} templates",
            _store.Describe, version, string.Join(", ", changes.Select(c => $"{c.Kind} {c.IdentityId}")), index.Identities, index.Templates);
        Changed?.Invoke(index);
    }

    private async Task ResyncAsync(string reason, CancellationToken cancel)
    {
        var snapshot = await _store.LoadAllAsync(cancel);
        Build(snapshot, reason);
        MarkReachable();
    }

    private void Unreachable(WatchlistUnavailableException e)
    {
        if (Reachable || LastError is null)
        {
            _log.LogError("watchlist {Store} unreachable; still serving the last known watchlist (version {Version}, {Identities} identities): {Reason}",
                _store.Describe, Version, _index.Identities, e.Message);
        }

        Reachable = false;
        LastError = e.Message;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _stop.Dispose();
    }

    private void OnChange(WatchlistChange change)
    {
        _changes.Enqueue(change);
        if (_wake.CurrentCount == 0)
        {
            _wake.Release();
        }
    }

    private async Task FollowAsync(CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
        {
            try
            {
                if (await _wake.WaitAsync(_resyncInterval, cancel) || !_changes.IsEmpty)
                {
                    await ApplyChangesAsync(cancel);
                }
                else
                {
                    await SyncAsync(force: false, cancel);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void MarkReachable()
    {
        if (!Reachable && LastError is not null)
        {
            _log.LogInformation("watchlist {Store} reachable again (version {Version})", _store.Describe, Version);
        }

        Reachable = true;
        LastError = null;
    }

    private void Build(WatchlistSnapshot snapshot, string reason)
    {
        var names = snapshot.Identities.ToDictionary(i => i.Id, i => new Identity(i.Id, i.Name), StringComparer.Ordinal);
        var usable = new List<(Identity, float[])>(snapshot.Templates.Count);
        _skipped.Clear();
        foreach (var group in snapshot.Templates.Where(t => names.ContainsKey(t.IdentityId)).GroupBy(t => t.IdentityId, StringComparer.Ordinal))
        {
            var identity = names[group.Key];
            usable.AddRange(Usable(group, out int skipped).Select(v => (identity, v)));
            if (skipped > 0)
            {
                _skipped[group.Key] = skipped;
            }
        }

        var index = new GalleryIndex(_modelId, _dimension, usable);
        int skippedTotal = _skipped.Values.Sum();
        SkippedTemplates = skippedTotal;
        _index = index;
        Interlocked.Exchange(ref _version, snapshot.Version);
        Interlocked.Increment(ref _fullResyncs);
        _log.LogInformation("watchlist {Store}: full resync ({Reason}): version {Version}, {Identities} identities, {Templates} templates{Skipped}",
            _store.Describe, reason, snapshot.Version, index.Identities, index.Templates, skippedTotal > 0 ? $", {skippedTotal} of other models skipped" : "");
        Changed?.Invoke(index);
    }

    /// <summary>The vectors this cache can compare (made by its model); the others are counted and warned about once per model.</summary>
    private List<float[]> Usable(IEnumerable<TemplateRecord> templates, out int skipped)
    {
        var usable = new List<float[]>();
        skipped = 0;
        foreach (var t in templates)
        {
            if (t.ModelId != _modelId || t.Dimension != _dimension)
            {
                skipped++;
                if (_warnedModels.Add(t.ModelId))
                {
                    _log.LogWarning("watchlist: templates made by {Model} are skipped (running {Running}); run `facestream watchlist reembed` to recompute them from their stored crops",
                        t.ModelId, _modelId);
                }

                continue;
            }

            usable.Add(t.Vector);
        }

        return usable;
    }
}
