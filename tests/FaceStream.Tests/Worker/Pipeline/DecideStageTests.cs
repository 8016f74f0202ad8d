using System.Threading.Channels;
using FaceStream.Core.Matching;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Events;
using FaceStream.Worker.Pipeline;
using Xunit;
using static FaceStream.Tests.Worker.Pipeline.StageMessages;

namespace FaceStream.Tests.Worker.Pipeline;

/// <summary>The decide stage fed embedded views and track ends: votes per track, one event per track, the cooldown, the gate told.</summary>
public class DecideStageTests
{
    private const int Dimension = 8;
    private static readonly Identity Alice = new("alice", "Alice A"), Bob = new("bob", "Bob B");

    private readonly Channel<TrackNews> _news = Channel.CreateUnbounded<TrackNews>();
    private readonly Prometheus.CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    private readonly ManualClock _clock = new();
    private readonly WorkerSettings _settings = new();

    private static float[] Axis(int i)
    {
        var v = new float[Dimension];
        v[i] = 1;
        return v;
    }

    private DecideStage Stage(FaceStream.Worker.Metrics.PipelineMetrics metrics)
    {
        var gallery = new GalleryIndex("test-8", Dimension, [(Alice, Axis(0)), (Bob, Axis(1))], prefilter: false);
        return new DecideStage(_settings, () => gallery, () => 0.5f, _news.Writer, metrics, faceSnapshots: true, _clock);
    }

    private static EmbeddedView Seen(TrackKey track, int axis, int second = 0) => new(View(track, Grey(), Face(), second: second), Axis(axis));

    [Fact]
    public void Two_agreeing_views_make_one_match_per_track_and_the_gate_hears_of_it()
    {
        var metrics = new FaceStream.Worker.Metrics.PipelineMetrics(_registry);
        var stage = Stage(metrics);
        var track = new TrackKey("door", 1, 7);

        Assert.Null(stage.Decide(Seen(track, 0)));
        var decision = stage.Decide(Seen(track, 0, second: 1));
        Assert.Null(stage.Decide(Seen(track, 0, second: 2)));

        var match = Assert.IsType<MatchEvent>(decision!.Event);
        Assert.Equal(("door", 7L, "alice", "Alice A"), (match.CameraId, match.TrackId, match.IdentityId, match.IdentityName));
        Assert.Equal(1f, match.Similarity, 3);
        Assert.Equal("test-8", match.ModelId);
        Assert.Equal(T0.AddSeconds(1), match.FrameTimestamp);
        Assert.NotNull(decision.FaceJpeg);
        Assert.True(_news.Reader.TryRead(out var told));
        Assert.Equal(new TrackNews(track, TrackOutlook.Recognised, 2), told);
        Assert.Equal(1, metrics.Matches.WithLabels("door").Value);
    }

    [Fact]
    public void Disagreeing_views_decide_nothing_until_two_of_the_last_three_agree()
    {
        var stage = Stage(new(_registry));
        var track = new TrackKey("door", 1, 1);

        Assert.Null(stage.Decide(Seen(track, 0)));
        Assert.Null(stage.Decide(Seen(track, 1)));
        Assert.Null(stage.Decide(Seen(track, 5)));
        var match = Assert.IsType<MatchEvent>(stage.Decide(Seen(track, 1))!.Event);
        Assert.Equal("bob", match.IdentityId);
    }

    [Fact]
    public void The_same_person_on_a_new_track_within_the_cooldown_is_counted_but_not_published()
    {
        var metrics = new FaceStream.Worker.Metrics.PipelineMetrics(_registry);
        _settings.Events.Cooldown = TimeSpan.FromSeconds(60);
        var stage = Stage(metrics);
        Decision? Twice(long track)
        {
            var key = new TrackKey("door", 1, track);
            stage.Decide(Seen(key, 0));
            return stage.Decide(Seen(key, 0));
        }

        Assert.NotNull(Twice(1));
        _clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Null(Twice(2));
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.NotNull(Twice(3));

        Assert.Equal(3, metrics.Matches.WithLabels("door").Value);
        Assert.Equal(1, metrics.EventsSuppressed.WithLabels("door").Value);
    }

    [Fact]
    public void With_reporting_on_three_views_naming_nobody_make_one_unknown_event()
    {
        _settings.Decision.ReportUnknown = true;
        var stage = Stage(new(_registry));
        var track = new TrackKey("door", 1, 3);

        Assert.Null(stage.Decide(Seen(track, 4)));
        Assert.Null(stage.Decide(Seen(track, 5)));
        var unknown = Assert.IsType<UnknownEvent>(stage.Decide(Seen(track, 6))!.Event);
        Assert.Null(stage.Decide(Seen(track, 7)));

        Assert.Equal(3, unknown.TrackId);
        Assert.DoesNotContain(Told(), n => n.Outlook == TrackOutlook.Recognised);
    }

    private List<TrackNews> Told()
    {
        var told = new List<TrackNews>();
        while (_news.Reader.TryRead(out var n))
        {
            told.Add(n);
        }

        return told;
    }

    /// <summary>An embedding whose similarity to Alice is <paramref name="similarity"/> and to Bob 0.</summary>
    private static EmbeddedView Resembling(TrackKey track, float similarity)
    {
        var v = new float[Dimension];
        v[0] = similarity;
        v[Dimension - 1] = MathF.Sqrt(1 - (similarity * similarity));
        return new(View(track, Grey(), Face()), v);
    }

