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
/// and sends on only the views worth embedding: a track's first views (to reach a decision), then clearly better
/// ones, never more than Pipeline:MaxEmbedsPerTrack, none once the decide stage has recognised the track. Owns the
/// trackers and each track's gate state; learns of recognised tracks from the decide stage's feedback channel.
/// </summary>
internal sealed class TrackGateStage
{
    public const int SnapshotJpegQuality = 85;

    private CancellationToken _stopping;
    private readonly WorkerSettings _settings;
    private readonly bool _frameSnapshots;
    private readonly Func<CameraRef, bool> _running;
    private readonly ChannelReader<TrackKey> _recognised;
    private readonly ILogger _log;
    private readonly Prometheus.Counter.Child[] _gateRejections;
    private readonly Dictionary<string, CameraTracks> _cameras = new(StringComparer.Ordinal);
    private readonly float[] _scratch;
    private readonly CameraPreviews? _previews;

    /// <param name="running">Whether a camera start is still running (a camera that is gone has its tracks ended).</param>
    /// <param name="recognised">Tracks the decide stage recognised: they need no more views.</param>
    /// <param name="frameSnapshots">Encode the whole frame with each view (events carry frame snapshots).</param>
    /// <param name="previews">The console's camera previews, offered each tracked frame (null = none).</param>
    public TrackGateStage(WorkerSettings settings, bool frameSnapshots, Func<CameraRef, bool> running, ChannelReader<TrackKey> recognised, PipelineMetrics metrics, ILogger log,
        CameraPreviews? previews = null)
    {
        _previews = previews;
        _settings = settings;
        _frameSnapshots = frameSnapshots;
        _running = running;
        _recognised = recognised;
        _log = log;
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
            output.TryComplete();
        }
    }

    /// <summary>One batch: the decide stage's news first, then cameras that went away, then each frame in order.</summary>
    internal async Task ProcessAsync(DetectedBatch batch, ChannelWriter<TrackMessage> output)
    {
        while (_recognised.TryRead(out var key))
        {
            if (_cameras.TryGetValue(key.Camera, out var c) && c.Camera.Generation == key.Generation && c.Gates.TryGetValue(key.Track, out var gate))
            {
                gate.Recognised = true;
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
        new(_cameras.Values.ToDictionary(c => c.Camera, c => (IReadOnlyList<TrackMotion>)c.Tracker.Active.Select(t => t.Motion).ToArray()));

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
                var view = new FaceView(new TrackKey(camera.Camera.Id, camera.Camera.Generation, track.Id), face, quality, FaceCrop.From(frame.Image, face),
                    frame.Timestamp, frame.MediaTime, frame.DeliveredTicks, _frameSnapshots ? FaceAnnotator.EncodeJpeg(frame.Image, SnapshotJpegQuality) : null);
                // Waits when the embedder is behind: detection slows, live cameras drop their oldest frames (counted).
                await SendAsync(view, output);
            }
        }

        // Copies the frame now and then (Console:PreviewInterval); encoding happens on the preview encoder's task.
        _previews?.Offer(frame, update.Assigned);
        m.FrameLatency.Observe(System.Diagnostics.Stopwatch.GetElapsedTime(frame.DeliveredTicks).TotalSeconds);
    }

    /// <summary>The view's quality when it should be embedded: on a track's first views (to reach a decision), then only clearly better ones.</summary>
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

        bool deciding = gate.Attempts < _settings.Decision.VoteWindow;
        return deciding || report.Quality > gate.BestQuality * _settings.Pipeline.BetterViewFactor ? report.Quality : null;
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

    /// <summary>Forgets the track; later stages hear of it only if it ever sent them a view.</summary>
    private async ValueTask EndAsync(CameraTracks camera, long track, ChannelWriter<TrackMessage> output)
    {
        if (camera.Gates.Remove(track, out var gate) && gate.Attempts > 0)
        {
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
        public int Attempts { get; set; }

        /// <summary>Best quality embedded so far (for "clearly better view" decisions).</summary>
        public float BestQuality { get; set; }

        /// <summary>The decide stage recognised the track: no more views needed.</summary>
        public bool Recognised { get; set; }
    }
}
