using Prometheus;

namespace FaceStream.Worker.Metrics;

/// <summary>Every metric the worker exports (names documented in the README); one instance per registry.</summary>
public sealed class PipelineMetrics
{
    private static readonly double[] LatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];

    public PipelineMetrics(CollectorRegistry? registry = null)
    {
        Registry = registry ?? Prometheus.Metrics.DefaultRegistry;
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);
        CameraUp = f.CreateGauge("facestream_camera_up", "1 while the camera is streaming, else 0.", "camera");
        CameraState = f.CreateGauge("facestream_camera_state", "1 for the camera's current state.", "camera", "state");
        FramesDecoded = f.CreateCounter("facestream_camera_frames_decoded_total", "Frames decoded.", "camera");
        FramesAnalysed = f.CreateCounter("facestream_camera_frames_analysed_total", "Frames that went through detection.", "camera");
        FramesDropped = f.CreateCounter("facestream_camera_frames_dropped_total", "Frames dropped because analysis was behind (live cameras).", "camera");
        Reconnects = f.CreateCounter("facestream_camera_reconnects_total", "Times the camera lost its stream and reconnected.", "camera");
        Previews = f.CreateCounter("facestream_camera_previews_total", "Console previews made (Console:PreviewInterval), only while someone watches the camera (Console:PreviewWatchWindow).", "camera");
        LastFrameAge = f.CreateGauge("facestream_camera_last_frame_age_seconds", "Seconds since the last decoded frame (a frozen camera keeps growing).", "camera");
        StageLatency = f.CreateHistogram("facestream_stage_latency_seconds", "Time per batch in a stage.", new HistogramConfiguration { LabelNames = ["stage"], Buckets = LatencyBuckets });
        StageBatchSize = f.CreateHistogram("facestream_stage_batch_size", "Items per batch in a stage.", new HistogramConfiguration { LabelNames = ["stage"], Buckets = [1, 2, 4, 8, 16, 32, 64] });
        QueueDepth = f.CreateGauge("facestream_stage_queue_depth", "Items waiting in front of a stage.", "stage");
        FacesDetected = f.CreateCounter("facestream_faces_detected_total", "Faces detected.", "camera");
        TracksStarted = f.CreateCounter("facestream_tracks_started_total", "Tracks started.", "camera");
        TracksEnded = f.CreateCounter("facestream_tracks_ended_total", "Tracks ended.", "camera");
        Embeddings = f.CreateCounter("facestream_embeddings_total", "Face views embedded (in full, by the whole embedder).", "camera");
        ViewsPreScreened = f.CreateCounter("facestream_views_prescreened_total", "Face views the pre-screen found far from everyone on the watchlist, so not embedded in full (Pipeline:PreScreen).", "camera");
        ViewsPerTrack = f.CreateHistogram("facestream_track_views", "Views embedded per track, observed when the track ends (tracks with at least one view).",
            new HistogramConfiguration { Buckets = [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32] });
        AttributesAnalysed = f.CreateCounter("facestream_attributes_analysed_total", "Faces whose attributes were read (Events:Attributes: one per match or unknown event).", "camera");
        GateRejections = f.CreateCounter("facestream_gate_rejections_total", "Face views not embedded, by gate.", "reason");
        Matches = f.CreateCounter("facestream_matches_total", "Tracks recognised as a watchlist identity.", "camera");
        Events = f.CreateCounter("facestream_events_total", "Events published, by kind.", "camera", "kind");
        EventsDelivered = f.CreateCounter("facestream_events_delivered_total", "Events a sink accepted.", "sink");
        EventsFailed = f.CreateCounter("facestream_events_failed_total", "Delivery attempts a sink failed (the event stays buffered and is retried).", "sink");
        EventsLost = f.CreateCounter("facestream_events_lost_total", "Events never delivered to a sink (its buffer was full, or shutdown came first).", "sink");
        EventsSuppressed = f.CreateCounter("facestream_events_suppressed_total", "Matches not published because of the camera × identity cooldown.", "camera");
        FrameLatency = f.CreateHistogram("facestream_frame_latency_seconds", "From frame delivery by the source to detection and tracking done, per analysed frame.",
            new HistogramConfiguration { LabelNames = ["camera"], Buckets = LatencyBuckets });
        FrameToDecision = f.CreateHistogram("facestream_frame_to_decision_seconds", "From frame delivery by the source to the published decision.",
            new HistogramConfiguration { Buckets = LatencyBuckets });
        ScannedShare = f.CreateHistogram("facestream_detect_scanned_share", "Share of each analysed frame's pixels the detector searched (1 for a whole-frame pass, 0 when nothing needed a look).",
            new HistogramConfiguration { LabelNames = ["camera"], Buckets = [0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1] });
        ScanWindows = f.CreateHistogram("facestream_detect_windows", "Windows searched per analysed frame in adaptive mode (0 for a whole-frame pass or an idle frame).",
            new HistogramConfiguration { LabelNames = ["camera"], Buckets = [0, 1, 2, 3, 4, 6, 8, 16] });
        FullScans = f.CreateCounter("facestream_detect_full_scans_total", "Whole-frame passes in adaptive mode, by reason (periodic, scene_change, windows_too_large, reconnect).", "camera", "reason");
        Info = f.CreateGauge("facestream_info", "Build and model facts as labels (value 1).", "version", "execution_provider", "detector", "embedder");
        GalleryTemplates = f.CreateGauge("facestream_watchlist_templates", "Templates in the watchlist the worker searches.");
        WatchlistReachable = f.CreateGauge("facestream_watchlist_reachable", "1 when the watchlist store answered the last check, 0 while it is unreachable (the worker searches its last copy).");
        WatchlistVersion = f.CreateGauge("facestream_watchlist_version", "The store's watchlist version the worker searches (moves on every change).");
        WatchlistResyncs = f.CreateCounter("facestream_watchlist_resyncs_total", "Watchlist cache updates by kind: full (the whole watchlist reloaded: start, version gap, missed or older-format message) or incremental (only the changed identities reloaded).", "kind");
    }

    public CollectorRegistry Registry { get; }

    public Gauge CameraUp { get; }
    public Gauge CameraState { get; }
    public Counter FramesDecoded { get; }
    public Counter FramesAnalysed { get; }
    public Counter FramesDropped { get; }
    public Counter Reconnects { get; }
    public Gauge LastFrameAge { get; }
    public Counter Previews { get; }
    public Histogram StageLatency { get; }
    public Histogram StageBatchSize { get; }
    public Gauge QueueDepth { get; }
    public Counter FacesDetected { get; }
    public Counter TracksStarted { get; }
    public Counter TracksEnded { get; }
    public Counter Embeddings { get; }
    public Counter ViewsPreScreened { get; }
    public Histogram ViewsPerTrack { get; }
    public Counter AttributesAnalysed { get; }
    public Counter GateRejections { get; }
    public Counter Matches { get; }
    public Counter Events { get; }
    public Counter EventsDelivered { get; }
    public Counter EventsFailed { get; }
    public Counter EventsLost { get; }
    public Counter EventsSuppressed { get; }
    public Histogram FrameLatency { get; }
    public Histogram FrameToDecision { get; }
    public Histogram ScannedShare { get; }
    public Histogram ScanWindows { get; }
    public Counter FullScans { get; }
    public Gauge Info { get; }
    public Gauge GalleryTemplates { get; }
    public Gauge WatchlistReachable { get; }
    public Gauge WatchlistVersion { get; }
    public Counter WatchlistResyncs { get; }
}

