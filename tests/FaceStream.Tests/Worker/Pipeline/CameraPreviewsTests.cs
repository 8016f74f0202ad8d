using System.Threading.Channels;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Media.Images;
using FaceStream.Media.Video;
using FaceStream.Tests.Support;
using FaceStream.Worker.Api;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;
using FaceStream.Worker.Review;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using static FaceStream.Tests.Worker.Pipeline.StageMessages;

namespace FaceStream.Tests.Worker.Pipeline;

/// <summary>
/// The console's camera previews, made by the track + gate stage from a real photo and its detected faces: scaled to
/// Console:PreviewMaxWidth, a box drawn where each face is, track ids and names as labels, one per camera and interval,
/// and only while someone watches the camera (a request for its frame within Console:PreviewWatchWindow).
/// </summary>
public class CameraPreviewsTests(WorkerEngineFixture fixture) : IClassFixture<WorkerEngineFixture>
{
    private readonly PipelineMetrics _metrics = Metrics();

    [Fact]
    public async Task A_tracked_frame_becomes_a_jpeg_scaled_to_the_max_width_with_a_box_where_each_face_is()
    {
        var photo = StillImageDecoder.DecodeFile(TestAssets.Sample(1));
        var faces = fixture.Engine.Detector.Detect(photo);
        Assert.Equal(3, faces.Count);
        var previews = new CameraPreviews(new ConsoleOptions { PreviewInterval = TimeSpan.FromHours(1), PreviewMaxWidth = 320 }, _metrics);
        var camera = Camera(_metrics);
        previews.Watch("door");

        await Gate(previews, camera, photo, 0, faces);
        var preview = previews.Latest("door");

        Assert.NotNull(preview);
        Assert.Equal(T0, preview.Timestamp);
        var jpeg = StillImageDecoder.Decode(preview.Jpeg, "preview.jpg");
        int expectedHeight = (int)Math.Round(photo.Height * 320.0 / photo.Width);
        Assert.Equal((320, expectedHeight), (jpeg.Width, jpeg.Height));
        Assert.Equal((320, expectedHeight), (preview.Width, preview.Height));

        // The same frame scaled without faces: red only where the preview drew a box (the test fails if boxes are missing or misplaced).
        var (plainBytes, _, _) = FaceAnnotator.EncodePreviewJpeg(photo, [], [], 320, 75);
        var plain = StillImageDecoder.Decode(plainBytes, "plain.jpg");
        float scale = 320f / photo.Width;
        foreach (var f in faces)
        {
            // The middle of the box's left and right edges (the label sits on the top edge).
            int yMid = (int)((f.Box.Y1 + f.Box.Y2) / 2 * scale);
            foreach (int x in new[] { (int)Math.Round(f.Box.X1 * scale), (int)Math.Round(f.Box.X2 * scale) })
            {
                Assert.True(Red(jpeg, x, yMid), $"no box edge at ({x}, {yMid}) in the preview");
                Assert.False(Red(plain, x, yMid), $"({x}, {yMid}) is red without a box too");
            }

            // Inside the face, away from the edges and landmarks: the photo's own pixels.
            Assert.False(Red(jpeg, (int)((f.Box.X1 + (0.15f * f.Box.Width)) * scale), (int)((f.Box.Y1 + (0.9f * f.Box.Height)) * scale)));
        }
    }

