using FaceStream.Media.Video;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Events;
using FaceStream.Worker.Metrics;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Pipeline;

/// <summary>A camera as the outside sees it (status endpoint, readiness, watch summary).</summary>
public sealed record CameraStatus(string Id, string Url, SourceState State, StreamInfo? Info, VideoSourceStats Stats, string? LastError);

/// <summary>
/// The first stage: starts, restarts and stops cameras as the configuration says, publishes their state changes as
/// events and exports their per-camera metrics. Owns the set of running feeds (swapped whole, read by the detect stage).
/// </summary>
internal sealed class CameraSupervisor
{
    private readonly WorkerSettings _settings;
    private readonly VideoFramePool _pool;
    private readonly PipelineMetrics _metrics;
    private readonly FrameSignal _frameArrived;
    private readonly EventPublisher _events;
    private readonly ILoggerFactory _logs;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _syncLock = new(1, 1);
    private volatile CameraFeed[] _feeds = [];
    private volatile bool _closed;
    private long _generation;

    public CameraSupervisor(WorkerSettings settings, VideoFramePool pool, PipelineMetrics metrics, FrameSignal frameArrived, EventPublisher events, ILoggerFactory logs)
    {
        _settings = settings;
        _pool = pool;
        _metrics = metrics;
        _frameArrived = frameArrived;
        _events = events;
        _logs = logs;
        _log = logs.CreateLogger("FaceStream.Pipeline");
        metrics.Registry.AddBeforeCollectCallback(UpdateCameraMetrics);
    }

    /// <summary>The running feeds; a new array after each change, never modified in place.</summary>
    public IReadOnlyList<CameraFeed> Feeds => _feeds;

    public IReadOnlyList<CameraStatus> Status =>
        _feeds.Select(c => new CameraStatus(c.Id, c.Source.Url.Safe, c.Source.State, c.Source.Info, c.Source.Stats, c.Source.LastError)).ToList();

    /// <summary>Told of every state change of every camera, on the camera's thread (after the camera_state event is queued).</summary>
    public Action<SourceStateChange>? StateObserver { get; set; }

    /// <summary>There are cameras and every one has ended with its queued frames taken (files done, with Pipeline:StopWhenSourcesEnd).</summary>
    public bool AllFinished
    {
        get
        {
            var feeds = _feeds;
            return feeds.Length > 0 && feeds.All(c => c.Finished);
        }
    }

    /// <summary>Starts cameras that are new or changed, stops removed or changed ones; the others are not touched.</summary>
    public async Task SyncAsync(IEnumerable<CameraOptions> desired, CancellationToken cancel = default)
    {
        await _syncLock.WaitAsync(cancel);
        try
        {
            var wanted = desired.Where(c => c.Enabled).ToDictionary(c => c.Id, StringComparer.Ordinal);
            var stopping = _feeds.Where(f => !wanted.TryGetValue(f.Id, out var w) || WorkerSettings.Fingerprint(w) != f.Fingerprint).ToList();
            var keep = _feeds.Except(stopping).ToList();
            _feeds = keep.ToArray();
            foreach (var feed in stopping)
            {
                _log.CameraChanged(feed.Id, wanted.ContainsKey(feed.Id) ? "settings changed, restarting" : "removed, stopping");
                await feed.StopAsync(_settings.Pipeline.DrainTimeout, forgetMetrics: true);
            }

            foreach (var options in wanted.Values.Where(w => keep.All(k => k.Id != w.Id)))
            {
                var feed = new CameraFeed(options, Interlocked.Increment(ref _generation), _settings.Pipeline.FrameQueueCapacity, _pool, _metrics, _frameArrived.Set,
                    _logs.CreateLogger("FaceStream.Camera"));
                feed.Source.StateChanged += OnCameraState;
                keep.Add(feed);
                _feeds = keep.ToArray();
                feed.Start(_log);
                _log.CameraStarted(feed.Id, feed.Source.Url.Safe);
            }
        }
        finally
        {
            _syncLock.Release();
        }
    }

    /// <summary>Stops every source (each within Pipeline:DrainTimeout) and returns their queued frames; the feeds stay listed for the status.</summary>
    public async Task StopAllAsync()
    {
        foreach (var feed in _feeds)
        {
            await feed.StopAsync(_settings.Pipeline.DrainTimeout);
        }
    }

    /// <summary>Stops everything and forgets the feeds (the pipeline is being disposed).</summary>
    public async Task CloseAsync()
    {
        _closed = true;
        await StopAllAsync();
        _feeds = [];
    }

    private void OnCameraState(SourceStateChange change)
    {
        if (_settings.Events.CameraState && change.To is not SourceState.Connecting)
        {
            _events.Publish(new CameraStateEvent(Guid.NewGuid(), change.CameraId, change.At, change.To.ToString().ToLowerInvariant(), change.Reason));
        }

        StateObserver?.Invoke(change);
    }

    private void UpdateCameraMetrics()
    {
        if (_closed)
        {
            return;
        }

        var now = DateTimeOffset.UtcNow;
        foreach (var c in _feeds)
        {
            var state = c.Source.State;
            _metrics.CameraUp.WithLabels(c.Id).Set(state == SourceState.Streaming ? 1 : 0);
            foreach (var s in Enum.GetValues<SourceState>())
            {
                _metrics.CameraState.WithLabels(c.Id, s.ToString().ToLowerInvariant()).Set(s == state ? 1 : 0);
            }

            _metrics.FramesDecoded.WithLabels(c.Id).IncTo(c.Source.Stats.FramesDecoded);
            _metrics.Reconnects.WithLabels(c.Id).IncTo(c.Source.Stats.Reconnects);
            if (c.Source.Stats.LastFrameAt is { } last)
            {
                _metrics.LastFrameAge.WithLabels(c.Id).Set((now - last).TotalSeconds);
            }
        }
    }
}

/// <summary>Wakes the detect stage when any camera queues a frame, so batching across cameras needs no polling.</summary>
internal sealed class FrameSignal
{
    private readonly SemaphoreSlim _arrived = new(0, int.MaxValue);

    public void Set()
    {
        // One pending wake-up is enough: the detect stage drains every queue it finds non-empty.
        if (_arrived.CurrentCount == 0)
        {
            _arrived.Release();
        }
    }

    /// <summary>True when a frame arrived within <paramref name="timeout"/>.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancel) => _arrived.WaitAsync(timeout, cancel);
}
