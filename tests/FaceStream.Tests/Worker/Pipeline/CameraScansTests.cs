using System.Diagnostics;
using System.Threading.Channels;
using FaceStream.Core.Detection.Adaptive;
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

/// <summary>
/// The detect stage's adaptive scanning (Detector:Mode = adaptive) fed synthetic scenes with a real face, the real detector
/// and the real track + gate stage handing its live tracks back, as the pipeline does with each released batch. No cameras.
/// </summary>
public class CameraScansTests(WorkerEngineFixture fixture) : IClassFixture<WorkerEngineFixture>
{
    private const int SceneWidth = 640, SceneHeight = 360, PatchSize = 200;
    private static readonly TimeSpan FrameStep = TimeSpan.FromSeconds(0.2);

    private readonly WorkerSettings _settings = Adaptive();
    private readonly PipelineMetrics _metrics = Metrics();
    private readonly Channel<TrackMessage> _out = Channel.CreateUnbounded<TrackMessage>();
    private readonly List<ScannedFrame> _scanned = [];

    private static WorkerSettings Adaptive()
    {
        var s = new WorkerSettings();
        s.Detector.Mode = DetectorOptions.AdaptiveMode;
        s.Detector.Mtcnn.MinFaceSize = 40; // as the fixture's detector
        return s;
    }

    /// <summary>The largest face of a real photo with some of its surroundings, 200 × 200 px (the face about 100 px wide).</summary>
    private ImageFrame FacePatch()
    {
        var photo = StillImageDecoder.DecodeFile(TestAssets.Sample(3));
        var face = fixture.Engine.Detector.Detect(photo).MaxBy(f => f.Box.Width * f.Box.Height)!;
        return FrameResizer.CoverTo(ImageCrop.Around(photo, face.Box, 0.5f), PatchSize, PatchSize);
    }

    /// <summary>A still, textured 640 × 360 scene, with the patch pasted at (x, y) when given.</summary>
    private static ImageFrame Scene(ImageFrame? patch, int x = 0, int y = 0)
    {
        int stride = SceneWidth * 4;
        var px = new byte[stride * SceneHeight];
        for (int row = 0; row < SceneHeight; row++)
        {
            for (int col = 0; col < SceneWidth; col++)
            {
                byte v = (byte)(96 + (((col / 16) + (row / 16)) % 4 * 16));
                int p = (row * stride) + (col * 4);
                (px[p], px[p + 1], px[p + 2], px[p + 3]) = (v, (byte)(v + 8), (byte)(v - 8), 255);
            }
        }

        if (patch is not null)
        {
            for (int row = 0; row < patch.Height; row++)
            {
                patch.Pixels.Span.Slice(row * patch.Stride, patch.Width * 4).CopyTo(px.AsSpan(((y + row) * stride) + (x * 4)));
            }
        }

        return new ImageFrame(SceneWidth, SceneHeight, stride, PixelFormat.Bgra32, px);
    }

    /// <summary>One frame through the detect stage's scans and the gate, whose live tracks go back to the scans.</summary>
    private async Task<IReadOnlyList<DetectedFace>> Analyse(CameraScans scans, TrackGateStage gate, CameraRef camera, ImageFrame image, int frame, long reconnects = 0)
    {
        var at = T0 + (frame * FrameStep);
        var faces = scans.Detect([new FrameToScan(camera, image, at, reconnects)])[0];
        await gate.ProcessAsync(new DetectedBatch([new DetectedFrame(camera, image, at, frame * FrameStep, Stopwatch.GetTimestamp(), faces)]), _out.Writer);
        scans.Observe(gate.LiveTracks());
        while (_out.Reader.TryRead(out var sent))
        {
            (sent as FaceView)?.Crop.Dispose();
        }

        return faces;
    }

    private (CameraScans, TrackGateStage) Stages()
    {
        var scans = new CameraScans(_settings.Detector, fixture.Engine.Detector, _settings.CameraMinFaceSize()) { Scanned = _scanned.Add };
        var gate = new TrackGateStage(_settings, frameSnapshots: false, _ => true, Channel.CreateUnbounded<TrackNews>().Reader, _metrics, NullLogger.Instance);
        return (scans, gate);
    }

