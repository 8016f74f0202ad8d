using System.Collections.Concurrent;
using System.Diagnostics;
using FaceStream.Media.Video;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Events;
using FaceStream.Worker.Pipeline;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FaceStream.Worker.Cluster;

/// <summary>
/// Which cameras this worker runs, in a loop every quarter lease TTL (and at once on a registry change or a hand-over):
/// heartbeat; renew the leases it holds (a lost one stops its camera); release extras above its fair share
/// (cameras × its capacity ÷ the live workers' total capacity, rounded up) or one camera when another worker is below
/// its rounded-down share; claim orphaned cameras up to its share; then hand the pipeline the cameras it holds. On
/// graceful stop it stops its cameras, then releases their leases and leaves, so the others take them over at once.
/// When Redis stays unreachable until its leases may have expired, it stops its cameras (no split brain) and rejoins
/// when Redis returns. A camera taken from a lease that expired unreleased is timed from that lease's last renewal to
/// its first frame here (facestream_cluster_takeover_seconds).
/// </summary>
public sealed class CameraOwnership : BackgroundService
{
    private readonly ClusterOptions _options;
    private readonly IConnectionMultiplexer _redis;
    private readonly FramePipeline _pipeline;
    private readonly IReadOnlyList<CameraOptions> _seed;
    private readonly ClusterMetrics _metrics;
    private readonly ILogger _log;
    private readonly CameraLeases _leases;
    private readonly ClusterMembership _members;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly ConcurrentDictionary<string, long> _owned = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _lastEpoch = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTime> _releasedAt = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PendingTakeover> _takeovers = new(StringComparer.Ordinal);
    private HashSet<string> _orphansSeen = new(StringComparer.Ordinal);
    private Dictionary<string, CameraOptions> _cameras = new(StringComparer.Ordinal);
    private long? _version;
    private bool _subscribed;
    private Task _tick = Task.CompletedTask;
    private int _left;
    private volatile string? _problem;

    public CameraOwnership(ClusterOptions options, IConnectionMultiplexer redis, FramePipeline pipeline, IReadOnlyList<CameraOptions> seed, ClusterMetrics metrics, ILogger log)
    {
        _options = options;
        _redis = redis;
        _pipeline = pipeline;
        _seed = seed;
        _metrics = metrics;
        _log = log;
        WorkerId = options.EffectiveWorkerId;
        Registry = new CameraRegistry(redis, options.LeaseTtl);
        _leases = new CameraLeases(redis.GetDatabase(), WorkerId, options.LeaseTtl);
        _members = new ClusterMembership(redis.GetDatabase(), WorkerId, options.LeaseTtl, options.Capacity);
    }

    public string WorkerId { get; }

    public CameraRegistry Registry { get; }

    /// <summary>Who holds each camera's lease now (owner, epoch); cameras nobody holds are absent.</summary>
    public Task<IReadOnlyDictionary<string, (string Owner, long Epoch)>> HoldersAsync(IReadOnlyList<string> cameras) => _leases.HoldersAsync(cameras);

    /// <summary>Why this worker cannot take part now (Redis unreachable), or null.</summary>
    public string? Problem => _problem;

    /// <summary>The cameras this worker holds, with their lease epochs.</summary>
    public IReadOnlyDictionary<string, long> Owned => new Dictionary<string, long>(_owned, StringComparer.Ordinal);

    /// <summary>What goes into a camera's events: this worker and the epoch of the last lease it held on the camera (stale once another took it).</summary>
    public EventOrigin Origin(string camera) => new(WorkerId, _lastEpoch.TryGetValue(camera, out var epoch) ? epoch : null);

