using System.Diagnostics;
using System.Threading.Channels;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Core.Matching;
using FaceStream.Core.Quality;
using FaceStream.Core.Tracking;
using FaceStream.Inference;
using FaceStream.Inference.Detection;
using FaceStream.Inference.Embedding;
using FaceStream.Media.Images;
using FaceStream.Media.Video;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Events;
using FaceStream.Worker.Metrics;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Pipeline;

/// <summary>A camera as the outside sees it (status endpoint, readiness, watch summary).</summary>
public sealed record CameraStatus(string Id, string Url, SourceState State, StreamInfo? Info, VideoSourceStats Stats, string? LastError);

/// <summary>
/// The stream processor: cameras → per-camera bounded queues → detection batched across cameras → per-camera
/// tracking and quality gates → embedding batched across cameras → per-track decision → events.
/// </summary>
public sealed class FramePipeline : IAsyncDisposable
{
    private const string DetectStage = "detect";
    private const string EmbedStage = "embed";
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(100);
    private const int SnapshotJpegQuality = 85;

    private readonly WorkerSettings _settings;
    private readonly IFaceDetector _detector;
    private readonly IFaceEmbedder _embedder;
    private readonly PipelineMetrics _metrics;
    private readonly ILoggerFactory _logs;
    private readonly ILogger _log;
    private readonly VideoFramePool _pool = new();
    private readonly EventPublisher _events;
    private readonly SemaphoreSlim _frameArrived = new(0, int.MaxValue);
    private readonly SemaphoreSlim _syncLock = new(1, 1);
    private readonly Channel<EmbedRequest> _embedQueue;
    private readonly ISnapshotStore? _snapshots;
    private readonly Prometheus.Histogram.Child _detectLatency, _detectBatchSize, _embedLatency, _embedBatchSize;
    private readonly Prometheus.Gauge.Child _detectQueueDepth, _embedQueueDepth;
    private readonly Prometheus.Counter.Child[] _gateRejections;
    private readonly List<ImageFrame> _images = [];
    private readonly Dictionary<(string Camera, string Identity), DateTimeOffset> _lastMatch = [];
    private volatile CameraFeed[] _cameras = [];
    private volatile GalleryIndex _gallery;
    private volatile bool _disposed;
    private int _roundRobin;

    public FramePipeline(WorkerSettings settings, FaceEngine engine, GalleryIndex gallery, IReadOnlyList<IEventSink> sinks, PipelineMetrics metrics, ILoggerFactory logs,
        ISnapshotStore? snapshots = null)
        : this(settings, engine.Detector, engine.Embedder, engine.ExecutionProvider, gallery, sinks, metrics, logs, snapshots)
    {
    }

    /// <summary>With the stages given separately (the seam tests use to slow a stage down).</summary>
    public FramePipeline(WorkerSettings settings, IFaceDetector detector, IFaceEmbedder embedder, string executionProvider, GalleryIndex gallery,
        IReadOnlyList<IEventSink> sinks, PipelineMetrics metrics, ILoggerFactory logs, ISnapshotStore? snapshots = null)
    {
        _settings = settings;
        _snapshots = snapshots;
        _detector = detector;
        _embedder = embedder;
        _metrics = metrics;
        _logs = logs;
        _log = logs.CreateLogger("FaceStream.Pipeline");
        _gallery = gallery;
        Gallery = gallery;
        _events = new EventPublisher(sinks, metrics, logs.CreateLogger("FaceStream.Events"), settings.Events.BufferSize);
        _embedQueue = Channel.CreateBounded<EmbedRequest>(new BoundedChannelOptions(settings.Pipeline.EmbedQueueCapacity) { SingleReader = true, SingleWriter = true });
        metrics.Info.WithLabels(Hosting.ProductVersion.Current, executionProvider, "mtcnn", embedder.ModelId).Set(1);
        _detectLatency = metrics.StageLatency.WithLabels(DetectStage);
        _detectBatchSize = metrics.StageBatchSize.WithLabels(DetectStage);
        _detectQueueDepth = metrics.QueueDepth.WithLabels(DetectStage);
        _embedLatency = metrics.StageLatency.WithLabels(EmbedStage);
        _embedBatchSize = metrics.StageBatchSize.WithLabels(EmbedStage);
        _embedQueueDepth = metrics.QueueDepth.WithLabels(EmbedStage);
        _gateRejections = Enum.GetValues<GateRejection>().Select(r => metrics.GateRejections.WithLabels(r.ToString().ToLowerInvariant())).ToArray();
        metrics.Registry.AddBeforeCollectCallback(UpdateCameraMetrics);
    }