    [Fact]
    public async Task A_face_that_stops_moving_stays_tracked_by_the_window_around_its_track()
    {
        _settings.Detector.Adaptive.FullScanInterval = TimeSpan.FromMinutes(1); // no periodic pass during the test
        var (scans, gate) = Stages();
        var camera = Camera(_metrics);
        var patch = FacePatch();
        // Walks right for 3 frames, then stands still long enough for the background to learn it (no motion left).
        const int moving = 3, still = 45;
        for (int i = 0; i <= moving + still; i++)
        {
            var faces = await Analyse(scans, gate, camera, Scene(patch, 100 + (15 * Math.Min(i, moving)), 80), i);
            Assert.True(faces.Count == 1, $"frame {i}: {faces.Count} faces, scanned {_scanned[^1].Plan}");
        }

        Assert.True(_scanned[0].Plan.Full);
        Assert.All(_scanned.Skip(1), s => Assert.Equal(ScanReason.Windows, s.Plan.Reason));
        // At the end nothing moves: the one window searched is the track's.
        Assert.All(_scanned.TakeLast(5), s => Assert.True(s.Motion.Regions.Count == 0 && !s.Motion.WholeFrame, $"motion {s.Motion}"));
        Assert.All(_scanned.TakeLast(5), s => Assert.Single(s.Plan.Windows));
        Assert.Equal(1, _metrics.TracksStarted.WithLabels("door").Value);
        Assert.Equal(0, _metrics.TracksEnded.WithLabels("door").Value);
        // The window is three faces wide: about 55 % of this small scene, and searched only for faces near the size last seen.
        Assert.All(_scanned.TakeLast(5), s => Assert.InRange(s.Plan.ScannedShare(SceneWidth, SceneHeight), 0.1f, 0.75f));
        var share = _metrics.ScannedShare.WithLabels("door");
        Assert.True(share.Sum / share.Count < 0.7, $"mean scanned share {share.Sum / share.Count:F2}");
    }

    [Fact]
    public async Task A_face_that_appears_without_motion_is_found_at_the_next_full_scan()
    {
        _settings.Detector.Adaptive.FullScanInterval = TimeSpan.FromSeconds(1);
        _settings.Detector.Adaptive.MotionThreshold = 255; // no change counts as motion: the face appears "in a still region"
        var (scans, gate) = Stages();
        var camera = Camera(_metrics);
        var patch = FacePatch();
        var found = new List<int>();
        for (int i = 0; i < 8; i++)
        {
            // Frame 0 is the empty scene; from frame 1 (0.2 s) on, a face stands at the same place.
            if ((await Analyse(scans, gate, camera, i == 0 ? Scene(null) : Scene(patch, 300, 100), i)).Count > 0)
            {
                found.Add(i);
            }
        }

        // First camera: phase 0, so its next full pass is one interval after the first frame, at frame 5 (1.0 s).
        Assert.Equal([5, 6, 7], found);
        Assert.All(_scanned.Skip(1).Take(4), s => Assert.Equal(ScanReason.Idle, s.Plan.Reason));
        Assert.True(_scanned[5].Plan.Full);
        Assert.Equal(ScanReason.Periodic, _scanned[5].Plan.Reason);
        Assert.Equal(2, _metrics.FullScans.WithLabels("door", "periodic").Value);
    }

    [Fact]
    public async Task A_reconnected_camera_is_scanned_whole_and_counted_as_such()
    {
        _settings.Detector.Adaptive.FullScanInterval = TimeSpan.FromMinutes(1);
        var (scans, gate) = Stages();
        var camera = Camera(_metrics);
        var scene = Scene(null);
        await Analyse(scans, gate, camera, scene, 0, reconnects: 3);
        await Analyse(scans, gate, camera, scene, 1, reconnects: 3);
        await Analyse(scans, gate, camera, scene, 2, reconnects: 4);

        Assert.Equal([true, false, true], _scanned.Select(s => s.Plan.Full));
        Assert.Equal(["periodic", null, "reconnect"], _scanned.Select(s => s.FullScanReason));
        Assert.Equal(ScanReason.Idle, _scanned[1].Plan.Reason);
        Assert.Equal(1, _metrics.FullScans.WithLabels("door", "reconnect").Value);
        Assert.Equal(1, _metrics.FullScans.WithLabels("door", "periodic").Value);
    }

