using FaceStream.Core.Detection.Adaptive;
using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;
using FaceStream.Inference.Detection;
using FaceStream.Tests.Support;
using FaceStream.Worker.Configuration;
using Xunit;

namespace FaceStream.Tests.Worker.Pipeline;

/// <summary>The detect stage's batches in flight (Pipeline:DetectBatchesInFlight), on real clips with the real detector.</summary>
public class DetectStageTests(WorkerEngineFixture fixture) : IClassFixture<WorkerEngineFixture>
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Batches_overlap_up_to_the_setting_and_each_camera_is_searched_once_per_frame_in_order(int inFlight)
    {
        var settings = UntilTheFilesEnd(inFlight);
        settings.Pipeline.DetectBatchSize = 2;
        // Four cameras for batches of two: in adaptive mode a camera gives a batch one frame, so while two cameras are
        // searched the other two make the full batch that may start alongside.
        string[] ids = ["a", "b", "c", "d"];
        foreach (var id in ids)
        {
            // Files wait for the detect stage, so frames are always queued: a full batch waits whenever one is searched.
            settings.Cameras.Add(new CameraOptions { Id = id, Url = VideoClips.Instance.Faces, AnalysisFps = 2 });
        }

        var detector = new OverlapDetector(fixture.Engine.Detector);
        await using var h = new Harness(settings, fixture.Engine, detector: detector);
        var scanned = new List<(string Camera, DateTimeOffset At)>();
        h.Pipeline.FrameScanned = s =>
        {
            lock (scanned)
            {
                scanned.Add((s.CameraId, s.Timestamp));
            }
        };
        await h.Pipeline.SyncCamerasAsync(settings.Cameras);
        await h.Pipeline.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(3));

        Assert.Equal(inFlight, detector.MostAtOnce);
        foreach (var id in ids)
        {
            // 12 s at 2 fps; a camera is in one batch at a time, so its frames come out of detection in order.
            var times = scanned.Where(s => s.Camera == id).Select(s => s.At).ToList();
            Assert.Equal(24, times.Count);
            Assert.Equal(24, h.Analysed(id));
            Assert.True(times.Zip(times.Skip(1)).All(p => p.First < p.Second), $"camera {id}: {string.Join(", ", times.Select(t => t.ToString("ss.fff")))}");
        }

        Assert.Equal(0, h.Pipeline.FramePool.Outstanding);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_detector_failure_in_the_last_batch_ends_the_run_with_that_failure(int inFlight)
    {
        var settings = UntilTheFilesEnd(inFlight);
        // A frame every 2 s of a 2 s clip: one analysed frame, and the file has ended before its batch fails.
        settings.Cameras.Add(new CameraOptions { Id = "a", Url = VideoClips.Instance.H264_1080, AnalysisFps = 0.5 });
        await using var h = new Harness(settings, fixture.Engine, detector: new FailingDetector(TimeSpan.FromSeconds(1)));
        await h.Pipeline.SyncCamerasAsync(settings.Cameras);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => h.Pipeline.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal(FailingDetector.Message, e.Message);
        Assert.Equal(0, h.Pipeline.FramePool.Outstanding);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task In_adaptive_mode_every_face_found_in_a_frame_is_looked_for_in_its_cameras_next_frame(int inFlight)
    {
        var settings = UntilTheFilesEnd(inFlight);
        settings.Detector.Mode = DetectorOptions.AdaptiveMode;
        settings.Detector.Adaptive.FullScanInterval = TimeSpan.FromMinutes(1); // one whole pass, at the start
        // A still photo: nothing moves, so after the first frame's whole pass only the track windows find its faces.
        // One camera reading a file, which waits for the detect stage: its frames are always queued, so a batch could
        // hold four of them, the last three planned before the first had been tracked (the faces the first frame's
        // whole pass found were then not looked for in the next three).
        var still = Path.Combine(TestAssets.TempDirectory(), "still.mp4");
        VideoClips.Ffmpeg($"-loop 1 -i \"{TestAssets.Sample(1)}\" -t 4 -vf scale=1280:-2 -r 25 -c:v libx264 -preset veryfast -g 25 -bf 0 -pix_fmt yuv420p \"{still}\"");
        settings.Cameras.Add(new CameraOptions { Id = "a", Url = still, AnalysisFps = 5 });
        // A batch waits up to a second to fill: the first would take the camera's first frames together.
        settings.Pipeline.DetectBatchTimeout = TimeSpan.FromSeconds(1);
        await using var h = new Harness(settings, fixture.Engine);
        var scanned = new List<(ScanPlan Plan, List<BoxF> Faces)>();
        h.Pipeline.FrameScanned = s =>
        {
            lock (scanned)
            {
                scanned.Add((s.Plan, s.Faces.Select(f => f.Box).ToList()));
            }
        };
        await h.Pipeline.SyncCamerasAsync(settings.Cameras);
        await h.Pipeline.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(3));

        Assert.Equal(20, scanned.Count); // 4 s at 5 fps
        Assert.True(scanned[0].Plan.Full && scanned[0].Faces.Count > 0, $"first frame: {scanned[0].Plan}, {scanned[0].Faces.Count} faces");
        Assert.All(scanned.Skip(1), s => Assert.False(s.Plan.Full));
        for (int i = 1; i < scanned.Count; i++)
        {
            var (plan, _) = scanned[i];
            if (plan.Full)
            {
                continue;
            }

            foreach (var face in scanned[i - 1].Faces)
            {
                Assert.True(plan.Windows.Any(w => w.Box.Contains(face.Center)),
                    $"frame {i}: the face at {face} of frame {i - 1} is in none of its windows ({string.Join(", ", plan.Windows.Select(w => w.Box))})");
            }
        }
    }

    private static WorkerSettings UntilTheFilesEnd(int inFlight)
    {
        var settings = new WorkerSettings();
        settings.Pipeline.StopWhenSourcesEnd = true;
        settings.Pipeline.DetectBatchesInFlight = inFlight;
        return settings;
    }

    [Fact]
    public void Batches_in_flight_are_validated()
    {
        var settings = new WorkerSettings();
        settings.Pipeline.DetectBatchesInFlight = 0;
        Assert.Contains(settings.Validate(), p => p.Contains("Pipeline:DetectBatchesInFlight = 0", StringComparison.Ordinal));
        settings.Pipeline.DetectBatchesInFlight = 9;
        Assert.Contains(settings.Validate(), p => p.Contains("Pipeline:DetectBatchesInFlight = 9", StringComparison.Ordinal));
        settings.Pipeline.DetectBatchesInFlight = 8;
        Assert.DoesNotContain(settings.Validate(), p => p.Contains("DetectBatchesInFlight", StringComparison.Ordinal));
    }

    /// <summary>A detector that fails every call, after a while.</summary>
    private sealed class FailingDetector(TimeSpan after) : IFaceDetector
    {
        public const string Message = "the detector failed (test)";

        public string Name => "failing";

        public IReadOnlyList<DetectedFace> Detect(ImageFrame frame) => Fail<IReadOnlyList<DetectedFace>>();

        public IReadOnlyList<IReadOnlyList<DetectedFace>> DetectBatch(IReadOnlyList<ImageFrame> frames) => Fail<IReadOnlyList<IReadOnlyList<DetectedFace>>>();

        public IReadOnlyList<IReadOnlyList<DetectedFace>> DetectBatch(IReadOnlyList<ImageFrame> frames, IReadOnlyList<FaceSizeRange> sizes) =>
            Fail<IReadOnlyList<IReadOnlyList<DetectedFace>>>();

        public void Dispose()
        {
        }

        private T Fail<T>()
        {
            Thread.Sleep(after);
            throw new InvalidOperationException(Message);
        }
    }

    /// <summary>The real detector, counting how many of its calls run at once (each held a little longer, so overlaps show).</summary>
    private sealed class OverlapDetector(IFaceDetector inner) : IFaceDetector
    {
        private int _now, _most;

        public string Name => inner.Name;

        public int MostAtOnce => Volatile.Read(ref _most);

        public IReadOnlyList<DetectedFace> Detect(ImageFrame frame) => DetectBatch([frame])[0];

        public IReadOnlyList<IReadOnlyList<DetectedFace>> DetectBatch(IReadOnlyList<ImageFrame> frames) => Counted(() => inner.DetectBatch(frames));

        public IReadOnlyList<IReadOnlyList<DetectedFace>> DetectBatch(IReadOnlyList<ImageFrame> frames, IReadOnlyList<FaceSizeRange> sizes) =>
            Counted(() => inner.DetectBatch(frames, sizes));

        public void Dispose()
        {
        }

        private T Counted<T>(Func<T> call)
        {
            int now = Interlocked.Increment(ref _now);
            int most;
            while (now > (most = Volatile.Read(ref _most)) && Interlocked.CompareExchange(ref _most, now, most) != most)
            {
            }

            try
            {
                Thread.Sleep(20);
                return call();
            }
            finally
            {
                Interlocked.Decrement(ref _now);
            }
        }
    }
}