    /// <summary>The watchlist searched; swapping it is atomic. Templates of another model are refused, never compared.</summary>
    public GalleryIndex Gallery
    {
        get => _gallery;
        set
        {
            if (value.ModelId != _embedder.ModelId)
            {
                throw new ArgumentException($"the watchlist holds {value.ModelId} templates but the running embedder is {_embedder.ModelId}");
            }

            _gallery = value;
            _metrics.GalleryTemplates.Set(value.Templates);
        }
    }

    /// <summary>The known-person threshold in use (config, else the model's measured one).</summary>
    public float KnownThreshold => _settings.Decision.ThresholdFor(_embedder.ModelId, _embedder.Threshold);

    public IReadOnlyList<CameraStatus> Cameras =>
        _cameras.Select(c => new CameraStatus(c.Id, c.Source.Url.Safe, c.Source.State, c.Source.Info, c.Source.Stats, c.Source.LastError)).ToList();

    public VideoFramePool FramePool => _pool;

    /// <summary>Starts cameras that are new or changed, stops removed or changed ones; the others are not touched.</summary>
    public async Task SyncCamerasAsync(IEnumerable<CameraOptions> desired)
    {
        await _syncLock.WaitAsync();
        try
        {
            var wanted = desired.Where(c => c.Enabled).ToDictionary(c => c.Id, StringComparer.Ordinal);
            var current = _cameras;
            var stopping = current.Where(f => !wanted.TryGetValue(f.Id, out var w) || WorkerSettings.Fingerprint(w) != f.Fingerprint).ToList();
            var keep = current.Except(stopping).ToList();
            _cameras = keep.ToArray();
            foreach (var feed in stopping)
            {
                _log.LogInformation("camera {Camera}: {Action}", feed.Id, wanted.ContainsKey(feed.Id) ? "settings changed, restarting" : "removed, stopping");
                await feed.StopAsync(_settings.Pipeline.DrainTimeout, forgetMetrics: true);
                feed.Tracker.EndAll();
            }

            foreach (var options in wanted.Values.Where(w => keep.All(k => k.Id != w.Id)))
            {
                var feed = new CameraFeed(options, _settings.Pipeline.FrameQueueCapacity, _pool, _metrics, _settings.Tracking, SignalFrame, _logs.CreateLogger("FaceStream.Camera"));
                feed.Source.StateChanged += OnCameraState;
                keep.Add(feed);
                _cameras = keep.ToArray();
                feed.Start(_log);
                _log.LogInformation("camera {Camera}: started ({Url})", feed.Id, feed.Source.Url.Safe);
            }
        }
        finally
        {
            _syncLock.Release();
        }
    }

