using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Tests.Support;
using FaceStream.Watchlist.Store;
using FaceStream.Worker.Api;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Events;
using FaceStream.Worker.Review;
using Xunit;

namespace FaceStream.Tests.Worker.Review;

/// <summary>Where the console reads events and keeps verdicts: the in-memory ring, the Redis Stream and the Redis review store (real redis-server).</summary>
[Trait("Category", "Live")]
public class ReviewStoreTests
{
    [Fact]
    public async Task The_recent_events_ring_keeps_the_newest_events_newest_first_and_forgets_the_oldest()
    {
        var ring = new RecentEventsSink(3);
        var events = Enumerable.Range(0, 5).Select(i => State($"cam{i % 2}", DateTimeOffset.UnixEpoch.AddMinutes(i))).ToList();
        foreach (var e in events)
        {
            await ring.PublishAsync(e, CancellationToken.None);
        }

        var all = await ring.ListAsync(new EventQuery(10));
        Assert.Equal(events.AsEnumerable().Reverse().Take(3).Select(e => e.EventId), all.Select(e => e.Id));
        Assert.Null(await ring.FindAsync(events[0].EventId));
        Assert.Equal("cam0", (await ring.FindAsync(events[4].EventId))?.CameraId);
        Assert.Equal(2, (await ring.ListAsync(new EventQuery(10, Camera: "cam0"))).Count);
        Assert.Single(await ring.ListAsync(new EventQuery(10, Since: DateTimeOffset.UnixEpoch.AddMinutes(4))));
        Assert.Single(await ring.ListAsync(new EventQuery(1)));
        Assert.Empty(await ring.ListAsync(new EventQuery(10, Kinds: ["match"])));
    }

    [Fact]
    public async Task Events_are_read_back_from_the_redis_stream_across_pages_and_verdicts_and_audit_kept_in_redis()
    {
        var uri = WatchlistUri.Parse(RedisServer.SharedUri);
        await using var redis = (StackExchange.Redis.ConnectionMultiplexer)await uri.ConnectRedisAsync();
        string key = $"facestream:test:review:{Guid.NewGuid():N}";
        var sink = new RedisStreamSink(redis, new RedisStreamOptions { Enabled = true, Key = key, MaxLength = 10_000 }, uri.Safe);
        // More than one XREVRANGE page (500), so the scan's paging is exercised.
        var events = new List<FaceEvent>();
        for (int i = 0; i < 620; i++)
        {
            FaceEvent e = i == 3 ? Match("lobby", "ann", DateTimeOffset.UnixEpoch.AddSeconds(i)) : State(i % 2 == 0 ? "lobby" : "gate", DateTimeOffset.UnixEpoch.AddSeconds(i));
            events.Add(e);
            await sink.PublishAsync(e, CancellationToken.None);
        }

        var history = new RedisStreamHistory(redis, key, uri.Safe);
        var newest = await history.ListAsync(new EventQuery(2));
        Assert.Equal([events[619].EventId, events[618].EventId], newest.Select(e => e.Id));
        var match = Assert.Single(await history.ListAsync(new EventQuery(50, Kinds: ["match"])));
        Assert.Equal(("ann", "lobby"), (match.IdentityId, match.CameraId));
        Assert.Equal(events[3].EventId, (await history.FindAsync(events[3].EventId))?.Id);
        Assert.Null(await history.FindAsync(Guid.NewGuid()));
        // Odd events are on the gate, except event 3 (the match, on the lobby).
        Assert.Equal(309, (await history.ListAsync(new EventQuery(1000, Camera: "gate"))).Count);

        await using var store = new RedisReviewStore(await uri.ConnectRedisAsync(), key, uri.Safe);
        await store.SetFeedbackAsync(new Feedback(events[3].EventId, "wrong", "operator#abc123", DateTimeOffset.UnixEpoch));
        await store.SetFeedbackAsync(new Feedback(events[3].EventId, "correct", "operator#abc123", DateTimeOffset.UnixEpoch.AddSeconds(1)));
        var verdicts = await store.FeedbackAsync([events[3].EventId, events[4].EventId]);
        Assert.Equal("correct", Assert.Single(verdicts).Value.Verdict);
        await store.AuditAsync(new AuditEntry(DateTimeOffset.UnixEpoch, "admin#1", "first"));
        await store.AuditAsync(new AuditEntry(DateTimeOffset.UnixEpoch.AddSeconds(1), "admin#1", "second"));
        Assert.Equal(["second", "first"], (await store.AuditLogAsync(10)).Select(a => a.What));
        await redis.GetDatabase().KeyDeleteAsync([key, $"{key}:feedback", $"{key}:audit"]);
    }