    [Fact]
    public void A_full_window_of_votes_far_below_the_threshold_tells_the_gate_the_track_is_a_clear_stranger()
    {
        var stage = Stage(new(_registry));
        var far = new TrackKey("door", 1, 1);
        var near = new TrackKey("door", 1, 2);

        // Threshold 0.5, Pipeline:ClearUnknownMargin 0.15: 0.30 is far below, 0.40 is near (a pose or light change away).
        for (int i = 0; i < _settings.Decision.VoteWindow; i++)
        {
            Assert.Null(stage.Decide(Resembling(far, 0.30f)));
            Assert.Null(stage.Decide(Resembling(near, 0.40f)));
        }

        Assert.Equal([new TrackNews(far, TrackOutlook.ClearStranger, _settings.Decision.VoteWindow)], Told());

        // A further far view says it again with its own count: the gate takes only news as new as the views it sent.
        Assert.Null(stage.Decide(Resembling(far, 0.30f)));
        Assert.Equal([new TrackNews(far, TrackOutlook.ClearStranger, _settings.Decision.VoteWindow + 1)], Told());
    }

    [Fact]
    public void Pre_screened_views_name_nobody_and_never_make_a_track_a_clear_stranger()
    {
        var stage = Stage(new(_registry));
        var track = new TrackKey("door", 1, 3);

        // The screen's cut is not the clear-stranger line: a window of screened views tells the gate nothing.
        for (int i = 0; i < _settings.Decision.VoteWindow + 1; i++)
        {
            Assert.Null(stage.Decide(new EmbeddedView(View(track, Grey(), Face()), Embedding: null)));
        }

        Assert.Empty(Told());

        // A screened view between two full ones that name Alice does not stop the match.
        var later = new TrackKey("door", 1, 4);
        Assert.Null(stage.Decide(Seen(later, 0)));
        Assert.Null(stage.Decide(new EmbeddedView(View(later, Grey(), Face()), Embedding: null)));
        Assert.Equal("alice", Assert.IsType<MatchEvent>(stage.Decide(Seen(later, 0))!.Event).IdentityId);
    }

    [Fact]
    public void With_the_clear_stranger_margin_off_the_gate_hears_nothing_of_unknown_tracks()
    {
        _settings.Pipeline.ClearUnknownMargin = 0;
        var stage = Stage(new(_registry));
        for (int i = 0; i < 4; i++)
        {
            Assert.Null(stage.Decide(Resembling(new TrackKey("door", 1, 1), 0f)));
        }

        Assert.Empty(Told());
    }

    [Fact]
    public void Match_and_unknown_decisions_take_along_the_crop_of_the_view_they_show_for_its_attributes()
    {
        _settings.Decision.ReportUnknown = true;
        var stage = Stage(new(_registry));
        var known = new TrackKey("door", 1, 1);
        var stranger = new TrackKey("door", 1, 2);

        Assert.Null(stage.Decide(Seen(known, 0)));
        var matching = Seen(known, 0, second: 1);
        var match = stage.Decide(matching)!;
        Assert.Null(stage.Decide(Seen(stranger, 4)));
        Assert.Null(stage.Decide(Seen(stranger, 5)));
        var naming = Seen(stranger, 6, second: 2);
        var unknown = stage.Decide(naming)!;

        // The describe stage reads the attributes on these crops: those of the view whose time (and box) the event has.
        Assert.Same(matching.View.Crop, match.Crop);
        Assert.Equal(T0.AddSeconds(1), Assert.IsType<MatchEvent>(match.Event).FrameTimestamp);
        Assert.Same(naming.View.Crop, unknown.Crop);
        Assert.Equal(T0.AddSeconds(2), Assert.IsType<UnknownEvent>(unknown.Event).FrameTimestamp);
        Assert.All(new[] { match, unknown }, d => Assert.Null(d.Event.Attributes));
    }

    [Fact]
    public void A_track_end_drops_its_votes_and_a_restarted_cameras_track_with_the_same_id_starts_afresh()
    {
        var stage = Stage(new(_registry));
        var first = new TrackKey("door", 1, 1);
        stage.Decide(Seen(first, 0));
        Assert.Equal(1, stage.TracksHeld);

        // The camera restarted (generation 2): its track 1 is another person and must not inherit the first one's vote.
        Assert.Null(stage.Decide(Seen(first with { Generation = 2 }, 0)));
        Assert.Equal(2, stage.TracksHeld);
        Assert.Null(stage.Decide(new TrackEnded(first)));
        Assert.Equal(1, stage.TracksHeld);
    }

    [Fact]
    public async Task Run_publishes_decisions_in_order_and_completes_when_its_input_does()
    {
        var stage = Stage(new(_registry));
        var input = Channel.CreateUnbounded<TrackMessage>();
        var output = Channel.CreateUnbounded<Decision>();
        foreach (var track in new long[] { 1, 2 })
        {
            var key = new TrackKey("door", 1, track);
            input.Writer.TryWrite(Seen(key, (int)track - 1));
            input.Writer.TryWrite(Seen(key, (int)track - 1));
            input.Writer.TryWrite(new TrackEnded(key));
        }

        input.Writer.Complete();
        await stage.RunAsync(input.Reader, output.Writer).WaitAsync(TimeSpan.FromSeconds(30));

        var decided = await output.Reader.ReadAllAsync().Select(d => ((MatchEvent)d.Event).IdentityId).ToListAsync();
        Assert.Equal(["alice", "bob"], decided);
        Assert.Equal(0, stage.TracksHeld);
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = T0;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
