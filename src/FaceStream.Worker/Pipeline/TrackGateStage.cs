using System.Threading.Channels;
using FaceStream.Core.Faces;
using FaceStream.Core.Quality;
using FaceStream.Core.Tracking;
using FaceStream.Media.Images;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Metrics;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Pipeline;

/// <summary>
/// detect ─► track + gate ─► embed: follows faces per camera (one tracker per camera start), applies the quality gates
/// and sends on only the views worth embedding: a track's first views, at least Pipeline:MinEmbedInterval apart (to
/// reach a decision with views that differ), then clearly better ones, never more than Pipeline:MaxEmbedsPerTrack, none
/// once the decide stage has recognised the track and only much better ones once it called the track a clear stranger.
/// Owns the trackers and each track's gate state; learns what the votes say from the decide stage's feedback channel.
/// </summary>
internal sealed class TrackGateStage
{
    public const int SnapshotJpegQuality = 85;

    private CancellationToken _stopping;
    private readonly WorkerSettings _settings;
    private readonly bool _frameSnapshots;
    private readonly Func<CameraRef, bool> _running;
    private readonly ChannelReader<TrackNews> _news;
    private readonly ILogger _log;
    private readonly Prometheus.Counter.Child[] _gateRejections;
    private readonly Prometheus.Histogram _viewsPerTrack;
    private readonly Dictionary<string, CameraTracks> _cameras = new(StringComparer.Ordinal);
    private readonly float[] _scratch;
    private readonly CameraPreviews? _previews;
    private long _released;

    /// <param name="running">Whether a camera start is still running (a camera that is gone has its tracks ended).</param>
    /// <param name="news">What the decide stage says of tracks: recognised ones need no more views, clear strangers only much better ones.</param>
    /// <param name="frameSnapshots">Encode the whole frame with each view (events carry frame snapshots).</param>
    /// <param name="previews">The console's camera previews, offered each tracked frame (null = none).</param>
    public TrackGateStage(WorkerSettings settings, bool frameSnapshots, Func<CameraRef, bool> running, ChannelReader<TrackNews> news, PipelineMetrics metrics, ILogger log,
        CameraPreviews? previews = null)
    {
        _previews = previews;
        _settings = settings;
        _frameSnapshots = frameSnapshots;
        _running = running;
        _news = news;
        _log = log;
        _viewsPerTrack = metrics.ViewsPerTrack;
        _gateRejections = Enum.GetValues<GateRejection>().Select(r => metrics.GateRejections.WithLabels(r.ToString().ToLowerInvariant())).ToArray();
        _scratch = new float[settings.Quality.SharpnessCropSize * settings.Quality.SharpnessCropSize];
    }

    /// <summary>
    /// Until <paramref name="input"/> completes; then completes <paramref name="output"/>. Once <paramref name="stopping"/>
    /// fires, views are no longer queued for the embedder (it only drains what it already has), so a stop does not
    /// wait for a full embed queue behind a slow embedder, as it did not before the pipeline was split into stages.
    /// </summary>
    public async Task RunAsync(ChannelReader<DetectedBatch> input, ChannelWriter<TrackMessage> output, CancellationToken stopping = default)
    {
        _stopping = stopping;
        try
        {
            await foreach (var batch in input.ReadAllAsync())
            {
                try
                {
                    await ProcessAsync(batch, output);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    _log.TrackingFailed(e, batch.Frames.Count);
                }
                finally
                {
                    batch.Release(LiveTracks());
                }
            }
        }
        finally
        {
            foreach (var gate in _cameras.Values.SelectMany(c => c.Gates.Values))
            {
                gate.DropHeld();
            }

            output.TryComplete();
        }
    }