    /// <summary>
    /// Runs until cancelled (then stops sources and drains in-flight work within Pipeline:DrainTimeout), or, with
    /// Pipeline:StopWhenSourcesEnd, until every source has ended and its frames are analysed.
    /// </summary>
    public async Task RunAsync(CancellationToken cancel)
    {
        var publishing = _events.RunAsync();
        // The two heavy stages get threads of their own: they are CPU-bound loops that would otherwise hold
        // thread-pool threads for good and starve everything else that runs there (timers, I/O, the HTTP host).
        var embedding = Dedicated(EmbedLoop);
        try
        {
            await Dedicated(() => DetectLoop(cancel));
        }
        finally
        {
            foreach (var feed in _cameras)
            {
                await feed.StopAsync(_settings.Pipeline.DrainTimeout);
            }

            _embedQueue.Writer.TryComplete();
            if (!await Completes(embedding, _settings.Pipeline.DrainTimeout))
            {
                _log.LogWarning("shutdown: embedding did not drain within {Timeout}; {Left} faces not decided", _settings.Pipeline.DrainTimeout, _embedQueue.Reader.Count);
            }

            _events.Complete();
            if (!await Completes(publishing, _settings.Pipeline.DrainTimeout))
            {
                _log.LogWarning("shutdown: events not flushed within {Timeout}; the rest are counted as lost", _settings.Pipeline.DrainTimeout);
                _events.Abandon();
                await Completes(publishing, TimeSpan.FromSeconds(5));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        foreach (var feed in _cameras)
        {
            await feed.StopAsync(_settings.Pipeline.DrainTimeout);
        }

        _cameras = [];
        _pool.Dispose();
    }

    private static async Task<bool> Completes(Task task, TimeSpan timeout)
    {
        await task.WaitAsync(timeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return task.IsCompleted;
    }

    private void SignalFrame()
    {
        // One pending wake-up is enough; the detector drains every queue it finds non-empty.
        if (_frameArrived.CurrentCount == 0)
        {
            _frameArrived.Release();
        }
    }

    private static Task Dedicated(Action loop) =>
        Task.Factory.StartNew(loop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void DetectLoop(CancellationToken cancel)
    {
        var o = _settings.Pipeline;
        var batch = new List<(CameraFeed Feed, VideoFrame Frame)>(o.DetectBatchSize);
        var scratch = new float[_settings.Quality.SharpnessCropSize * _settings.Quality.SharpnessCropSize];
        while (!cancel.IsCancellationRequested)
        {
            if (o.StopWhenSourcesEnd && _cameras.Length > 0 && _cameras.All(c => c.Finished))
            {
                _log.LogInformation("every source has ended; finishing");
                return;
            }

            try
            {
                TakeFrames(batch, o.DetectBatchSize);
                if (batch.Count == 0)
                {
                    _frameArrived.Wait(IdlePoll, cancel);
                    continue;
                }

                // nvstreammux-style: up to N frames, or whatever arrived within the timeout.
                long deadline = Stopwatch.GetTimestamp() + (long)(o.DetectBatchTimeout.TotalSeconds * Stopwatch.Frequency);
                while (batch.Count < o.DetectBatchSize)
                {
                    var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                    if (left <= TimeSpan.Zero || !_frameArrived.Wait(left, cancel))
                    {
                        break;
                    }

                    TakeFrames(batch, o.DetectBatchSize);
                }

                ProcessFrames(batch, scratch, cancel);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                return;
            }
            finally
            {
                foreach (var (_, frame) in batch)
                {
                    frame.Dispose();
                }

                batch.Clear();
            }
        }
    }

    /// <summary>Round-robin over the cameras, one frame each per pass, so a busy camera cannot starve the others.</summary>
    private void TakeFrames(List<(CameraFeed, VideoFrame)> batch, int max)
    {
        var cameras = _cameras;
        bool tookAny = true;
        while (batch.Count < max && tookAny && cameras.Length > 0)
        {
            tookAny = false;
            for (int i = 0; i < cameras.Length && batch.Count < max; i++)
            {
                var feed = cameras[(_roundRobin + i) % cameras.Length];
                if (feed.Frames.TryRead(out var frame))
                {
                    batch.Add((feed, frame));
                    tookAny = true;
                }
            }

            _roundRobin = (_roundRobin + 1) % cameras.Length;
        }

        int waiting = 0;
        foreach (var c in cameras)
        {
            waiting += c.Frames.Count;
        }

        _detectQueueDepth.Set(waiting);
    }

    private void ProcessFrames(List<(CameraFeed Feed, VideoFrame Frame)> batch, float[] scratch, CancellationToken cancel)
    {
        long start = Stopwatch.GetTimestamp();
        // Reused across batches (the detect loop is the only user).
        _images.Clear();
        foreach (var (_, frame) in batch)
        {
            _images.Add(frame.Image);
        }

        var detections = _detector.DetectBatch(_images);
        _detectLatency.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
        _detectBatchSize.Observe(batch.Count);
        for (int i = 0; i < batch.Count; i++)
        {
            var (feed, frame) = batch[i];
            var faces = detections[i];
            var m = feed.Metrics;
            m.FramesAnalysed.Inc();
            m.FacesDetected.Inc(faces.Count);
            var update = feed.Tracker.Update(faces, frame.Timestamp);
            m.TracksEnded.Inc(update.Ended.Count);
            foreach (var (face, track, isNew) in update.Assigned)
            {
                if (isNew)
                {
                    m.TracksStarted.Inc();
                }

                if (WorthEmbedding(frame.Image, face, track, scratch) is { } quality)
                {
                    track.EmbedAttempts++;
                    track.BestEmbeddedQuality = Math.Max(track.BestEmbeddedQuality, quality);
                    var request = new EmbedRequest(feed.Id, track, face, quality, FaceCrop.From(frame.Image, face), frame.Timestamp, frame.MediaTime, frame.DeliveredTicks,
                        _snapshots is not null && _settings.Events.Snapshots.Frame ? FaceAnnotator.EncodeJpeg(frame.Image, SnapshotJpegQuality) : null);
                    // Waits when the embedder is behind: detection slows, live cameras drop their oldest frames (counted).
                    if (!_embedQueue.Writer.TryWrite(request))
                    {
                        try
                        {
                            _embedQueue.Writer.WriteAsync(request, cancel).AsTask().GetAwaiter().GetResult();
                        }
                        catch
                        {
                            request.Crop.Dispose();
                            throw;
                        }
                    }
                }
            }

            m.FrameLatency.Observe(Stopwatch.GetElapsedTime(frame.DeliveredTicks).TotalSeconds);
        }

        _embedQueueDepth.Set(_embedQueue.Reader.Count);
    }

    /// <summary>The view's quality when it should be embedded: on a track's first views (to reach a decision), then only clearly better ones.</summary>
    private float? WorthEmbedding(ImageFrame image, DetectedFace face, Track track, float[] scratch)
    {
        if (track.Votes.Published == Verdict.Known || track.EmbedAttempts >= _settings.Pipeline.MaxEmbedsPerTrack)
        {
            return null;
        }

        var report = FaceQuality.Assess(image, face, _settings.Quality, scratch);
        if (!report.Passed)
        {
            _gateRejections[(int)report.Rejection].Inc();
            return null;
        }

        bool deciding = track.EmbedAttempts < _settings.Decision.VoteWindow;
        return deciding || report.Quality > track.BestEmbeddedQuality * _settings.Pipeline.BetterViewFactor ? report.Quality : null;
    }

    private void EmbedLoop()
    {
        var o = _settings.Pipeline;
        var reader = _embedQueue.Reader;
        var batch = new List<EmbedRequest>(o.EmbedBatchSize);
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            while (batch.Count < o.EmbedBatchSize && reader.TryRead(out var r))
            {
                batch.Add(r);
            }

            if (batch.Count < o.EmbedBatchSize && o.EmbedBatchTimeout > TimeSpan.Zero)
            {
                using var wait = new CancellationTokenSource(o.EmbedBatchTimeout);
                try
                {
                    while (batch.Count < o.EmbedBatchSize && reader.WaitToReadAsync(wait.Token).AsTask().GetAwaiter().GetResult())
                    {
                        while (batch.Count < o.EmbedBatchSize && reader.TryRead(out var r))
                        {
                            batch.Add(r);
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                    // batch timeout: go with what we have
                }
            }

            try
            {
                DecideAsync(batch).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _log.LogError(e, "embedding a batch of {Count} faces failed; they are skipped", batch.Count);
            }
            finally
            {
                foreach (var r in batch)
                {
                    r.Crop.Dispose();
                }

                batch.Clear();
            }
        }
    }

    private async Task DecideAsync(List<EmbedRequest> batch)
    {
        long start = Stopwatch.GetTimestamp();
        var embeddings = _embedder.EmbedMany(batch.Select(r => (r.Crop.Image, r.Crop.Landmarks)).ToList());
        _embedLatency.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
        _embedBatchSize.Observe(batch.Count);
        var gallery = _gallery;
        float threshold = KnownThreshold;
        var d = _settings.Decision;
        for (int i = 0; i < batch.Count; i++)
        {
            var r = batch[i];
            _metrics.Embeddings.WithLabels(r.CameraId).Inc();
            var hits = gallery.Search(embeddings[i].Vector, 2);
            var vote = OpenSetRule.Judge(hits, threshold, d.Margin, r.Quality);
            var (verdict, evidence) = r.Track.Votes.Add(vote, d);
            if (verdict == Verdict.Undecided || (verdict == Verdict.Unknown && !d.ReportUnknown))
            {
                continue;
            }

            var now = DateTimeOffset.UtcNow;
            if (verdict == Verdict.Known)
            {
                _metrics.Matches.WithLabels(r.CameraId).Inc();
                // One alert per track already; the cooldown also quiets a person who re-enters (a new track) right away.
                var pair = (r.CameraId, evidence.Identity!.Id);
                if (_lastMatch.TryGetValue(pair, out var last) && now - last < _settings.Events.Cooldown)
                {
                    _metrics.EventsSuppressed.WithLabels(r.CameraId).Inc();
                    continue;
                }

                _lastMatch[pair] = now;
            }

            _metrics.FrameToDecision.Observe(Stopwatch.GetElapsedTime(r.DeliveredTicks).TotalSeconds);
            var eventId = Guid.NewGuid();
            var snapshot = await SaveSnapshotAsync(eventId, r, now);
            _events.Publish(new FaceEvent(
                eventId, verdict == Verdict.Known ? EventKind.Match : EventKind.Unknown, r.CameraId, r.Track.Id,
                evidence.Identity?.Id, evidence.Identity?.Name, evidence.Similarity, evidence.Margin, r.Face,
                r.FrameTimestamp, r.MediaTime, now, gallery.ModelId, null, null, snapshot));
        }
    }

    private async Task<string?> SaveSnapshotAsync(Guid eventId, EmbedRequest r, DateTimeOffset now)
    {
        if (_snapshots is null)
        {
            return null;
        }

        try
        {
            var face = _settings.Events.Snapshots.Face ? FaceAnnotator.EncodeJpeg(r.Crop.Image, SnapshotJpegQuality) : null;
            return await _snapshots.SaveAsync(eventId, r.CameraId, now, face, r.FrameJpeg);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or StackExchange.Redis.RedisException)
        {
            // The event matters more than its picture: publish without a snapshot.
            _log.LogError("snapshot for event {EventId} not saved: {Reason}", eventId, e.Message);
            return null;
        }
    }

    private void OnCameraState(SourceStateChange change)
    {
        if (_settings.Events.CameraState && change.To is not SourceState.Connecting)
        {
            _events.Publish(new FaceEvent(Guid.NewGuid(), EventKind.CameraState, change.CameraId, null, null, null, null, null, null,
                change.At, null, change.At, null, change.To.ToString().ToLowerInvariant(), change.Reason, null));
        }
    }

    private void UpdateCameraMetrics()
    {
        if (_disposed)
        {
            return;
        }

        var now = DateTimeOffset.UtcNow;
        foreach (var c in _cameras)
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

    /// <summary>A face view on its way to the embedder.</summary>
    private sealed record EmbedRequest(string CameraId, Track Track, DetectedFace Face, float Quality, FaceCrop Crop, DateTimeOffset FrameTimestamp, TimeSpan MediaTime, long DeliveredTicks, byte[]? FrameJpeg);
}
