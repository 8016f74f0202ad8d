using System.Threading.Channels;
using FaceStream.Core.Matching;
using FaceStream.Inference;
using FaceStream.Inference.Attributes;
using FaceStream.Inference.Detection;
using FaceStream.Inference.Embedding;
using FaceStream.Media.Video;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Events;
using FaceStream.Worker.Metrics;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Pipeline;

/// <summary>
/// The stream processor's topology, read top to bottom like a DeepStream element chain:
/// <code>
/// cameras ─► [frame queue per camera] ─► detect ─► [batch] ─► track + gate ─► [views] ─► embed ─► [embedded] ─► decide ─► [decisions] ─► describe ─► [described] ─► publish ─► sinks
///                                                              ▲                                                 │
///                                                              └──────────────── [track news] ◄──────────────────┘
/// </code>
/// Each stage is a class that owns its state; only immutable messages cross the bounded channels between them
/// (docs/architecture.md: who owns what, on which thread).
/// </summary>
public sealed class FramePipeline : IAsyncDisposable
{
    private const int DecisionCapacity = 256;

    /// <summary>Longest wait at dispose for stages still finishing the call they are in.</summary>
    private static readonly TimeSpan StageWait = TimeSpan.FromMinutes(2);

    private readonly WorkerSettings _settings;
    private readonly IFaceEmbedder _embedder;
    private readonly PipelineMetrics _metrics;
    private readonly ILogger _log;
    private readonly VideoFramePool _pool = new();
    private readonly EventPublisher _events;
    private readonly CameraSupervisor _cameras;
    private readonly DetectStage _detect;
    private readonly TrackGateStage _gate;
    private readonly EmbedStage _embed;
    private readonly DecideStage _decide;
    private readonly DescribeStage _describe;
    private readonly PublishStage _publish;
    private readonly PreScreen? _preScreen;
    private volatile GalleryIndex _gallery;
    private Task _analysing = Task.CompletedTask;

    // Cancelled when shutdown's drain time is over: the embed and describe stages then stop starting network runs.
    private readonly CancellationTokenSource _abandon = new();

    public FramePipeline(WorkerSettings settings, FaceEngine engine, GalleryIndex gallery, IReadOnlyList<IEventSink> sinks, PipelineMetrics metrics, ILoggerFactory logs,
        ISnapshotStore? snapshots = null)
        : this(settings, engine.Detector, engine.Embedder, engine.ExecutionProvider, gallery, sinks, metrics, logs, snapshots,
            settings.Events.Attributes ? engine.Attributes : null, settings.Pipeline.PreScreen && !settings.Decision.ReportUnknown ? engine.CreatePreScreen() : null)
    {
    }