    /// <summary>One batch: the decide stage's news first, then cameras that went away, then each frame in order.</summary>
    internal async Task ProcessAsync(DetectedBatch batch, ChannelWriter<TrackMessage> output)
    {
        while (_news.TryRead(out var news))
        {
            var key = news.Track;
            if (_cameras.TryGetValue(key.Camera, out var c) && c.Camera.Generation == key.Generation && c.Gates.TryGetValue(key.Track, out var gate))
            {
                if (news.Outlook == TrackOutlook.Recognised)
                {
                    gate.Recognised = true;
                }
                else if (news.Views == gate.Attempts)
                {
                    // Older news is stale: a view sent since may have scored near the threshold.
                    gate.ClearStranger = true;
                }
            }
        }

        foreach (var gone in _cameras.Values.Where(c => !_running(c.Camera)).ToList())
        {
            await EndAllAsync(gone, output);
        }

        foreach (var frame in batch.Frames)
        {
            await GateAsync(frame, output);
        }
    }

    /// <summary>Where every camera start's live tracks are now (handed back to the detect stage with each batch).</summary>
    internal LiveTracks LiveTracks() =>
        new(_cameras.Values.ToDictionary(c => c.Camera, c => (IReadOnlyList<TrackMotion>)c.Tracker.Active.Select(t => t.Motion).ToArray()), ++_released);

    private async Task GateAsync(DetectedFrame frame, ChannelWriter<TrackMessage> output)
    {
        var camera = await TracksOfAsync(frame.Camera, output);
        var m = frame.Camera.Metrics;
        var update = camera.Tracker.Update(frame.Faces, frame.Timestamp);
        m.TracksEnded.Inc(update.Ended.Count);
        foreach (var ended in update.Ended)
        {
            await EndAsync(camera, ended.Id, output);
        }

        foreach (var (face, track, isNew) in update.Assigned)
        {
            if (isNew)
            {
                m.TracksStarted.Inc();
                camera.Gates[track.Id] = new GateState();
            }

            var gate = camera.Gates[track.Id];
            if (WorthEmbedding(frame, face, gate) is { } quality)
            {
                gate.Attempts++;
                gate.BestQuality = Math.Max(gate.BestQuality, quality);
                gate.LastEmbedded = frame.Timestamp;
                gate.ClearStranger = false;
                var view = new FaceView(new TrackKey(camera.Camera.Id, camera.Camera.Generation, track.Id), face, quality, FaceCrop.From(frame.Image, face),
                    frame.Timestamp, frame.MediaTime, frame.DeliveredTicks, _frameSnapshots ? FaceAnnotator.EncodeJpeg(frame.Image, SnapshotJpegQuality) : null);
                if (_settings.Pipeline.HoldFirstViews && gate.Attempts < _settings.Decision.VotesNeeded)
                {
                    // Fewer views than a decision needs decide nothing: they wait (a small crop each) until there are enough.
                    gate.Held.Add(view);
                    continue;
                }

                foreach (var held in gate.Held)
                {
                    await SendAsync(held, output);
                }

                gate.Held.Clear();
                // Waits when the embedder is behind: detection slows, live cameras drop their oldest frames (counted).
                await SendAsync(view, output);
            }
        }

        // Copies the frame now and then (Console:PreviewInterval); encoding happens on the preview encoder's task.
        _previews?.Offer(frame, update.Assigned);
        m.FrameLatency.Observe(System.Diagnostics.Stopwatch.GetElapsedTime(frame.DeliveredTicks).TotalSeconds);
    }

    /// <summary>
    /// The view's quality when it should be embedded: a track's first view; while its first Decision:VoteWindow votes are
    /// collected, a view at least Pipeline:MinEmbedInterval after the last one (or a clearly better one sooner); then only
    /// a clearly better view (Pipeline:BetterViewFactor) that far apart; for a clear stranger, only a much better one
    /// (Pipeline:UnknownRetryFactor). Frames 0.2 s apart are nearly the same picture: their votes are not independent.
    /// </summary>
    private float? WorthEmbedding(DetectedFrame frame, DetectedFace face, GateState gate)
    {
        if (gate.Recognised || gate.Attempts >= _settings.Pipeline.MaxEmbedsPerTrack)
        {
            return null;
        }

        var report = FaceQuality.Assess(frame.Image, face, _settings.Quality, _scratch);
        if (!report.Passed)
        {
            _gateRejections[(int)report.Rejection].Inc();
            return null;
        }

        float q = report.Quality;
        if (gate.Attempts == 0)
        {
            return q;
        }

        var p = _settings.Pipeline;
        bool spaced = frame.Timestamp - gate.LastEmbedded >= p.MinEmbedInterval;
        if (gate.ClearStranger)
        {
            return spaced && q > gate.BestQuality * p.UnknownRetryFactor ? q : null;
        }

        bool better = q > gate.BestQuality * p.BetterViewFactor;
        bool deciding = gate.Attempts < _settings.Decision.VoteWindow;
        return (deciding && (spaced || better)) || (spaced && better) ? q : null;
    }