    /// <summary>The pipeline's camera state changes: a camera taken over streams its first frame here, which ends its take-over time.</summary>
    public void OnCameraState(SourceStateChange change)
    {
        if (change.To == SourceState.Streaming)
        {
            ObserveTakeover(change.CameraId);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await HandOverAllAsync();
    }

    /// <summary>Closes the Redis connection, which this loop owns.</summary>
    public override void Dispose()
    {
        base.Dispose();
        _redis.Dispose();
        _wake.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = _options.RenewInterval;
        var lastRenewal = DateTime.UtcNow;
        _log.LogInformation("cluster: worker {Worker} joins (lease TTL {Ttl} s, renewed every {Interval} s)", WorkerId, _options.LeaseTtl.TotalSeconds, interval.TotalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = DateTime.UtcNow;
            try
            {
                // A round that outlived its wait still runs: wait for it again rather than start a second one beside it.
                if (_tick.IsCompleted)
                {
                    _tick = TickAsync(stoppingToken);
                }

                await _tick.WaitAsync(interval * 2, stoppingToken);
                lastRenewal = started;
                if (_problem is not null)
                {
                    _log.LogInformation("cluster: Redis reachable again, worker {Worker} rejoins", WorkerId);
                    _problem = null;
                }

                _metrics.RedisUp.Set(1);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                _metrics.RedisUp.Set(0);
                if (_problem is null)
                {
                    _log.LogWarning("cluster: Redis unreachable ({Reason}); cameras keep running until their leases may expire", Reason(e, interval * 2));
                }

                _problem = $"cluster: Redis unreachable since {lastRenewal:HH:mm:ss}Z ({Reason(e, interval * 2)}); {(_owned.IsEmpty ? "no camera held" : "cameras stop when their leases may expire")}";
                // The leases expire TTL after the last renewal; stop one interval before that, so nobody else runs them meanwhile.
                if (!_owned.IsEmpty && DateTime.UtcNow - lastRenewal >= _options.LeaseTtl - interval)
                {
                    _log.LogWarning("cluster: Redis unreachable for {Seconds:F1} s: stopping this worker's {Count} cameras until it returns", (DateTime.UtcNow - lastRenewal).TotalSeconds, _owned.Count);
                    _metrics.Losses.Inc(_owned.Count);
                    _owned.Clear();
                    await ApplyAsync(stoppingToken);
                }
            }

            try
            {
                await _wake.WaitAsync(interval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private static string Reason(Exception e, TimeSpan limit) =>
        e is TimeoutException and not RedisTimeoutException ? $"a lease round took longer than {limit.TotalSeconds:F1} s" : $"{e.GetType().Name}: {e.Message}";

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // One pending wake-up is enough.
        }
    }

    private async Task TickAsync(CancellationToken cancel)
    {
        if (!_subscribed)
        {
            await Registry.SubscribeAsync(Wake);
            _subscribed = true;
        }

        await RefreshCamerasAsync();
        var live = await _members.HeartbeatAsync(_owned.Count);
        _metrics.WorkersLive.Set(live.Count);
        bool handedOver = await RenewAsync();

        int cameras = _cameras.Count;
        double total = live.Any(w => w.Id == WorkerId) ? live.Sum(w => w.Capacity) : _options.Capacity;
        var (floor, ceiling) = FairShare.Of(cameras, _options.Capacity, total);
        var extras = _owned.Keys.OrderByDescending(id => id, StringComparer.Ordinal).Take(Math.Max(0, _owned.Count - ceiling)).ToList();
        if (extras.Count == 0 && live.Any(w => w.Id != WorkerId && w.Cameras < FairShare.Of(cameras, w.Capacity, total).Floor) && GivesNext(live, cameras, total))
        {
            // Everyone is within the rounded-up share but one worker (a newcomer) is below the rounded-down one: give it one.
            extras.Add(_owned.Keys.Max(StringComparer.Ordinal)!);
        }

        if (extras.Count > 0)
        {
            await ReleaseAsync(extras, "rebalance", cancel);
            handedOver = true;
        }

        if (_owned.Count < ceiling)
        {
            await ClaimAsync(ceiling, floor);
        }

        await ApplyAsync(cancel);
        // A camera whose feed was still running when its lease came back (lost and retaken in one round) streams already.
        foreach (var camera in _takeovers.Keys.Where(id => _pipeline.Cameras.Any(c => c.Id == id && c.State == SourceState.Streaming)))
        {
            ObserveTakeover(camera);
        }

        if (handedOver)
        {
            await Registry.AnnounceAsync("hand-over by " + WorkerId);
        }
    }

    /// <summary>Re-reads the registry when its version moved; seeds it from the config when Redis has none (first start, or data lost).</summary>
    private async Task RefreshCamerasAsync()
    {
        var version = await Registry.VersionAsync();
        if (version is null)
        {
            if (await Registry.SeedAsync(_seed))
            {
                _log.LogInformation("cluster: camera registry seeded with the {Count} cameras of the config (claims wait one lease TTL)", _seed.Count);
            }

            version = await Registry.VersionAsync();
        }

        if (version != _version)
        {
            var broken = new List<string>();
            _cameras = (await Registry.ListAsync(broken)).Where(c => c.Enabled).ToDictionary(c => c.Id, StringComparer.Ordinal);
            _version = version;
            foreach (var id in broken)
            {
                _log.LogError("cluster: camera {Camera} in the registry is not valid JSON camera settings; skipped", id);
            }
        }
    }

    /// <summary>Renews every held lease; drops the lost ones and releases cameras gone from the registry. True when it released any.</summary>
    private async Task<bool> RenewAsync()
    {
        var held = _owned.ToArray();
        var removed = held.Where(h => !_cameras.ContainsKey(h.Key)).ToList();
        foreach (var (camera, epoch) in removed)
        {
            _owned.TryRemove(camera, out _);
            await _leases.ReleaseAsync(camera, epoch);
            _metrics.HandOvers.WithLabels("removed").Inc();
            _log.LogInformation("cluster: camera {Camera} left the registry: stopped, lease released", camera);
        }

        var renewing = held.Except(removed).ToList();
        var renewed = await Task.WhenAll(renewing.Select(h => _leases.RenewAsync(h.Key, h.Value)));
        for (int i = 0; i < renewing.Count; i++)
        {
            if (renewed[i])
            {
                _metrics.Renewals.Inc();
                continue;
            }

            _owned.TryRemove(renewing[i].Key, out _);
            _metrics.Losses.Inc();
            _log.LogWarning("cluster: lease of camera {Camera} (epoch {Epoch}) lost: it expired or another worker holds it; stopping the camera", renewing[i].Key, renewing[i].Value);
        }

        return removed.Count > 0;
    }

    /// <summary>Stops the cameras first, then gives their leases up, so nobody else runs them while this worker still does.</summary>
    private async Task ReleaseAsync(IReadOnlyList<string> cameras, string reason, CancellationToken cancel)
    {
        var epochs = cameras.Select(c => (Camera: c, Epoch: _owned.TryRemove(c, out var e) ? e : 0)).Where(c => c.Epoch > 0).ToList();
        await ApplyAsync(cancel);
        foreach (var (camera, epoch) in epochs)
        {
            if (await _leases.ReleaseAsync(camera, epoch))
            {
                _metrics.HandOvers.WithLabels(reason).Inc();
            }

            _releasedAt[camera] = DateTime.UtcNow;
        }

        _log.LogInformation("cluster: released {Cameras} ({Reason})", string.Join(", ", epochs.Select(e => e.Camera)), reason);
    }

    /// <summary>
    /// Takes orphaned cameras (no lease) up to <paramref name="ceiling"/>. Below the rounded-down share at once; above it
    /// only orphans already seen in the last round, so that a newcomer below its share gets a released camera first.
    /// </summary>
    private async Task ClaimAsync(int ceiling, int floor)
    {
        var unowned = _cameras.Keys.Where(id => !_owned.ContainsKey(id)).ToList();
        var holders = await _leases.HoldersAsync(unowned);
        var now = DateTime.UtcNow;
        var orphans = unowned.Where(id => !holders.ContainsKey(id))
            .Where(id => !_releasedAt.TryGetValue(id, out var at) || now - at > _options.LeaseTtl)
            // Each worker tries them in its own order, so that several claiming at once rarely race for the same camera.
            .OrderBy(id => HashCode.Combine(WorkerId, id))
            .ToList();
        foreach (var camera in orphans)
        {
            if (_owned.Count >= ceiling)
            {
                break;
            }

            if (_owned.Count >= floor && !_orphansSeen.Contains(camera))
            {
                continue;
            }

            if (await _leases.TryTakeAsync(camera) is { } grant)
            {
                _owned[camera] = grant.Epoch;
                _lastEpoch[camera] = grant.Epoch;
                _metrics.Acquisitions.Inc();
                if (grant.SinceLastRenewal is { } since)
                {
                    _takeovers[camera] = new PendingTakeover(grant.Epoch, since, Stopwatch.GetTimestamp());
                    _log.LogInformation("cluster: took camera {Camera} (lease epoch {Epoch}) over from an expired lease last renewed {Seconds:F1} s ago", camera, grant.Epoch, since.TotalSeconds);
                }
                else
                {
                    _takeovers.TryRemove(camera, out _);
                    _log.LogInformation("cluster: took camera {Camera} (lease epoch {Epoch})", camera, grant.Epoch);
                }
            }
        }

        _orphansSeen = orphans.Where(id => !_owned.ContainsKey(id)).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The pipeline runs exactly the cameras held.</summary>
    private async Task ApplyAsync(CancellationToken cancel)
    {
        var desired = _owned.Keys.Where(_cameras.ContainsKey).Select(id => _cameras[id]).ToList();
        await _pipeline.SyncCamerasAsync(desired, cancel);
        _metrics.CamerasOwned.Set(_owned.Count);
    }

    /// <summary>
    /// Of the workers above their rounded-down share, this one owns the most cameras per unit of capacity (ties: the
    /// smallest id), so that only one gives a camera up per round, and one that can.
    /// </summary>
    private bool GivesNext(IReadOnlyList<LiveWorker> live, int cameras, double total)
    {
        var donor = live.Select(w => w.Id == WorkerId ? w with { Cameras = _owned.Count } : w)
            .Where(w => w.Cameras > FairShare.Of(cameras, w.Capacity, total).Floor)
            .OrderByDescending(w => w.Cameras / w.Capacity).ThenBy(w => w.Id, StringComparer.Ordinal)
            .FirstOrDefault();
        return donor.Id == WorkerId;
    }

    /// <summary>Records the take-over time of <paramref name="camera"/> once, if it is pending and the lease it was taken with is still held.</summary>
    private void ObserveTakeover(string camera)
    {
        if (_takeovers.TryRemove(camera, out var pending) && _owned.TryGetValue(camera, out var epoch) && epoch == pending.Epoch)
        {
            var seconds = (pending.SinceLastRenewal + Stopwatch.GetElapsedTime(pending.TakenAt)).TotalSeconds;
            _metrics.TakeoverSeconds.Observe(seconds);
            _log.LogInformation("cluster: camera {Camera} streams again {Seconds:F1} s after its previous lease's last renewal", camera, seconds);
        }
    }

    /// <summary>Graceful stop: cameras stopped, leases released, membership left, the others told, all within a few seconds.</summary>
    private async Task HandOverAllAsync()
    {
        // The host stops its services again when it is disposed after a stop: hand over once.
        if (Interlocked.Exchange(ref _left, 1) == 1)
        {
            return;
        }

        // A round still running (the stop cancelled only the wait for it) must not take a lease after this.
        await _tick.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var held = _owned.ToArray();
        _owned.Clear();
        try
        {
            await _pipeline.SyncCamerasAsync([]);
            foreach (var (camera, epoch) in held)
            {
                if (await _leases.ReleaseAsync(camera, epoch).WaitAsync(TimeSpan.FromSeconds(5)))
                {
                    _metrics.HandOvers.WithLabels("shutdown").Inc();
                }
            }

            await _members.LeaveAsync().WaitAsync(TimeSpan.FromSeconds(5));
            await Registry.AnnounceAsync("worker left: " + WorkerId).WaitAsync(TimeSpan.FromSeconds(5));
            _log.LogInformation("cluster: worker {Worker} left, {Count} cameras handed over", WorkerId, held.Length);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            _log.LogWarning("cluster: could not hand over on stop ({Reason}); the leases expire within {Ttl} s", e.Message, _options.LeaseTtl.TotalSeconds);
        }
    }
}

/// <summary>A camera taken from an expired lease, until its first frame here: the lease's epoch, the time from the old lease's last renewal to the grant, and when the grant came.</summary>
internal readonly record struct PendingTakeover(long Epoch, TimeSpan SinceLastRenewal, long TakenAt);