    /// <summary>With the stages given separately (the seam tests use to slow a stage down).</summary>
    /// <param name="attributes">Face attributes for match and unknown events (Events:Attributes); null = none.</param>
    /// <param name="preScreen">The embedder's pre-screen (Pipeline:PreScreen), owned by the pipeline from here; null = every view embedded in full.</param>
    public FramePipeline(WorkerSettings settings, IFaceDetector detector, IFaceEmbedder embedder, string executionProvider, GalleryIndex gallery,
        IReadOnlyList<IEventSink> sinks, PipelineMetrics metrics, ILoggerFactory logs, ISnapshotStore? snapshots = null, FaceAttributeAnalyzer? attributes = null,
        PreScreen? preScreen = null)
    {
        _settings = settings;
        _embedder = embedder;
        _metrics = metrics;
        _log = logs.CreateLogger("FaceStream.Pipeline");
        _gallery = gallery;
        Gallery = gallery;
        metrics.Info.WithLabels(Hosting.ProductVersion.Current, executionProvider, "mtcnn", embedder.ModelId).Set(1);
        _events = new EventPublisher(sinks, metrics, logs.CreateLogger("FaceStream.Events"), settings.Events.BufferSize);
        var frameArrived = new FrameSignal();
        // The one feedback edge: decide tells the gate which tracks need no more views, or fewer (a few bytes per recognised track or clear stranger).
        var news = Channel.CreateUnbounded<TrackNews>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        _cameras = new CameraSupervisor(settings, _pool, metrics, frameArrived, _events, logs);
        _detect = new DetectStage(settings.Pipeline, Scans = new CameraScans(settings.Detector, detector, settings.CameraMinFaceSize()), _cameras, frameArrived, metrics, _log);
        Previews = new CameraPreviews(settings.Console, metrics, _log);
        _gate = new TrackGateStage(settings, snapshots is not null && settings.Events.Snapshots.Frame, camera => _cameras.Feeds.Any(f => f.Ref == camera), news.Reader, metrics, _log,
            Previews);
        if (settings.Decision.ReportUnknown && preScreen is not null)
        {
            // Unknown events report the full model's similarity, which a screened view does not have.
            preScreen.Dispose();
            preScreen = null;
        }

        _log.CamerasSearchFrom(settings.CameraMinFaceSize(), settings.Mtcnn.MinFaceSize, settings.Quality.MinFaceSize);
        _preScreen = preScreen;
        if (preScreen is not null)
        {
            _log.PreScreenOn(preScreen.ModelId, PreScreenCut, embedder.ModelId);
        }

        _embed = new EmbedStage(settings.Pipeline, embedder, preScreen, () => _gallery, () => PreScreenCut, metrics, _log);
        _decide = new DecideStage(settings, () => _gallery, () => KnownThreshold, news.Writer, metrics, snapshots is not null && settings.Events.Snapshots.Face,
            previews: Previews);
        _describe = new DescribeStage(attributes, settings.Pipeline.EmbedBatchSize, metrics, _log);
        _publish = new PublishStage(snapshots, _events, _log);
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

    private float PreScreenCut => _preScreen is null ? float.NegativeInfinity
        : EmbedStage.PreScreenCut(_preScreen, _settings.Pipeline.PreScreenMargin, KnownThreshold, _embedder.Threshold);

    public IReadOnlyList<CameraStatus> Cameras => _cameras.Status;

    public VideoFramePool FramePool => _pool;

    /// <summary>Each camera's latest preview for the console (Console:PreviewInterval), kept in memory only.</summary>
    public CameraPreviews Previews { get; }

    /// <summary>Cluster mode: who publishes each camera's events (worker id, lease epoch), stamped on every event.</summary>
    public Func<string, EventOrigin>? EventOrigin
    {
        set => _events.Origin = value;
    }

    /// <summary>Cluster mode: told of every camera state change (a camera taken over ends its take-over time at its first frame).</summary>
    public Action<SourceStateChange>? CameraStateChanged
    {
        set => _cameras.StateObserver = value;
    }

    /// <summary>What the detect stage searches in each frame.</summary>
    internal CameraScans Scans { get; }

    /// <summary>Called on the detect stage's thread after each frame is searched (the <c>watch --annotate</c> overlay); set before running.</summary>
    public Action<ScannedFrame>? FrameScanned
    {
        get => Scans.Scanned;
        set => Scans.Scanned = value;
    }

    /// <summary>Starts cameras that are new or changed, stops removed or changed ones; the others are not touched.</summary>
    public Task SyncCamerasAsync(IEnumerable<CameraOptions> desired, CancellationToken cancel = default) => _cameras.SyncAsync(desired, cancel);

    /// <summary>
    /// Runs until cancelled (then stops sources and drains in-flight work within Pipeline:DrainTimeout), or, with
    /// Pipeline:StopWhenSourcesEnd, until every source has ended and its frames are analysed.
    /// </summary>
    public async Task RunAsync(CancellationToken cancel)
    {
        var o = _settings.Pipeline;
        // A batch in flight waits for the gate to release it before its cameras are taken again: one place per batch in flight.
        var detected = Bounded<DetectedBatch>(o.DetectBatchesInFlight, singleWriter: false);
        var views = Bounded<TrackMessage>(o.EmbedQueueCapacity);
        var embedded = Bounded<TrackMessage>(o.EmbedQueueCapacity);
        var decisions = Bounded<Decision>(DecisionCapacity);
        var described = Bounded<Decision>(DecisionCapacity);

        var publishing = _events.RunAsync();
        var previewing = Previews.RunAsync();
        var analysing = _analysing = Task.WhenAll(
            _gate.RunAsync(detected.Reader, views.Writer, cancel),
            _embed.RunAsync(views.Reader, embedded.Writer, _abandon.Token),
            _decide.RunAsync(embedded.Reader, decisions.Writer),
            _describe.RunAsync(decisions.Reader, described.Writer, _abandon.Token),
            _publish.RunAsync(described.Reader));
        try
        {
            // Ends on cancellation or when the sources are done; completing its output lets every later stage drain in turn.
            await _detect.RunAsync(detected.Writer, cancel);
        }
        finally
        {
            await _cameras.StopAllAsync();
            if (!await Completes(analysing, o.DrainTimeout))
            {
                _log.AnalysisNotDrained(o.DrainTimeout, views.Reader.Count + embedded.Reader.Count);
                // The rest is dropped; wait for the network run in flight, so the engine is not freed under it.
                await _abandon.CancelAsync();
                await Completes(analysing, o.DrainTimeout);
            }

            Previews.Complete();
            await Completes(previewing, o.DrainTimeout);
            _events.Complete();
            if (!await Completes(publishing, o.DrainTimeout))
            {
                _log.EventsNotFlushed(o.DrainTimeout);
                _events.Abandon();
                await Completes(publishing, TimeSpan.FromSeconds(5));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        // A stage still busy after the drain timeout runs the detector or embedder on its own thread: the engine (disposed
        // after the pipeline) must outlive that call, or ONNX Runtime crashes the process.
        await _analysing.WaitAsync(StageWait).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _cameras.CloseAsync();
        _preScreen?.Dispose();
        _pool.Dispose();
        _abandon.Dispose();
    }

    private static Channel<T> Bounded<T>(int capacity, bool singleWriter = true) =>
        Channel.CreateBounded<T>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = singleWriter, FullMode = BoundedChannelFullMode.Wait });

    private static async Task<bool> Completes(Task task, TimeSpan timeout)
    {
        await task.WaitAsync(timeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return task.IsCompleted;
    }
}
