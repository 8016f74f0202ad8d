using FaceStream.Cli.Demo;
using FaceStream.Tests.Support;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Events;
using FaceStream.Application.Gallery;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace FaceStream.Tests.Worker;

/// <summary>The whole pipeline on a real H.264 video of the real sample photos, against a gallery of two of their people.</summary>
[Trait("Category", "Live")]
public class PipelineEndToEndTests(WorkerEngineFixture fixture) : IClassFixture<WorkerEngineFixture>
{
    [Fact]
    public async Task Enrolled_people_alert_once_per_track_and_nobody_else_alerts()
    {
        var engine = fixture.Engine;
        var galleryDir = TestAssets.TempDirectory();
        DemoAssets.MakeGallery(engine, TestAssets.Store, galleryDir);
        var gallery = await GalleryLoader.LoadIndexAsync(galleryDir, engine, new FaceStream.Application.Enrollment.EnrollmentOptions(), NullLogger.Instance);
        Assert.Equal(2, gallery.Identities);

        var settings = new WorkerSettings();
        settings.Pipeline.StopWhenSourcesEnd = true;
        // Per-track behaviour only here; the cooldown (which would quiet her second appearance) has its own test.
        settings.Events.Cooldown = TimeSpan.Zero;
        settings.Events.Snapshots.Directory = TestAssets.TempDirectory();
        settings.Cameras.Add(new CameraOptions { Id = "lobby", Url = VideoClips.Instance.Faces, AnalysisFps = 5 });
        using var snapshots = new FileSnapshotStore(settings.Events.Snapshots, NullLogger.Instance);
        await using var h = new Harness(settings, engine, gallery, snapshots: snapshots);
        await h.Pipeline.SyncCamerasAsync(settings.Cameras);
        await h.Pipeline.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(3));

        Assert.Equal(60, h.Analysed("lobby"));
        // 22 faces in the six photos (labelled by eye); each photo is shown for 2 s and pans slowly.
        double tracks = h.Metrics.TracksStarted.WithLabels("lobby").Value;
        Assert.InRange(tracks, 18, 33);
        Assert.True(h.Metrics.FacesDetected.WithLabels("lobby").Value > 150);

        var matches = h.Events.Events.OfType<MatchEvent>().ToList();
        Assert.Equal(matches.Count, matches.Select(m => m.TrackId).Distinct().Count());
        string Who(double fromSecond, double toSecond) => string.Join(",", matches
            .Where(m => m.MediaTime.TotalSeconds >= fromSecond && m.MediaTime.TotalSeconds < toSecond).Select(m => m.IdentityId));
        // sample1 (0–2 s) and sample3 (4–6 s) hold the blonde woman (enrolled from sample3), sample6 (10–12 s) the woman in green.
        Assert.Equal("Blonde_Woman", Who(0, 2));
        Assert.Equal("", Who(2, 4));
        Assert.Equal("Blonde_Woman", Who(4, 6));
        Assert.Equal("", Who(6, 10));
        Assert.Equal("Woman_In_Green", Who(10, 12));

        var first = matches[0];
        Assert.Equal("lobby", first.CameraId);
        Assert.True(first.TrackId > 0);
        Assert.Equal("Blonde Woman", first.IdentityName);
        Assert.True(first.Similarity >= engine.Embedder.Threshold);
        Assert.True(first.Face.Box.Width >= 40);
        Assert.True(first.DecisionTimestamp >= first.FrameTimestamp.AddSeconds(-15));
        Assert.Equal(engine.Embedder.ModelId, first.ModelId);
        var json = EventJson.Serialize(first);
        foreach (var key in new[] { "\"event_id\"", "\"kind\":\"match\"", "\"camera_id\":\"lobby\"", "\"track_id\"", "\"identity_id\"", "\"similarity\"", "\"margin\"", "\"box\"", "\"landmarks\"", "\"frame_timestamp\"", "\"decision_timestamp\"", "\"model_id\"" })
        {
            Assert.Contains(key, json, StringComparison.Ordinal);
        }

        Assert.Contains(h.Events.Events.OfType<CameraStateEvent>(), e => e.State == "completed");
        Assert.All(matches, m => Assert.True(File.Exists(new Uri(m.Snapshot!).LocalPath), $"snapshot {m.Snapshot}"));
        using (var snapshot = SkiaSharp.SKBitmap.Decode(new Uri(first.Snapshot!).LocalPath))
        {
            Assert.True(snapshot.Width >= first.Face.Box.Width);
        }
        Assert.Equal(0, h.Pipeline.FramePool.Outstanding);
    }

    [Fact]
    public async Task The_cooldown_quiets_a_second_appearance_of_the_same_person_on_the_same_camera()
    {
        var galleryDir = TestAssets.TempDirectory();
        DemoAssets.MakeGallery(fixture.Engine, TestAssets.Store, galleryDir);
        var gallery = await GalleryLoader.LoadIndexAsync(galleryDir, fixture.Engine, new FaceStream.Application.Enrollment.EnrollmentOptions(), NullLogger.Instance);
        var settings = new WorkerSettings();
        settings.Pipeline.StopWhenSourcesEnd = true;
        settings.Events.CameraState = false;
        settings.Cameras.Add(new CameraOptions { Id = "lobby", Url = VideoClips.Instance.Faces, AnalysisFps = 5 });
        await using var h = new Harness(settings, fixture.Engine, gallery);
        await h.Pipeline.SyncCamerasAsync(settings.Cameras);
        await h.Pipeline.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(3));

        // Default cooldown 60 s: her track in the sample3 segment is still recognised (counted) but not alerted again.
        Assert.Equal(["Blonde_Woman", "Woman_In_Green"], h.Events.Events.OfType<MatchEvent>().Select(e => e.IdentityId).ToArray());
        Assert.Equal(1, h.Metrics.EventsSuppressed.WithLabels("lobby").Value);
        Assert.Equal(3, h.Metrics.Matches.WithLabels("lobby").Value);
    }

    [Fact]
    public async Task With_reporting_on_an_unenrolled_face_is_reported_unknown_once_per_track()
    {
        var settings = new WorkerSettings();
        settings.Pipeline.StopWhenSourcesEnd = true;
        settings.Decision.ReportUnknown = true;
        settings.Events.CameraState = false;
        settings.Cameras.Add(new CameraOptions { Id = "lobby", Url = VideoClips.Instance.Faces, AnalysisFps = 2 });
        await using var h = new Harness(settings, fixture.Engine);
        await h.Pipeline.SyncCamerasAsync(settings.Cameras);
        await h.Pipeline.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(3));

        var events = h.Events.Events;
        Assert.DoesNotContain(events, e => e.Kind == EventKind.Match);
        var unknown = events.OfType<UnknownEvent>().ToList();
        Assert.NotEmpty(unknown);
        Assert.Equal(unknown.Count, unknown.Select(u => u.TrackId).Distinct().Count());
    }
}
