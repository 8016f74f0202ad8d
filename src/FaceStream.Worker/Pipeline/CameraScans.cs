using FaceStream.Core.Detection.Adaptive;
using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;
using FaceStream.Inference.Detection;
using FaceStream.Worker.Configuration;

namespace FaceStream.Worker.Pipeline;

/// <summary>A frame the detect stage took: its camera start, picture and time, and how often its source has reconnected so far.</summary>
internal readonly record struct FrameToScan(CameraRef Camera, ImageFrame Image, DateTimeOffset Timestamp, long Reconnects = 0);

/// <summary>
/// How one frame was searched, the motion that led there, and what was found (the <c>watch --annotate</c> overlay). The
/// picture is a pooled buffer: valid only during the <see cref="CameraScans.Scanned"/> call.
/// </summary>
/// <param name="FullScanReason">For a whole-frame pass in adaptive mode, why (the label of <c>facestream_detect_full_scans_total</c>); else null.</param>
public sealed record ScannedFrame(string CameraId, DateTimeOffset Timestamp, ImageFrame Image, ScanPlan Plan, MotionResult Motion, string? FullScanReason, IReadOnlyList<DetectedFace> Faces);

/// <summary>
/// What the detect stage searches in each frame (<c>Detector:Mode</c>): the whole frame (<c>full</c>), or per camera the
/// motion regions and the windows around its live tracks, with a periodic whole-frame pass (<c>adaptive</c>,
/// docs/adaptive-detection.md). Owns each camera's <see cref="CameraScan"/>; the live tracks come from the gate as an
/// immutable copy with each released batch. The detect stage's batches in flight call it at once: planning and
/// recording take turns under a lock, the detector runs outside it. Each camera's state still sees its frames in order, because the
/// detect stage puts a camera in one batch at a time. Every search, whole frame or window, looks for faces of at least
/// <paramref name="minFaceSize"/> px (<see cref="WorkerSettings.CameraMinFaceSize()"/>), or the camera's own larger
/// size (<see cref="CameraOptions.MinFaceSize"/>).
/// </summary>
internal sealed class CameraScans(DetectorOptions options, IFaceDetector detector, float minFaceSize)
{
    /// <summary>Cameras started one after another get full-pass phases 0, 0.618, 0.236, 0.854, …: evenly spread, whatever their number.</summary>
    private const double PhaseStep = 0.6180339887498949;

    private readonly Lock _state = new();
    private readonly Dictionary<string, CameraState> _cameras = new(StringComparer.Ordinal);
    private readonly MotionOptions _motion = options.Adaptive.ToMotion();
    private readonly ScanOptions _scan = options.Adaptive.ToScan();
    private LiveTracks _live = LiveTracks.None;

    // Reused for every frame: the planner reads the predictions during its call and keeps none of them.
    private readonly List<BoxF> _predicted = [];
    private int _started;

    /// <summary>
    /// True in <c>adaptive</c> mode: a frame is planned from the tracks of its camera's previous frame, so the detect stage
    /// must not put two frames of one camera in the same batch (the second would be planned before the first was tracked).
    /// </summary>
    public bool PlansFromTracks => options.IsAdaptive;

    /// <summary>Called after each frame is scanned (the <c>watch --annotate</c> overlay); null when nobody looks.</summary>
    public Action<ScannedFrame>? Scanned { get; set; }

    /// <summary>The gate's live tracks after a batch: where the next frames' track windows go. A copy older than the one held (batches in flight are released in order but may be observed out of it) is ignored.</summary>
    public void Observe(LiveTracks live)
    {
        lock (_state)
        {
            if (live.Sequence >= _live.Sequence)
            {
                _live = live;
            }
        }
    }

