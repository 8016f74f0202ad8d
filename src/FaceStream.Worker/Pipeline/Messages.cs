using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Core.Tracking;
using FaceStream.Worker.Events;
using FaceStream.Worker.Metrics;

namespace FaceStream.Worker.Pipeline;

// The messages that cross the pipeline's channels (see FramePipeline for the chain). Each is immutable; a message
// that carries a pooled buffer (a frame, a face crop) hands it on, and the doc comment says who returns it.

/// <summary>A camera as the stages after detection know it: its id, which start of it (a restarted camera's track ids begin again) and its metric series.</summary>
/// <param name="MinFaceSize">The camera's own smallest face (Cameras[].MinFaceSize; 0 = the worker's).</param>
internal sealed record CameraRef(string Id, long Generation, CameraMetrics Metrics, int MinFaceSize = 0);

/// <summary>One track of one start of one camera: the key of every piece of per-track state.</summary>
internal readonly record struct TrackKey(string Camera, long Generation, long Track);

/// <summary>decide ─► track + gate, the one feedback edge: a track needs no more views (recognised), or fewer (a clear stranger).</summary>
/// <param name="Views">Views the track had voted with when this was said: the gate takes a clear stranger's news only while it has sent no newer view.</param>
internal readonly record struct TrackNews(TrackKey Track, TrackOutlook Outlook, int Views);

/// <summary>What a track's votes so far say about its next views.</summary>
internal enum TrackOutlook
{
    /// <summary>Recognised: no more views.</summary>
    Recognised,

    /// <summary>Every view in the vote window scored far below the threshold (Pipeline:ClearUnknownMargin): only a much better view is worth embedding.</summary>
    ClearStranger,
}

/// <summary>One analysed frame and the faces found in it.</summary>
/// <param name="DeliveredTicks"><see cref="System.Diagnostics.Stopwatch"/> ticks when the source delivered the frame (latency metrics).</param>
internal sealed record DetectedFrame(CameraRef Camera, ImageFrame Image, DateTimeOffset Timestamp, TimeSpan MediaTime, long DeliveredTicks, IReadOnlyList<DetectedFace> Faces);

/// <summary>
/// detect ─► track + gate: a batch of analysed frames. The frames stay the detect stage's: the gate reads them and calls
/// <see cref="Release(LiveTracks)"/> when done; only then does the detect stage return them to the pool and take new ones
/// from those cameras, so a live camera's queue keeps holding its newest frames and the frames held at once stay queue +
/// decoder + the batches in flight (Pipeline:DetectBatchesInFlight). The release carries the gate's live tracks back
/// (adaptive detection aims its windows with them).
/// </summary>
internal sealed class DetectedBatch(IReadOnlyList<DetectedFrame> frames)
{
    private readonly TaskCompletionSource<LiveTracks> _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<DetectedFrame> Frames { get; } = frames;

    public Task<LiveTracks> Released => _released.Task;

    public void Release() => Release(LiveTracks.None);

    public void Release(LiveTracks live) => _released.TrySetResult(live);
}

/// <summary>
/// track + gate ─► detect, with a batch's release: an immutable copy of where each camera start's live tracks were and
/// how they moved. The tracks stay the gate's; the detect stage only predicts from the copy.
/// </summary>
/// <param name="Sequence">How many batches the gate had processed when it made the copy: of two copies, the later one holds every camera's newest tracks.</param>
internal sealed record LiveTracks(IReadOnlyDictionary<CameraRef, IReadOnlyList<TrackMotion>> ByCamera, long Sequence = 0)
{
    public static readonly LiveTracks None = new(new Dictionary<CameraRef, IReadOnlyList<TrackMotion>>());

    public IReadOnlyList<TrackMotion> Of(CameraRef camera) => ByCamera.TryGetValue(camera, out var tracks) ? tracks : [];
}

/// <summary>track + gate ─► embed ─► decide: what happens to one track, in the order it happened.</summary>
internal abstract record TrackMessage(TrackKey Track);

/// <summary>A view of a track worth embedding. The crop is pooled: whoever drops the view (or the decide stage, after deciding) disposes it.</summary>
/// <param name="FrameJpeg">The whole frame, when events carry frame snapshots.</param>
internal sealed record FaceView(TrackKey Track, DetectedFace Face, float Quality, FaceCrop Crop, DateTimeOffset FrameTimestamp, TimeSpan MediaTime, long DeliveredTicks,
    byte[]? FrameJpeg) : TrackMessage(Track);

/// <summary>The track is over (left the picture, or its camera stopped): its per-track state can go.</summary>
internal sealed record TrackEnded(TrackKey Track) : TrackMessage(Track);

/// <summary>A view and its embedding; the view's crop still to be disposed by the decide stage.</summary>
/// <param name="Embedding">Null when the pre-screen found the view far from everyone on the watchlist (Pipeline:PreScreen): a vote for nobody.</param>
internal sealed record EmbeddedView(FaceView View, float[]? Embedding) : TrackMessage(View.Track);

/// <summary>decide ─► describe ─► publish: an event to publish, with the pictures for its snapshot (when snapshots are on).</summary>
/// <param name="Crop">The face crop of the view the event shows, for its attributes: the describe stage reads and disposes it and hands the decision on without (null).</param>
internal sealed record Decision(TrackEvent Event, FaceCrop? Crop, byte[]? FaceJpeg, byte[]? FrameJpeg);