    [Fact]
    public void Role_tokens_are_validated_a_viewer_token_never_equals_a_changing_one_and_each_token_grants_its_role()
    {
        var options = new ApiOptions { Token = "same-token-0123456789", ViewerToken = "same-token-0123456789", OperatorToken = "short" };
        var problems = options.Validate().ToList();
        Assert.Contains(problems, p => p.StartsWith("Api:OperatorToken is too short", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Api:ViewerToken must differ", StringComparison.Ordinal));

        var ok = new ApiOptions { Token = "admin-token-0123456789", OperatorToken = "operator-token-0123456789", ViewerToken = "viewer-token-0123456789" };
        Assert.Empty(ok.Validate());
        Assert.Equal(ApiRole.Admin, ApiRoles.RoleOf("admin-token-0123456789", ok));
        Assert.Equal(ApiRole.Operator, ApiRoles.RoleOf("operator-token-0123456789", ok));
        Assert.Equal(ApiRole.Viewer, ApiRoles.RoleOf("viewer-token-0123456789", ok));
        Assert.Null(ApiRoles.RoleOf("viewer-token-012345678", ok));
        Assert.Null(ApiRoles.RoleOf("", new ApiOptions()));
    }

    [Fact]
    public void Feedback_precision_per_identity_and_camera_and_the_lowest_threshold_reaching_the_target()
    {
        LabelledAlert[] alerts =
        [
            new("ann", "gate", 0.80, true), new("ann", "gate", 0.70, true), new("ann", "hall", 0.52, false),
            new("bob", "hall", 0.55, false), new("bob", "hall", 0.60, true), new("bob", "gate", 0.75, true),
        ];
        var report = FeedbackReport.Build(alerts, 0.95);
        Assert.Equal((4, 2), (report.Overall.Correct, report.Overall.Wrong));
        Assert.Equal([("ann", 2.0 / 3), ("bob", 2.0 / 3)], report.ByIdentity.Select(r => (r.Key, r.Precision)));
        Assert.Equal([("gate", 1.0), ("hall", 1.0 / 3)], report.ByCamera.Select(r => (r.Key, r.Precision)));
        // At 0.60 the two wrong alerts (0.52, 0.55) are gone and every correct one kept.
        var s = report.Suggestion!;
        Assert.Equal((0.60, 1.0, 4, 0, 2, 0), (s.Threshold, s.Precision, s.CorrectKept, s.CorrectLost, s.WrongRemoved, s.WrongLeft));

        // The most similar alert is wrong: no threshold reaches 95 %; 75 % is reached at 0.55 (3 of 4).
        LabelledAlert[] worst = [new("ann", "gate", 0.9, false), new("ann", "gate", 0.6, true), new("ann", "gate", 0.55, true), new("ann", "gate", 0.58, true)];
        Assert.Null(FeedbackReport.Build(worst, 0.95).Suggestion);
        Assert.Equal(0.55, FeedbackReport.Build(worst, 0.75).Suggestion!.Threshold);
        Assert.Null(FeedbackReport.Build([], 0.95).Suggestion);
    }

    private static CameraStateEvent State(string camera, DateTimeOffset at) => new(Guid.NewGuid(), camera, at, "streaming", null);

    private static MatchEvent Match(string camera, string identity, DateTimeOffset at) =>
        new(Guid.NewGuid(), camera, 7, identity, identity.ToUpperInvariant(), 0.7f, 0.2f, new DetectedFace(new BoxF(10, 10, 60, 60), 0.99f, new Landmarks5(new(20, 20), new(40, 20), new(30, 30), new(22, 45), new(38, 45))), at, TimeSpan.FromSeconds(1), at, "test-model");
}