    /// <summary>Faces in each frame, in frame coordinates, one list per frame in order; one detector call for all of them.</summary>
    public IReadOnlyList<IReadOnlyList<DetectedFace>> Detect(IReadOnlyList<FrameToScan> frames)
    {
        var plans = new ScanPlan[frames.Count];
        var motion = new MotionResult[frames.Count];
        var reconnected = new bool[frames.Count];
        lock (_state)
        {
            for (int i = 0; i < frames.Count; i++)
            {
                (plans[i], motion[i]) = options.IsAdaptive ? Plan(frames[i], out reconnected[i]) : (FullPass, MotionResult.Still);
            }
        }

        var images = frames.Select(f => f.Image).ToList();
        var wholeFrames = frames.Select(f => new FaceSizeRange(MinFace(f.Camera), float.MaxValue)).ToList();
        var found = options.IsAdaptive ? WindowedDetection.Detect(detector, images, plans, wholeFrames) : detector.DetectBatch(images, wholeFrames);
        // In turn, so the overlay sees one frame at a time, as it did with one batch in flight.
        lock (_state)
        {
            for (int i = 0; i < frames.Count; i++)
            {
                var f = frames[i];
                string? fullScanReason = FullScanReason(plans[i], reconnected[i]);
                Record(f, plans[i], fullScanReason);
                Scanned?.Invoke(new ScannedFrame(f.Camera.Id, f.Timestamp, f.Image, plans[i], motion[i], fullScanReason, found[i]));
            }
        }

        return found;
    }

    private static readonly ScanPlan FullPass = new(true, [], ScanReason.Periodic);

    /// <summary>The smallest face a camera is searched for: the worker's, or the camera's own when larger.</summary>
    private float MinFace(CameraRef camera) => Math.Max(minFaceSize, camera.MinFaceSize);

    private (ScanPlan, MotionResult) Plan(FrameToScan frame, out bool reconnected)
    {
        if (!_cameras.TryGetValue(frame.Camera.Id, out var state) || state.Camera != frame.Camera)
        {
            // A new camera, or a new start of one (its settings changed): fresh state, whose first frame is scanned whole.
            double phase = _started++ * PhaseStep % 1;
            state = new CameraState(frame.Camera, new CameraScan(_motion, _scan, MinFace(frame.Camera), phase), frame.Reconnects);
            _cameras[frame.Camera.Id] = state;
        }

        reconnected = frame.Reconnects != state.Reconnects;
        if (reconnected)
        {
            // The camera-state events said reconnecting: the picture may have moved, so a new background and a whole pass.
            state.Reconnects = frame.Reconnects;
            state.Scan.Restart();
        }

        _predicted.Clear();
        foreach (var track in _live.Of(frame.Camera))
        {
            _predicted.Add(track.Predict(frame.Timestamp));
        }

        return (state.Scan.Plan(frame.Image, frame.Timestamp, _predicted), state.Scan.LastMotion);
    }

    /// <summary>One of <see cref="FaceStream.Worker.Metrics.CameraMetrics.FullScanReasons"/> for an adaptive whole-frame pass; null otherwise.</summary>
    private string? FullScanReason(ScanPlan plan, bool reconnected) => !options.IsAdaptive || !plan.Full ? null
        : reconnected ? "reconnect"
        : plan.Reason switch
        {
            ScanReason.SceneChange => "scene_change",
            ScanReason.WindowsTooLarge => "windows_too_large",
            _ => "periodic",
        };

    private void Record(FrameToScan frame, ScanPlan plan, string? fullScanReason)
    {
        var m = frame.Camera.Metrics;
        m.ScannedShare.Observe(plan.ScannedShare(frame.Image.Width, frame.Image.Height));
        if (options.IsAdaptive)
        {
            m.ScanWindows.Observe(plan.Windows.Count);
        }

        if (fullScanReason is not null)
        {
            m.FullScans(fullScanReason).Inc();
        }
    }

    private sealed class CameraState(CameraRef camera, CameraScan scan, long reconnects)
    {
        public CameraRef Camera { get; } = camera;

        public CameraScan Scan { get; } = scan;

        public long Reconnects { get; set; } = reconnects;
    }
}
