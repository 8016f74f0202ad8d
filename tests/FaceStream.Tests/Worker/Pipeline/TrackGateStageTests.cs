using System.Threading.Channels;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Media.Images;
using FaceStream.Tests.Support;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using static FaceStream.Tests.Worker.Pipeline.StageMessages;

namespace FaceStream.Tests.Worker.Pipeline;

/// <summary>The track + gate stage fed detected frames of a real photo: which views go on to the embedder, and when tracks end.</summary>
public class TrackGateStageTests(WorkerEngineFixture fixture) : IClassFixture<WorkerEngineFixture>
{
    private readonly WorkerSettings _settings = new();
    private readonly PipelineMetrics _metrics = Metrics();
    private readonly Channel<TrackNews> _news = Channel.CreateUnbounded<TrackNews>();
    private readonly Channel<TrackMessage> _out = Channel.CreateUnbounded<TrackMessage>();
    private readonly HashSet<CameraRef> _stopped = [];

    private TrackGateStage Stage() => new(_settings, frameSnapshots: false, camera => !_stopped.Contains(camera), _news.Reader, _metrics, NullLogger.Instance);

    /// <summary>The photo's largest face, as the detector finds it.</summary>
    private (ImageFrame Image, DetectedFace Face) Photo()
    {
        var image = StillImageDecoder.DecodeFile(TestAssets.Sample(3));
        return (image, fixture.Engine.Detector.Detect(image).MaxBy(f => f.Box.Width * f.Box.Height)!);
    }

    private static DetectedBatch Batch(CameraRef camera, ImageFrame image, int frame, params DetectedFace[] faces) =>
        new([new DetectedFrame(camera, image, T0.AddSeconds(frame * 0.2), TimeSpan.FromSeconds(frame * 0.2), System.Diagnostics.Stopwatch.GetTimestamp(), faces)]);

    private List<TrackMessage> Sent()
    {
        var sent = new List<TrackMessage>();
        while (_out.Reader.TryRead(out var m))
        {
            sent.Add(m);
            (m as FaceView)?.Crop.Dispose();
        }

        return sent;
    }

    /// <summary>Frames 0 and 2 (0.4 s apart): the two views a decision needs, sent on together; returns the first.</summary>
    private async Task<FaceView> TwoViewsAsync(TrackGateStage stage, CameraRef camera, ImageFrame image, DetectedFace face)
    {
        await stage.ProcessAsync(Batch(camera, image, 0, face), _out.Writer);
        Assert.Empty(Sent());
        await stage.ProcessAsync(Batch(camera, image, 2, face), _out.Writer);
        var views = Sent().Cast<FaceView>().ToList();
        Assert.Equal(2, views.Count);
        return views[0];
    }

    [Fact]
    public async Task A_steady_face_is_sent_for_the_first_views_of_the_vote_window_only()
    {
        var stage = Stage();
        var camera = Camera(_metrics);
        var (image, face) = Photo();
        for (int i = 0; i < 6; i++)
        {
            await stage.ProcessAsync(Batch(camera, image, i, face), _out.Writer);
        }

        var views = Sent().Cast<FaceView>().ToList();
        // The same view again is not "clearly better" (Pipeline:BetterViewFactor), so after the window nothing more is sent.
        Assert.Equal(_settings.Decision.VoteWindow, views.Count);
        Assert.All(views, v => Assert.Equal(new TrackKey("door", 1, 1), v.Track));
        Assert.All(views, v => Assert.InRange(v.Quality, 0.01f, 1f));
        Assert.Equal(1, _metrics.TracksStarted.WithLabels("door").Value);
    }

    /// <summary>A sharp (noise) picture: the synthetic faces on it pass the blur gate, and their quality follows their size (below 112 px).</summary>
    private static readonly ImageFrame Noise = NoisePicture();

    private static ImageFrame NoisePicture()
    {
        var pixels = new byte[240 * 240 * 3];
        new Random(12).NextBytes(pixels);
        return new ImageFrame(240, 240, 240 * 3, PixelFormat.Rgb24, pixels);
    }

    /// <summary>Sends a synthetic face of side <paramref name="size"/> at frame <paramref name="frame"/> (0.2 s apart) and returns the seconds of the views that went on.</summary>
    private async Task<List<double>> ShowAsync(TrackGateStage stage, CameraRef camera, params (int Frame, float Size)[] shown)
    {
        foreach (var (frame, size) in shown)
        {
            await stage.ProcessAsync(Batch(camera, Noise, frame, Face(40, 40, size)), _out.Writer);
        }

        return Sent().Cast<FaceView>().Select(v => (v.FrameTimestamp - T0).TotalSeconds).ToList();
    }

