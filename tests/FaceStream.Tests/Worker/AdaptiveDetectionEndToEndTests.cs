using FaceStream.Cli.Demo;
using FaceStream.Application.Gallery;
using FaceStream.Tests.Support;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Events;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace FaceStream.Tests.Worker;

/// <summary>Detector:Mode = adaptive against full on the demo video (the sample photos, panning) and the demo gallery: the same alerts.</summary>
[Trait("Category", "Live")]
public class AdaptiveDetectionEndToEndTests(WorkerEngineFixture fixture) : IClassFixture<WorkerEngineFixture>
{
    private async Task<(string[] Alerts, double Frames, double MeanScannedShare, double FullScans)> RunAsync(string mode)
    {
        var galleryDir = TestAssets.TempDirectory();
        DemoAssets.MakeGallery(fixture.Engine, TestAssets.Store, galleryDir);
        var gallery = await GalleryLoader.LoadIndexAsync(galleryDir, fixture.Engine, new FaceStream.Application.Enrollment.EnrollmentOptions(), NullLogger.Instance);
        var settings = new WorkerSettings();
        settings.Detector.Mode = mode;
        settings.Detector.Mtcnn.MinFaceSize = 40; // as the fixture's detector
        settings.Pipeline.StopWhenSourcesEnd = true;
        settings.Events.CameraState = false;
        settings.Cameras.Add(new CameraOptions { Id = "lobby", Url = VideoClips.Instance.Faces, AnalysisFps = 5 });
        await using var h = new Harness(settings, fixture.Engine, gallery);
        await h.Pipeline.SyncCamerasAsync(settings.Cameras);
        await h.Pipeline.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(3));

        // Each photo is shown for 2 s: an alert is who was recognised in which photo (the default cooldown keeps one per person).
        var alerts = h.Events.Events.OfType<MatchEvent>().Select(m => $"{(int)(m.MediaTime.TotalSeconds / 2)}:{m.IdentityId}").ToArray();
        var share = h.Metrics.ScannedShare.WithLabels("lobby");
        double fullScans = FaceStream.Worker.Metrics.CameraMetrics.FullScanReasons.Sum(r => h.Metrics.FullScans.WithLabels("lobby", r).Value);
        return (alerts, h.Analysed("lobby"), share.Sum / share.Count, fullScans);
    }

    [Fact]
    public async Task Adaptive_mode_raises_the_same_alerts_as_full_mode_on_the_demo_video()
    {
        var full = await RunAsync(DetectorOptions.FullMode);
        var adaptive = await RunAsync(DetectorOptions.AdaptiveMode);

        Assert.Equal(["0:Blonde_Woman", "5:Woman_In_Green"], full.Alerts);
        Assert.Equal(full.Alerts, adaptive.Alerts);
        Assert.Equal(full.Frames, adaptive.Frames);
        Assert.Equal(1, full.MeanScannedShare);
        Assert.Equal(0, full.FullScans);
        // Not a full pass in disguise: part of the frames were searched in windows only.
        Assert.True(adaptive.FullScans < adaptive.Frames, $"{adaptive.FullScans} full scans in {adaptive.Frames} frames");
        Assert.True(adaptive.MeanScannedShare < 1, $"mean scanned share {adaptive.MeanScannedShare:F2}");
    }
}