    [Fact]
    public async Task A_copy_of_the_live_tracks_older_than_the_one_held_is_ignored()
    {
        // Two detect batches in flight are released in the gate's order but observed in any order: the older copy must
        // not take back a track the newer one has (its face would then go unsearched until motion or a full pass).
        _settings.Detector.Adaptive.FullScanInterval = TimeSpan.FromMinutes(1);
        var (scans, gate) = Stages();
        var camera = Camera(_metrics);
        var scene = Scene(FacePatch(), 300, 100);
        var older = gate.LiveTracks();
        await Analyse(scans, gate, camera, scene, 0);
        scans.Observe(older);
        await Analyse(scans, gate, camera, scene, 1);

        Assert.True(older.Of(camera).Count == 0 && _scanned[0].Plan.Full);
        // Nothing moved: the one window searched at frame 1 is the track's, from the newer copy.
        Assert.Equal(ScanReason.Windows, _scanned[1].Plan.Reason);
        Assert.Single(_scanned[1].Plan.Windows);
        Assert.Single(_scanned[1].Faces);
    }

    [Theory]
    [InlineData(DetectorOptions.FullMode)]
    [InlineData(DetectorOptions.AdaptiveMode)]
    public async Task Cameras_do_not_search_for_faces_smaller_than_the_quality_gate_passes(string mode)
    {
        // The patch's face is about 100 × 130 px: found with the gate at 40 px, not searched for with the gate at 300 px.
        _settings.Detector.Mode = mode;
        var patch = FacePatch();
        var (scans, gate) = Stages();
        Assert.Equal(40, _settings.CameraMinFaceSize());
        Assert.Single(await Analyse(scans, gate, Camera(_metrics), Scene(patch, 300, 100), 0));

        _settings.Quality.MinFaceSize = 300;
        Assert.Equal(300, _settings.CameraMinFaceSize());
        (scans, gate) = Stages();
        await AssertWalkingFaceNotSearchedFor(scans, gate, Camera(_metrics, "gate"), patch, floor: 300);
    }

    [Theory]
    [InlineData(DetectorOptions.FullMode)]
    [InlineData(DetectorOptions.AdaptiveMode)]
    public async Task A_camera_with_a_larger_face_size_of_its_own_is_not_searched_for_smaller_faces(string mode)
    {
        // Cameras[].MinFaceSize: the hall camera looks for faces of 300 px and more, the door camera as the worker does.
        _settings.Detector.Mode = mode;
        var patch = FacePatch();
        var (scans, gate) = Stages();
        for (int i = 0; i < 4; i++)
        {
            Assert.Single(await Analyse(scans, gate, Camera(_metrics), Scene(patch, 100 + (40 * i), 100), i));
        }

        await AssertWalkingFaceNotSearchedFor(scans, gate, Camera(_metrics, "hall") with { MinFaceSize = 300 }, patch, floor: 300);
    }

    /// <summary>
    /// The patch walking right through <paramref name="camera"/>'s picture for four frames: never found, the first frame
    /// searched whole, and in adaptive mode motion windows searched only for faces of at least <paramref name="floor"/> px.
    /// </summary>
    private async Task AssertWalkingFaceNotSearchedFor(CameraScans scans, TrackGateStage gate, CameraRef camera, ImageFrame patch, float floor)
    {
        for (int i = 0; i < 4; i++)
        {
            Assert.Empty(await Analyse(scans, gate, camera, Scene(patch, 100 + (40 * i), 100), i));
        }

        var scanned = _scanned.Where(s => s.CameraId == camera.Id).ToList();
        Assert.True(scanned[0].Plan.Full);
        if (_settings.Detector.IsAdaptive)
        {
            Assert.Contains(scanned.Skip(1), s => s.Plan.Windows.Count > 0);
            Assert.All(scanned.SelectMany(s => s.Plan.Windows), w => Assert.True(w.MinFace >= floor, $"window {w}"));
        }
        else
        {
            Assert.All(scanned, s => Assert.True(s.Plan.Full));
        }
    }

    [Fact]
    public async Task Full_mode_scans_every_frame_whole()
    {
        _settings.Detector.Mode = DetectorOptions.FullMode;
        var (scans, gate) = Stages();
        var camera = Camera(_metrics);
        var patch = FacePatch();
        for (int i = 0; i < 3; i++)
        {
            Assert.Single(await Analyse(scans, gate, camera, Scene(patch, 300, 100), i));
        }

        Assert.All(_scanned, s => Assert.True(s.Plan.Full));
        Assert.Equal(3, _metrics.ScannedShare.WithLabels("door").Sum);
    }
}