    [Fact]
    public async Task Views_closer_than_the_least_interval_are_skipped_and_the_vote_window_still_fills()
    {
        var stage = Stage();
        var camera = Camera(_metrics);

        // Ten frames 0.2 s apart, the same face: every other frame is 0.4 s (Pipeline:MinEmbedInterval) after the last view.
        var seconds = await ShowAsync(stage, camera, Enumerable.Range(0, 10).Select(i => (i, 60f)).ToArray());

        Assert.Equal([0, 0.4, 0.8], seconds, (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal(_settings.Decision.VoteWindow, seconds.Count);
    }

    [Fact]
    public async Task A_clearly_better_view_does_not_wait_for_the_interval_while_the_first_votes_are_collected()
    {
        var stage = Stage();
        var camera = Camera(_metrics);

        // 60 px then 100 px (quality × 1.67, above Pipeline:BetterViewFactor): the bigger face goes at once, its twin 0.2 s later does not.
        var seconds = await ShowAsync(stage, camera, (0, 60), (1, 100), (2, 100), (3, 100));

        Assert.Equal([0, 0.2, 0.6], seconds, (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Fact]
    public async Task Without_spacing_every_frame_of_the_vote_window_is_a_view()
    {
        _settings.Pipeline.MinEmbedInterval = TimeSpan.Zero;
        var stage = Stage();

        var seconds = await ShowAsync(stage, Camera(_metrics), Enumerable.Range(0, 6).Select(i => (i, 60f)).ToArray());

        Assert.Equal([0, 0.2, 0.4], seconds, (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(true, false)]
    public async Task A_clear_stranger_gets_only_a_much_better_view_once_the_news_is_current(bool told, bool current)
    {
        var stage = Stage();
        var camera = Camera(_metrics);
        var seconds = await ShowAsync(stage, camera, (0, 60), (2, 60), (4, 60));
        Assert.Equal(3, seconds.Count);

        // The decide stage found all three far below the threshold (or, stale, only the first two: a third may have come close).
        if (told)
        {
            _news.Writer.TryWrite(new TrackNews(new TrackKey("door", 1, 1), TrackOutlook.ClearStranger, current ? 3 : 2));
        }

        // 75 px is quality × 1.25: clearly better (Pipeline:BetterViewFactor 1.15) but not much better (Pipeline:UnknownRetryFactor 1.5).
        var better = await ShowAsync(stage, camera, (6, 75));
        Assert.Equal(told && current ? [] : new List<double> { 1.2 }, better, (a, b) => Math.Abs(a - b) < 1e-6);

        // 100 px (× 1.67 of the first views) is worth a view even for a clear stranger.
        if (told && current)
        {
            Assert.Equal([1.6], await ShowAsync(stage, camera, (8, 100)), (a, b) => Math.Abs(a - b) < 1e-6);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_track_with_fewer_views_than_a_decision_needs_costs_no_embedding_when_first_views_are_held(bool hold)
    {
        _settings.Pipeline.HoldFirstViews = hold;
        var stage = Stage();
        var camera = Camera(_metrics);

        // One view (Decision:VotesNeeded is 2), then the face is gone until the track ends.
        Assert.Equal(hold ? [] : new List<double> { 0 }, await ShowAsync(stage, camera, (0, 60)));
        for (int frame = 1; frame <= 1 + _settings.Tracking.MaxMissedFrames; frame++)
        {
            await stage.ProcessAsync(Batch(camera, Noise, frame), _out.Writer);
        }

        // Held: the embedder and the decide stage never hear of it. Not held: its one view, then its end.
        Assert.Equal(hold ? 0 : 1, Sent().OfType<TrackEnded>().Count());
        Assert.Equal(hold ? 0 : 1, _metrics.ViewsPerTrack.Count);
    }

    [Fact]
    public async Task Each_ended_track_observes_how_many_views_it_had()
    {
        var stage = Stage();
        var camera = Camera(_metrics);
        await ShowAsync(stage, camera, Enumerable.Range(0, 10).Select(i => (i, 60f)).ToArray());
        for (int frame = 10; frame <= 11 + _settings.Tracking.MaxMissedFrames; frame++)
        {
            await stage.ProcessAsync(Batch(camera, Noise, frame), _out.Writer);
        }

        Assert.IsType<TrackEnded>(Assert.Single(Sent()));
        Assert.Equal(1, _metrics.ViewsPerTrack.Count);
        Assert.Equal(3, _metrics.ViewsPerTrack.Sum);
    }

    [Fact]
    public async Task A_track_the_decide_stage_recognised_gets_no_more_views()
    {
        var stage = Stage();
        var camera = Camera(_metrics);
        var (image, face) = Photo();
        var first = await TwoViewsAsync(stage, camera, image, face);

        _news.Writer.TryWrite(new TrackNews(first.Track, TrackOutlook.Recognised, 2));
        for (int i = 3; i < 7; i++)
        {
            await stage.ProcessAsync(Batch(camera, image, i, face), _out.Writer);
        }

        Assert.Empty(Sent());
    }

    [Fact]
    public async Task A_face_gone_for_longer_than_the_tracker_waits_ends_its_track_downstream()
    {
        var stage = Stage();
        var camera = Camera(_metrics);
        var (image, face) = Photo();
        var view = await TwoViewsAsync(stage, camera, image, face);

        int frame = 3;
        for (; frame <= 2 + _settings.Tracking.MaxMissedFrames; frame++)
        {
            await stage.ProcessAsync(Batch(camera, image, frame), _out.Writer);
        }

        Assert.Empty(Sent());
        await stage.ProcessAsync(Batch(camera, image, frame), _out.Writer);
        Assert.Equal(new TrackEnded(view.Track), Assert.Single(Sent()));
        Assert.Equal(1, _metrics.TracksEnded.WithLabels("door").Value);
    }

    [Fact]
    public async Task A_restarted_camera_ends_the_previous_starts_tracks_before_its_own_views()
    {
        var stage = Stage();
        var (image, face) = Photo();
        await TwoViewsAsync(stage, Camera(_metrics, generation: 1), image, face);

        var restarted = Camera(_metrics, generation: 2);
        await stage.ProcessAsync(Batch(restarted, image, 3, face), _out.Writer);
        await stage.ProcessAsync(Batch(restarted, image, 5, face), _out.Writer);
        var sent = Sent();
        Assert.Equal(new TrackEnded(new TrackKey("door", 1, 1)), sent[0]);
        Assert.Equal(new TrackKey("door", 2, 1), Assert.IsType<FaceView>(sent[1]).Track);
    }

    [Fact]
    public async Task A_stopped_cameras_tracks_end_at_the_next_batch()
    {
        var stage = Stage();
        var door = Camera(_metrics);
        var (image, face) = Photo();
        await TwoViewsAsync(stage, door, image, face);

        _stopped.Add(door);
        await stage.ProcessAsync(Batch(Camera(_metrics, "yard"), image, 3), _out.Writer);
        Assert.Equal(new TrackEnded(new TrackKey("door", 1, 1)), Assert.Single(Sent()));
    }

    [Fact]
    public async Task A_face_that_fails_a_quality_gate_is_counted_and_not_sent()
    {
        var stage = Stage();
        // A face-shaped box on a flat grey picture: nothing sharp in it.
        await stage.ProcessAsync(Batch(Camera(_metrics), Grey(), 0, Face()), _out.Writer);

        Assert.Empty(Sent());
        double rejected = Enum.GetValues<FaceStream.Core.Quality.GateRejection>().Sum(r => _metrics.GateRejections.WithLabels(r.ToString().ToLowerInvariant()).Value);
        Assert.Equal(1, rejected);
    }

    [Fact]
    public async Task Run_releases_every_batch_and_completes_its_output_when_its_input_does()
    {
        var stage = Stage();
        var (image, face) = Photo();
        var input = Channel.CreateUnbounded<DetectedBatch>();
        var camera = Camera(_metrics);
        // Frames 0.4 s apart (Pipeline:MinEmbedInterval): each one a view of the vote window.
        var batches = Enumerable.Range(0, 3).Select(i => Batch(camera, image, 2 * i, face)).ToList();
        batches.ForEach(b => input.Writer.TryWrite(b));
        input.Writer.Complete();

        await stage.RunAsync(input.Reader, _out.Writer).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.All(batches, b => Assert.True(b.Released.IsCompletedSuccessfully));
        Assert.Equal(3, Sent().Count);
        Assert.True(_out.Reader.Completion.IsCompleted);
    }
}