    /// <summary>The camera's tracks; a new start of the camera (its settings changed) ends the previous start's tracks first.</summary>
    private async ValueTask<CameraTracks> TracksOfAsync(CameraRef camera, ChannelWriter<TrackMessage> output)
    {
        if (_cameras.TryGetValue(camera.Id, out var tracks))
        {
            if (tracks.Camera == camera)
            {
                return tracks;
            }

            await EndAllAsync(tracks, output);
        }

        tracks = new CameraTracks(camera, new FaceTracker(_settings.Tracking));
        _cameras[camera.Id] = tracks;
        return tracks;
    }

    private async Task EndAllAsync(CameraTracks camera, ChannelWriter<TrackMessage> output)
    {
        _cameras.Remove(camera.Camera.Id);
        if (!_running(camera.Camera))
        {
            _previews?.Remove(camera.Camera.Id);
        }

        foreach (var track in camera.Tracker.EndAll())
        {
            await EndAsync(camera, track.Id, output);
        }
    }

    /// <summary>Forgets the track (and drops the views it held back); later stages hear of it only if it ever sent them a view.</summary>
    private async ValueTask EndAsync(CameraTracks camera, long track, ChannelWriter<TrackMessage> output)
    {
        if (!camera.Gates.Remove(track, out var gate))
        {
            return;
        }

        int sent = gate.Sent;
        gate.DropHeld();
        if (sent > 0)
        {
            _viewsPerTrack.Observe(sent);
            try
            {
                await output.WriteAsync(new TrackEnded(new TrackKey(camera.Camera.Id, camera.Camera.Generation, track)), _stopping);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                // Stopping: the decide stage forgets every track when its input completes.
            }
        }
    }

    private async ValueTask SendAsync(FaceView view, ChannelWriter<TrackMessage> output)
    {
        try
        {
            _stopping.ThrowIfCancellationRequested();
            await output.WriteAsync(view, _stopping);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            view.Crop.Dispose();
        }
        catch
        {
            view.Crop.Dispose();
            throw;
        }
    }

    /// <summary>One camera start's tracker and the gate state of each of its live tracks.</summary>
    private sealed record CameraTracks(CameraRef Camera, FaceTracker Tracker)
    {
        public Dictionary<long, GateState> Gates { get; } = [];
    }

    /// <summary>What the gate remembers of a track.</summary>
    private sealed class GateState
    {
        /// <summary>Views taken (sent on or held back).</summary>
        public int Attempts { get; set; }

        /// <summary>Views taken but held back until the track has Decision:VotesNeeded of them (Pipeline:HoldFirstViews).</summary>
        public List<FaceView> Held { get; } = [];

        /// <summary>Views sent on to the embedder.</summary>
        public int Sent => Attempts - Held.Count;

        public void DropHeld()
        {
            Held.ForEach(v => v.Crop.Dispose());
            Held.Clear();
        }

        /// <summary>Best quality embedded so far (for "clearly better view" decisions).</summary>
        public float BestQuality { get; set; }

        /// <summary>When the last view was embedded (frame time).</summary>
        public DateTimeOffset LastEmbedded { get; set; }

        /// <summary>The decide stage recognised the track: no more views needed.</summary>
        public bool Recognised { get; set; }

        /// <summary>The decide stage found every vote so far far below the threshold, and no view has been sent since.</summary>
        public bool ClearStranger { get; set; }
    }
}