/// <summary>One camera's metric series, looked up once when the camera starts so the per-frame path does no label lookups.</summary>
public sealed class CameraMetrics(PipelineMetrics m, string camera)
{
    /// <summary>The reason labels of <c>facestream_detect_full_scans_total</c>.</summary>
    public static readonly IReadOnlyList<string> FullScanReasons = ["periodic", "scene_change", "windows_too_large", "reconnect"];

    public Counter.Child FramesAnalysed { get; } = m.FramesAnalysed.WithLabels(camera);
    public Counter.Child FramesDropped { get; } = m.FramesDropped.WithLabels(camera);
    public Counter.Child FacesDetected { get; } = m.FacesDetected.WithLabels(camera);
    public Counter.Child TracksStarted { get; } = m.TracksStarted.WithLabels(camera);
    public Counter.Child TracksEnded { get; } = m.TracksEnded.WithLabels(camera);
    public Histogram.Child FrameLatency { get; } = m.FrameLatency.WithLabels(camera);
    public Histogram.Child ScannedShare { get; } = m.ScannedShare.WithLabels(camera);
    public Histogram.Child ScanWindows { get; } = m.ScanWindows.WithLabels(camera);

    /// <summary>Console previews made (0 from the start, so that an unwatched camera shows none were made).</summary>
    public Counter.Child Previews { get; } = m.Previews.WithLabels(camera);

    private readonly Dictionary<string, Counter.Child> _fullScans = FullScanReasons.ToDictionary(r => r, r => m.FullScans.WithLabels(camera, r), StringComparer.Ordinal);

    /// <summary>The full-scan counter of one of <see cref="FullScanReasons"/>.</summary>
    public Counter.Child FullScans(string reason) => _fullScans[reason];

    /// <summary>Removes every series of this camera (it was removed from the config).</summary>
    public void Remove()
    {
        foreach (var reason in FullScanReasons)
        {
            m.FullScans.RemoveLabelled(camera, reason);
        }

        foreach (var collector in new Collector[] { m.CameraUp, m.FramesDecoded, m.FramesAnalysed, m.FramesDropped, m.Reconnects, m.LastFrameAge,
                     m.FacesDetected, m.TracksStarted, m.TracksEnded, m.FrameLatency, m.ScannedShare, m.ScanWindows, m.Previews })
        {
            switch (collector)
            {
                case Counter c: c.RemoveLabelled(camera); break;
                case Gauge g: g.RemoveLabelled(camera); break;
                case Histogram h: h.RemoveLabelled(camera); break;
            }
        }
    }
}