    [Fact]
    public async Task A_camera_gets_one_preview_per_interval_and_recognised_tracks_are_labelled_with_their_name()
    {
        var previews = new CameraPreviews(new ConsoleOptions { PreviewInterval = TimeSpan.FromHours(1) }, _metrics);
        var camera = Camera(_metrics);
        var other = Camera(_metrics, "yard");
        previews.Watch("door");
        previews.Watch("yard");
        var image = Grey(160);
        var gate = new TrackGateStage(new WorkerSettings(), false, _ => true, Channel.CreateUnbounded<TrackNews>().Reader, _metrics, NullLogger.Instance, previews);
        var encoding = previews.RunAsync();
        var sink = Channel.CreateUnbounded<TrackMessage>();

        await gate.ProcessAsync(new DetectedBatch([new DetectedFrame(camera, image, T0, TimeSpan.Zero, 0, [Face()])]), sink.Writer);
        await Until(() => previews.Latest("door") is not null);
        // Within the interval: the same camera's next frame is not taken; another camera's first frame is.
        await gate.ProcessAsync(new DetectedBatch([new DetectedFrame(camera, image, T0.AddSeconds(1), TimeSpan.FromSeconds(1), 0, [Face()])]), sink.Writer);
        await gate.ProcessAsync(new DetectedBatch([new DetectedFrame(other, image, T0.AddSeconds(2), TimeSpan.FromSeconds(2), 0, [])]), sink.Writer);
        previews.Complete();
        await encoding;

        Assert.Equal(T0, previews.Latest("door")!.Timestamp);
        Assert.Equal(T0.AddSeconds(2), previews.Latest("yard")!.Timestamp);
        Assert.Null(previews.Latest("gate"));

        var track = new TrackKey("door", 1, 1);
        Assert.Equal("#1", previews.Label(track));
        previews.Named(track, "Alice");
        Assert.Equal("#1 Alice", previews.Label(track));
        Assert.Equal("#1", previews.Label(track with { Generation = 2 }));
        previews.Forget(track);
        Assert.Equal("#1", previews.Label(track));
    }

    [Fact]
    public async Task With_the_interval_zero_no_frame_is_copied()
    {
        var previews = new CameraPreviews(new ConsoleOptions { PreviewInterval = TimeSpan.Zero }, _metrics);
        await Gate(previews, Camera(_metrics), Grey(), 0, [Face()]);
        Assert.False(previews.Enabled);
        Assert.Null(previews.Latest("door"));
    }

    [Fact]
    public async Task An_unwatched_camera_gets_no_previews_a_request_brings_them_back_until_the_watch_window_expires()
    {
        var clock = new ManualClock();
        var previews = new CameraPreviews(new ConsoleOptions { PreviewInterval = TimeSpan.FromSeconds(2), PreviewWatchWindow = TimeSpan.FromSeconds(30) }, _metrics, clock: clock);
        var camera = Camera(_metrics);
        var made = _metrics.Previews.WithLabels("door");
        var gate = new TrackGateStage(new WorkerSettings(), false, _ => true, Channel.CreateUnbounded<TrackNews>().Reader, _metrics, NullLogger.Instance, previews);
        var encoding = previews.RunAsync();
        var sink = Channel.CreateUnbounded<TrackMessage>();
        var image = Grey(160);
        var seconds = 0.0;
        async Task Frame(double at)
        {
            clock.Advance(TimeSpan.FromSeconds(at - seconds));
            seconds = at;
            await gate.ProcessAsync(new DetectedBatch([new DetectedFrame(camera, image, T0.AddSeconds(at), TimeSpan.FromSeconds(at), 0, [Face()])]), sink.Writer);
        }

        // A minute of frames, nobody watching: none copied, none encoded (the series is there, at 0).
        for (int s = 0; s < 60; s++)
        {
            await Frame(s);
        }

        Assert.False(previews.Watched("door"));
        Assert.Equal(0, made.Value);
        Assert.Null(previews.Latest("door"));

        // A request (at 59 s): the next frame becomes a preview, then one per interval.
        previews.Watch("door");
        Assert.True(previews.Watched("door"));
        await Frame(60);
        await Until(() => made.Value == 1);
        Assert.Equal(T0.AddSeconds(60), previews.Latest("door")!.Timestamp);
        await Frame(61);
        await Frame(62.5);
        await Until(() => made.Value == 2);
        Assert.Equal(T0.AddSeconds(62.5), previews.Latest("door")!.Timestamp);

        // 30 s after the request nobody has asked again: no more previews; the last one stays for the next request.
        await Frame(88.9);
        await Until(() => made.Value == 3);
        await Frame(89.1);
        await Frame(100);
        Assert.False(previews.Watched("door"));
        previews.Complete();
        await encoding;
        Assert.Equal(3, made.Value);
        Assert.Equal(T0.AddSeconds(88.9), previews.Latest("door")!.Timestamp);
    }

