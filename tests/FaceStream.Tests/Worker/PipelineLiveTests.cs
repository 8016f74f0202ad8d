using FaceStream.Media.Video;
using FaceStream.Tests.Support;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Events;
using Xunit;

namespace FaceStream.Tests.Worker;

/// <summary>The pipeline with live RTSP cameras: load shedding under a slow stage, and one camera failing.</summary>
[Trait("Category", "Live")]
public class PipelineLiveTests(WorkerEngineFixture fixture) : IClassFixture<WorkerEngineFixture>
{
    private static CameraOptions Camera(string id, string url, double fps) => LiveCamera.Options<CameraOptions>(id, url, fps);

    [Fact]
    public Task A_slow_stage_sheds_the_oldest_frames_counts_them_and_keeps_memory_bounded() => Bounded.Run(async () =>
    {
        using var server = new RtspServer(VideoClips.Instance.H264_720);
        var settings = new WorkerSettings();
        settings.Pipeline.DetectBatchSize = 1;
        settings.Cameras.Add(Camera("busy", server.Url, fps: 0));
        var slow = new SlowDetector(fixture.Engine.Detector, TimeSpan.FromMilliseconds(300));
        await using var h = new Harness(settings, fixture.Engine, detector: slow);
        using var cancel = new CancellationTokenSource();
        await h.Pipeline.SyncCamerasAsync(settings.Cameras);
        var run = h.Pipeline.RunAsync(cancel.Token);
        var camera = () => h.Pipeline.Cameras.Single();
        long maxOutstanding = 0;
        await Wait.Until(() =>
        {
            maxOutstanding = Math.Max(maxOutstanding, h.Pipeline.FramePool.Outstanding);
            return camera().Stats.FramesDecoded >= 150;
        }, "150 frames decoded while analysis runs at ≈ 3 fps", diagnose: () =>
            $"state {camera().State}, decoded {camera().Stats.FramesDecoded}, analysed {h.Analysed("busy")}, reconnects {camera().Stats.Reconnects}, last error {camera().LastError}");

        double dropped = h.Metrics.FramesDropped.WithLabels("busy").Value;
        double analysed = h.Analysed("busy");
        await cancel.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(30));

        // The source kept reading at the stream's pace; the queue kept only the newest frames.
        Assert.True(dropped >= 80, $"dropped {dropped}");
        Assert.True(analysed <= camera().Stats.FramesDecoded / 3.0, $"analysed {analysed} of {camera().Stats.FramesDecoded}");
        Assert.True(maxOutstanding <= 4, $"{maxOutstanding} frames held at once");
        Assert.True(h.Pipeline.FramePool.Allocated <= 8, $"{h.Pipeline.FramePool.Allocated} frame buffers allocated");
        Assert.Equal(0, camera().Stats.Reconnects);
    });

    [Fact]
    public Task A_dead_camera_leaves_the_others_analysing_and_comes_back_by_itself() => Bounded.Run(async () =>
    {
        using var serverA = new RtspServer(VideoClips.Instance.H264_720);
        using var serverB = new RtspServer(VideoClips.Instance.H264_720);
        var settings = new WorkerSettings();
        settings.Cameras.Add(Camera("a", serverA.Url, fps: 5));
        settings.Cameras.Add(Camera("b", serverB.Url, fps: 5));
        await using var h = new Harness(settings, fixture.Engine);
        using var cancel = new CancellationTokenSource();
        await h.Pipeline.SyncCamerasAsync(settings.Cameras);
        var run = h.Pipeline.RunAsync(cancel.Token);
        SourceState State(string id) => h.Pipeline.Cameras.Single(c => c.Id == id).State;
        string Diagnose() => string.Join("; ", h.Pipeline.Cameras.Select(c =>
            $"{c.Id}: {c.State}, decoded {c.Stats.FramesDecoded}, analysed {h.Analysed(c.Id)}, reconnects {c.Stats.Reconnects}, last error {c.LastError}"))
            + $"; a's {serverA.Describe()}; b's {serverB.Describe()}";

        await Wait.Until(() => h.Analysed("a") >= 5 && h.Analysed("b") >= 5, "both cameras analysed", diagnose: Diagnose);
        serverA.Kill();
        await Wait.Until(() => State("a") is SourceState.Reconnecting or SourceState.Connecting, "camera a reported down", diagnose: Diagnose);
        double bBefore = h.Analysed("b");
        await Wait.Until(() => h.Analysed("b") >= bBefore + 10, "camera b analysed while a is down", diagnose: Diagnose);
        Assert.Equal(SourceState.Streaming, State("b"));

        double aBefore = h.Analysed("a");
        serverA.Start();
        await Wait.Until(() => h.Analysed("a") >= aBefore + 5, "camera a analysed again after its server returned", diagnose: Diagnose);
        await h.Metrics.Registry.CollectAndExportAsTextAsync(Stream.Null);
        Assert.True(h.Metrics.Reconnects.WithLabels("a").Value >= 1);
        Assert.Contains(h.Events.Events.OfType<CameraStateEvent>(), e => e.CameraId == "a" && e.State == "reconnecting");
        Assert.DoesNotContain(h.Events.Events.OfType<CameraStateEvent>(), e => e.CameraId == "b" && e.State is "reconnecting" or "stalled");

        await cancel.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(30));
    });
}
