using FaceStream.Core.Matching;
using FaceStream.Watchlist.Store;
using Microsoft.Extensions.Logging;

namespace FaceStream.Watchlist.Cache;

/// <summary>
/// This process's copy of the watchlist as a search index for the running embedder. Kept current by the store's
/// change messages (Redis pub/sub) and, in case a message was missed, by comparing versions every
/// <c>resyncInterval</c>. When the store is unreachable the last index keeps serving and <see cref="Reachable"/> says so.
/// </summary>
public sealed class WatchlistCache : IAsyncDisposable
{
    private readonly IWatchlistStore _store;
    private readonly string _modelId;
    private readonly int _dimension;
    private readonly TimeSpan _resyncInterval;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly SemaphoreSlim _syncing = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly HashSet<string> _warnedModels = [];
    private Task? _loop;
    private volatile GalleryIndex _index;
    private long _version = -1;

    public WatchlistCache(IWatchlistStore store, string modelId, int dimension, TimeSpan resyncInterval, ILogger log)
    {
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

    public string Store => _store.Describe;

    /// <summary>Raised after every rebuild with the new index.</summary>
    public event Action<GalleryIndex>? Changed;

    /// <summary>After every check of the store, answered or not (<see cref="Reachable"/>, <see cref="Version"/> are current).</summary>
    public event Action? Checked;

    /// <summary>Loads once (an unreachable store is logged, not thrown) and starts following changes.</summary>
    public async Task StartAsync(CancellationToken cancel = default)
    {
        await SyncAsync(force: true, cancel);
        try
        {
            await _store.SubscribeAsync(_ => SignalChange(), cancel);
        }
        catch (WatchlistUnavailableException e)
        {
            // StackExchange.Redis restores subscriptions on reconnect only for those it made; versions still resync.
            _log.LogWarning("watchlist {Store}: change notifications not subscribed ({Reason}); relying on version checks every {Interval}", _store.Describe, e.Message, _resyncInterval);
        }

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

            var snapshot = await _store.LoadAllAsync(cancel);
            Build(snapshot);
            MarkReachable();
            return true;
        }
        catch (WatchlistUnavailableException e)
        {
            if (Reachable || LastError is null)
            {
                _log.LogError("watchlist {Store} unreachable; still serving the last known watchlist (version {Version}, {Identities} identities): {Reason}",
                    _store.Describe, Version, _index.Identities, e.Message);
            }

            Reachable = false;
            LastError = e.Message;
            return false;
        }
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

    private void SignalChange()
    {
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
                await _wake.WaitAsync(_resyncInterval, cancel);
                await SyncAsync(force: false, cancel);
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

    private void Build(WatchlistSnapshot snapshot)
    {
        var names = snapshot.Identities.ToDictionary(i => i.Id, i => new Identity(i.Id, i.Name), StringComparer.Ordinal);
        var usable = new List<(Identity, float[])>(snapshot.Templates.Count);
        int skipped = 0;
        foreach (var t in snapshot.Templates)
        {
            if (!names.TryGetValue(t.IdentityId, out var identity))
            {
                continue;
            }

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

            usable.Add((identity, t.Vector));
        }

        var index = new GalleryIndex(_modelId, _dimension, usable);
        SkippedTemplates = skipped;
        _index = index;
        Interlocked.Exchange(ref _version, snapshot.Version);
        _log.LogInformation("watchlist {Store}: version {Version}, {Identities} identities, {Templates} templates{Skipped}",
            _store.Describe, snapshot.Version, index.Identities, index.Templates, skipped > 0 ? $", {skipped} of other models skipped" : "");
        Changed?.Invoke(index);
    }
}