    [Fact]
    public async Task A_frame_request_is_answered_with_the_last_preview_or_a_503_while_one_is_prepared_and_marks_the_camera_watched()
    {
        var previews = new CameraPreviews(new ConsoleOptions { PreviewInterval = TimeSpan.FromSeconds(2) }, _metrics);
        var streaming = new CameraStatus("door", "rtsp://door", SourceState.Streaming, null, new VideoSourceStats(), null);

        Assert.Equal(404, ConsoleApi.Frame("nowhere", null, previews).Refusal!.StatusCode);
        var first = ConsoleApi.Frame("door", streaming, previews).Refusal!;
        Assert.Equal(503, first.StatusCode);
        Assert.Equal(1, first.RetryAfterSeconds);
        Assert.Contains("being prepared", first.Value.Detail, StringComparison.Ordinal);
        Assert.True(previews.Watched("door"));

        // A file at its end makes no more frames: nothing is being prepared.
        var ended = ConsoleApi.Frame("door", streaming with { State = SourceState.Completed }, previews).Refusal!;
        Assert.Equal(404, ended.StatusCode);
        Assert.Null(ended.RetryAfterSeconds);

        // The request made the next frame a preview: the next request gets it.
        await Gate(previews, Camera(_metrics), Grey(), 0, [Face()]);
        var (preview, refusal) = ConsoleApi.Frame("door", streaming, previews);
        Assert.Null(refusal);
        Assert.Equal(T0, preview!.Timestamp);

        // Previews off: 404, and nothing is watched.
        var off = new CameraPreviews(new ConsoleOptions { PreviewInterval = TimeSpan.Zero }, _metrics);
        Assert.Equal(404, ConsoleApi.Frame("door", streaming, off).Refusal!.StatusCode);
        Assert.False(off.Watched("door"));
    }

    [Theory]
    [InlineData("00:00:02", "00:00:30", true)]
    [InlineData("00:00:02", "00:00:02", false)]
    [InlineData("00:00:02", "00:00:01", false)]
    [InlineData("00:00:02", "2.00:00:00", false)]
    [InlineData("00:00:00", "00:00:00", true)]
    public void The_watch_window_must_be_longer_than_the_interval(string interval, string window, bool valid)
    {
        var errors = new ConsoleOptions { PreviewInterval = TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture), PreviewWatchWindow = TimeSpan.Parse(window, System.Globalization.CultureInfo.InvariantCulture) }.Validate().ToList();
        Assert.Equal(valid, errors.Count == 0);
        Assert.All(errors, e => Assert.Contains("Console:PreviewWatchWindow", e, StringComparison.Ordinal));
    }

    /// <summary>One frame through a track + gate stage with <paramref name="previews"/>, then the encoder drained.</summary>
    private async Task Gate(CameraPreviews previews, CameraRef camera, ImageFrame image, int second, IReadOnlyList<DetectedFace> faces)
    {
        var gate = new TrackGateStage(new WorkerSettings(), false, _ => true, Channel.CreateUnbounded<TrackNews>().Reader, _metrics, NullLogger.Instance, previews);
        var encoding = previews.RunAsync();
        await gate.ProcessAsync(new DetectedBatch([new DetectedFrame(camera, image, T0.AddSeconds(second), TimeSpan.FromSeconds(second), 0, faces)]),
            Channel.CreateUnbounded<TrackMessage>().Writer);
        previews.Complete();
        await encoding;
    }

    /// <summary>Waits for the encoder's task (it runs beside the test); bounded so a broken encoder fails the test.</summary>
    private static async Task Until(Func<bool> done)
    {
        for (int i = 0; i < 600 && !done(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(done(), "the preview encoder did not finish within 30 s");
    }

    /// <summary>A clock the test moves by hand (the interval and the watch window read its timestamps).</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    /// <summary>The annotator's box colour (255, 40, 40), give or take JPEG's colour loss.</summary>
    private static bool Red(ImageFrame image, int x, int y)
    {
        var (r, g, b) = image.Format.ChannelOffsets();
        int bpp = image.Format.BytesPerPixel();
        var p = image.Pixels.Span.Slice((Math.Clamp(y, 0, image.Height - 1) * image.Stride) + (Math.Clamp(x, 0, image.Width - 1) * bpp), bpp);
        return p[r] > 170 && p[g] < 110 && p[b] < 110;
    }
}
