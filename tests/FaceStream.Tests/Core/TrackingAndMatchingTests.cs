using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Core.Matching;
using FaceStream.Core.Quality;
using FaceStream.Core.Tracking;
using Xunit;

namespace FaceStream.Tests.Core;

/// <summary>Hand-computed cases for the tracker, the gallery search, the open-set rule and the per-track vote.</summary>
public class TrackingAndMatchingTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static DetectedFace Face(float x, float y, float size = 60)
    {
        var lm = new Landmarks5(new(x + (0.3f * size), y + (0.4f * size)), new(x + (0.7f * size), y + (0.4f * size)), new(x + (0.5f * size), y + (0.58f * size)),
            new(x + (0.35f * size), y + (0.78f * size)), new(x + (0.65f * size), y + (0.78f * size)));
        return new DetectedFace(new BoxF(x, y, x + size, y + size), 0.99f, lm);
    }

    [Fact]
    public void Without_motion_prediction_a_fast_face_would_be_a_new_track()
    {
        var tracker = new FaceTracker(new TrackerOptions { VelocitySmoothing = 0 });
        tracker.Update([Face(100, 100)], T0);
        tracker.Update([Face(120, 100)], T0.AddSeconds(0.2));
        Assert.True(tracker.Update([Face(160, 100)], T0.AddSeconds(0.4)).Assigned[0].IsNew);
    }

    [Fact]
    public void Two_moving_faces_keep_their_ids_and_an_unseen_one_ends_after_the_allowed_misses()
    {
        var tracker = new FaceTracker(new TrackerOptions { MaxMissedFrames = 2 });
        var first = tracker.Update([Face(100, 100), Face(400, 100)], T0);
        Assert.All(first.Assigned, a => Assert.True(a.IsNew));
        long left = first.Assigned[0].Track.Id, right = first.Assigned[1].Track.Id;

        // A 20 px step, then 40 px per 0.2 s: IoU with the last box would be 0.2, below the 0.3 threshold, so only the
        // motion prediction keeps the ids.
        for (int i = 1; i <= 4; i++)
        {
            float dx = i == 1 ? 20 : 20 + (40 * (i - 1));
            var u = tracker.Update([Face(400 + dx, 100), Face(100 + dx, 100)], T0.AddSeconds(0.2 * i));
            Assert.Equal(right, u.Assigned[0].Track.Id);
            Assert.Equal(left, u.Assigned[1].Track.Id);
            Assert.All(u.Assigned, a => Assert.False(a.IsNew));
        }

        // The right face leaves; it survives two missed frames and ends on the third.
        Assert.Empty(tracker.Update([Face(100 + 180, 100)], T0.AddSeconds(1.0)).Ended);
        Assert.Empty(tracker.Update([Face(100 + 220, 100)], T0.AddSeconds(1.2)).Ended);
        var ended = tracker.Update([Face(100 + 260, 100)], T0.AddSeconds(1.4)).Ended;
        Assert.Equal(right, Assert.Single(ended).Id);
        Assert.Equal(left, Assert.Single(tracker.Active).Id);
    }

    [Fact]
    public void Gallery_search_scores_each_identity_by_its_best_template()
    {
        var a = new Identity("a", "A");
        var b = new Identity("b", "B");
        var index = new GalleryIndex("m", 3, [(a, Unit(1, 0, 0)), (b, Unit(0, 1, 0)), (a, Unit(0.6f, 0.8f, 0))]);
        Assert.Equal(2, index.Identities);
        var hits = index.Search(Unit(0, 1, 0), 2);
        Assert.Equal("b", hits[0].Identity.Id);
        Assert.Equal(1f, hits[0].Similarity, 5);
        Assert.Equal("a", hits[1].Identity.Id);
        Assert.Equal(0.8f, hits[1].Similarity, 5);
        Assert.Throws<ArgumentException>(() => index.Search(new float[4], 1));
    }

    [Fact]
    public void Open_set_rule_needs_the_threshold_and_the_margin()
    {
        var a = new Identity("a", "A");
        var b = new Identity("b", "B");
        Assert.Equal(a, OpenSetRule.Judge([new(a, 0.6f), new(b, 0.3f)], 0.4f, 0.05f, 1).Identity);
        Assert.Null(OpenSetRule.Judge([new(a, 0.35f)], 0.4f, 0.05f, 1).Identity);
        Assert.Null(OpenSetRule.Judge([new(a, 0.6f), new(b, 0.58f)], 0.4f, 0.05f, 1).Identity);
        Assert.Null(OpenSetRule.Judge([], 0.4f, 0.05f, 1).Identity);
    }

    [Fact]
    public void A_track_decides_once_from_k_agreeing_views_and_reports_unknown_once()
    {
        var o = new DecisionOptions { VotesNeeded = 2, VoteWindow = 3 };
        var a = new Identity("a", "A");
        var votes = new TrackVotes();
        Assert.Equal(Verdict.Undecided, votes.Add(new Vote(a, 0.5f, 0.5f, 1), o).Verdict);
        Assert.Equal(Verdict.Undecided, votes.Add(new Vote(null, 0.2f, 0.2f, 1), o).Verdict);
        var (verdict, evidence) = votes.Add(new Vote(a, 0.7f, 0.7f, 1), o);
        Assert.Equal(Verdict.Known, verdict);
        Assert.Equal(0.7f, evidence.Similarity);
        Assert.Equal(Verdict.Undecided, votes.Add(new Vote(a, 0.9f, 0.9f, 1), o).Verdict);

        var stranger = new TrackVotes();
        stranger.Add(new Vote(null, 0.1f, 0.1f, 0.5f), o);
        stranger.Add(new Vote(null, 0.2f, 0.2f, 0.9f), o);
        Assert.Equal(Verdict.Unknown, stranger.Add(new Vote(null, 0.1f, 0.1f, 0.7f), o).Verdict);
        Assert.Equal(Verdict.Undecided, stranger.Add(new Vote(null, 0.1f, 0.1f, 0.7f), o).Verdict);
    }

    [Fact]
    public void Thresholds_come_from_config_then_per_model_then_the_manifest()
    {
        var o = new DecisionOptions { ModelThresholds = new() { ["mobilefacenet-192"] = 0.52f } };
        Assert.Equal(0.52f, o.ThresholdFor("mobilefacenet-192", 0.49f));
        Assert.Equal(0.40f, o.ThresholdFor("faceplugin-arcface-512", 0.40f));
        o.KnownThreshold = 0.6f;
        Assert.Equal(0.6f, o.ThresholdFor("mobilefacenet-192", 0.49f));
        Assert.Contains(new DecisionOptions { ModelThresholds = new() { ["x"] = 1.5f } }.Validate(), p => p.Contains("ModelThresholds:x", StringComparison.Ordinal));
    }

    [Fact]
    public void Pose_proxies_are_zero_for_a_frontal_face_and_signed_when_turned()
    {
        var (yaw, pitch) = FaceQuality.Pose(Face(0, 0, 100).Landmarks);
        Assert.Equal(0, yaw, 3);
        Assert.InRange(pitch, -0.05f, 0.05f);
        var l = Face(0, 0, 100).Landmarks;
        var turned = l with { Nose = new PointF(l.Nose.X + 20, l.Nose.Y) };
        Assert.Equal(0.5f, FaceQuality.Pose(turned).Yaw, 3);
    }

    private static float[] Unit(float x, float y, float z)
    {
        float n = MathF.Sqrt((x * x) + (y * y) + (z * z));
        return [x / n, y / n, z / n];
    }
}
