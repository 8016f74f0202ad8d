using FaceStream.Core.Detection.Adaptive;
using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;
using Xunit;

namespace FaceStream.Tests.Core;

public class MotionDetectorTests
{
    private const int W = 640, H = 360;

    /// <summary>A scene of 16 px tiles of random grey levels (40–200), so that a shifted copy differs everywhere.</summary>
    internal static byte[] Scene(int seed = 7)
    {
        var rng = new Random(seed);
        var tiles = new byte[(W / 16) * ((H + 15) / 16)];
        for (int i = 0; i < tiles.Length; i++)
        {
            tiles[i] = (byte)rng.Next(40, 200);
        }

        var px = new byte[W * H * 3];
        for (int y = 0; y < H; y++)
        {
            for (int x = 0; x < W; x++)
            {
                byte v = tiles[((y / 16) * (W / 16)) + (x / 16)];
                px[((y * W) + x) * 3] = px[(((y * W) + x) * 3) + 1] = px[(((y * W) + x) * 3) + 2] = v;
            }
        }

        return px;
    }

    private static ImageFrame Frame(byte[] px) => new(W, H, W * 3, PixelFormat.Bgr24, px);

    private static byte[] WithSquare(byte[] scene, int x0, int y0, int size = 60, byte value = 250)
    {
        var px = (byte[])scene.Clone();
        for (int y = y0; y < y0 + size; y++)
        {
            for (int x = x0; x < x0 + size; x++)
            {
                px[((y * W) + x) * 3] = px[(((y * W) + x) * 3) + 1] = px[(((y * W) + x) * 3) + 2] = value;
            }
        }

        return px;
    }

    /// <summary>The crowd settings measured in docs/adaptive-detection.md: a shaken view's edges and a crowd are not a scene change.</summary>
    internal static readonly MotionOptions CrowdOptions = new() { JitterCells = 1, CrowdStillTiles = 0.25f };

    private static MotionDetector Primed(byte[] scene, MotionOptions? options = null)
    {
        var m = new MotionDetector(options ?? new MotionOptions());
        Assert.True(m.Update(Frame(scene)).WholeFrame); // the first frame primes the background
        for (int i = 0; i < 3; i++)
        {
            Assert.Empty(m.Update(Frame(scene)).Regions);
        }

        return m;
    }

    [Fact]
    public void A_moving_square_is_one_region_around_it()
    {
        var scene = Scene();
        var m = Primed(scene);
        var r = m.Update(Frame(WithSquare(scene, 300, 150)));
        Assert.False(r.WholeFrame);
        var box = Assert.Single(r.Regions);
        Assert.InRange(box.X1, 280, 300);
        Assert.InRange(box.Y1, 130, 150);
        Assert.InRange(box.X2, 360, 380);
        Assert.InRange(box.Y2, 210, 230);
    }

    [Fact]
    public void A_global_brightness_change_is_not_motion()
    {
        var scene = Scene();
        var m = Primed(scene);
        var brighter = scene.Select(v => (byte)(v + 45)).ToArray();
        var r = m.Update(Frame(brighter));
        Assert.False(r.WholeFrame);
        Assert.Empty(r.Regions);
    }

    [Fact]
    public void Sensor_noise_is_not_motion()
    {
        var scene = Scene();
        var m = Primed(scene);
        var rng = new Random(3);
        for (int f = 0; f < 10; f++)
        {
            var noisy = scene.Select(v => (byte)Math.Clamp(v + rng.Next(-12, 13), 0, 255)).ToArray();
            var r = m.Update(Frame(noisy));
            Assert.False(r.WholeFrame);
            Assert.Empty(r.Regions);
        }
    }

    [Fact]
    public void Camera_shake_asks_for_a_full_pass_and_then_settles_on_the_new_view()
    {
        var scene = Scene();
        var m = Primed(scene);
        var shifted = new byte[scene.Length];
        for (int y = 0; y < H; y++)
        {
            for (int x = 0; x < W; x++)
            {
                int sx = Math.Min(W - 1, x + 8);
                for (int c = 0; c < 3; c++)
                {
                    shifted[(((y * W) + x) * 3) + c] = scene[(((y * W) + sx) * 3) + c];
                }
            }
        }

        Assert.True(m.Update(Frame(shifted)).WholeFrame);
        Assert.Empty(m.Update(Frame(shifted)).Regions); // the shifted view became the background
        Assert.Equal(shifted, Shifted(scene, 8));

        var tolerant = Primed(scene, CrowdOptions); // tolerating a cell of jitter, a two-cell move is still a new view
        Assert.True(tolerant.Update(Frame(shifted)).WholeFrame);
    }

    /// <summary>Ten people side by side on the lower 200 rows: 43 % of the frame moves, the upper rows stay still.</summary>
    internal static byte[] Crowd(byte[] scene, int offset = 0)
    {
        var px = scene;
        for (int x = offset; x + 50 <= W; x += 64)
        {
            px = WithBlock(px, x, 160, 50, 200);
        }

        return px;
    }

    private static byte[] WithBlock(byte[] scene, int x0, int y0, int width, int height, byte value = 250)
    {
        var px = (byte[])scene.Clone();
        for (int y = y0; y < Math.Min(H, y0 + height); y++)
        {
            for (int x = x0; x < x0 + width; x++)
            {
                px[((y * W) + x) * 3] = px[(((y * W) + x) * 3) + 1] = px[(((y * W) + x) * 3) + 2] = value;
            }
        }

        return px;
    }

    /// <summary>The scene moved by <paramref name="dx"/> px to the left (a shaken or panning camera).</summary>
    internal static byte[] Shifted(byte[] scene, int dx)
    {
        var shifted = new byte[scene.Length];
        for (int y = 0; y < H; y++)
        {
            for (int x = 0; x < W; x++)
            {
                int sx = Math.Min(W - 1, x + dx);
                for (int c = 0; c < 3; c++)
                {
                    shifted[(((y * W) + x) * 3) + c] = scene[(((y * W) + sx) * 3) + c];
                }
            }
        }

        return shifted;
    }

    [Fact]
    public void A_crowd_moving_under_a_still_background_is_regions_not_a_scene_change()
    {
        var scene = Scene();
        var m = Primed(scene, CrowdOptions);
        var r = m.Update(Frame(Crowd(scene)));
        Assert.True(r.MovingShare > new MotionOptions().MaxMovingShare, $"moving share {r.MovingShare:P0}");
        Assert.False(r.WholeFrame);
        Assert.NotEmpty(r.Regions);
        Assert.All(r.Regions, b => Assert.True(b.Y1 >= 140, $"region {b} reaches into the still rows"));

        var off = new MotionDetector(new MotionOptions());
        off.Update(Frame(scene));
        Assert.True(off.Update(Frame(Crowd(scene))).WholeFrame); // by default (no still-tile test) the give-up
    }

    [Fact]
    public void A_view_shifted_by_less_than_a_cell_is_not_motion()
    {
        var scene = Scene();
        var m = Primed(scene, CrowdOptions);
        var r = m.Update(Frame(Shifted(scene, 3))); // cells are 4 px wide at 640 px across
        Assert.False(r.WholeFrame);
        Assert.Empty(r.Regions);
        Assert.True(r.MovingShare < 0.02f, $"moving share {r.MovingShare:P1}");

        // Each cell against its own background (the default): the cells on the tiles' edges move.
        var strict = Primed(scene);
        Assert.True(strict.Update(Frame(Shifted(scene, 3))).MovingShare > 0.1f);
    }

    [Fact]
    public void Reset_makes_the_next_frame_a_full_pass()
    {
        var scene = Scene();
        var m = Primed(scene);
        m.Reset();
        Assert.True(m.Update(Frame(scene)).WholeFrame);
        Assert.False(m.Update(Frame(scene)).WholeFrame);
    }
}

public class ScanPlannerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly ScanOptions Options = new() { FullScanInterval = TimeSpan.FromSeconds(1.5) };

    [Fact]
    public void The_first_frame_is_scanned_whole_then_only_windows_until_the_interval_is_up()
    {
        var p = new ScanPlanner(Options, 20);
        Assert.True(p.Plan(T0, 1920, 1080, MotionResult.Still, []).Full);
        var idle = p.Plan(T0.AddSeconds(0.2), 1920, 1080, MotionResult.Still, []);
        Assert.Equal(ScanReason.Idle, idle.Reason);
        Assert.Equal(0, idle.ScannedShare(1920, 1080));
        var periodic = p.Plan(T0.AddSeconds(1.5), 1920, 1080, MotionResult.Still, []);
        Assert.True(periodic.Full);
        Assert.Equal(ScanReason.Periodic, periodic.Reason);
        Assert.False(p.Plan(T0.AddSeconds(1.7), 1920, 1080, MotionResult.Still, []).Full);
    }

    [Fact]
    public void Cameras_with_different_phases_do_not_scan_whole_frames_on_the_same_tick()
    {
        var a = new ScanPlanner(Options, 20, phase: 0);
        var b = new ScanPlanner(Options, 20, phase: 0.5);
        a.Plan(T0, 1920, 1080, MotionResult.Still, []);
        b.Plan(T0, 1920, 1080, MotionResult.Still, []);
        var fullA = new List<double>();
        var fullB = new List<double>();
        for (int tenths = 1; tenths < 45; tenths++)
        {
            double t = tenths / 10.0;
            if (a.Plan(T0.AddSeconds(t), 1920, 1080, MotionResult.Still, []).Full) fullA.Add(t);
            if (b.Plan(T0.AddSeconds(t), 1920, 1080, MotionResult.Still, []).Full) fullB.Add(t);
        }

        Assert.Equal([1.5, 3.0], fullA);
        Assert.Equal([0.8, 2.3, 3.8], fullB);
    }

    [Fact]
    public void A_tracked_face_gets_a_window_three_faces_wide_looking_for_faces_near_its_size()
    {
        var p = new ScanPlanner(Options, 20);
        p.Plan(T0, 1920, 1080, MotionResult.Still, []);
        var plan = p.Plan(T0.AddSeconds(0.2), 1920, 1080, MotionResult.Still, [new BoxF(1000, 500, 1080, 580)]);
        Assert.Equal(ScanReason.Windows, plan.Reason);
        var w = Assert.Single(plan.Windows);
        Assert.Equal((920, 420, 240, 240), (w.X, w.Y, w.Width, w.Height));
        Assert.Equal(80 / 1.6f, w.MinFace, 3);
        Assert.Equal(80 * 1.6f, w.MaxFace, 3);
    }

    [Fact]
    public void Overlapping_windows_become_their_union_and_separate_ones_stay_apart()
    {
        var p = new ScanPlanner(Options, 20);
        p.Plan(T0, 1920, 1080, MotionResult.Still, []);
        var motion = new MotionResult([new BoxF(100, 100, 200, 200), new BoxF(1500, 800, 1600, 900)], 0.02f, false);
        var plan = p.Plan(T0.AddSeconds(0.2), 1920, 1080, motion, [new BoxF(180, 180, 220, 220)]);
        Assert.Equal(2, plan.Windows.Count);
        var merged = plan.Windows.Single(w => w.X < 1000);
        Assert.Equal((90, 90), (merged.X, merged.Y));      // motion window: 100 − 0.1·100
        Assert.Equal(260, merged.X + merged.Width);        // track window: 220 + 1·40
        Assert.Equal(20, merged.MinFace);                  // the motion window looks from the smallest face up
    }

    [Fact]
    public void Motion_of_a_tracked_persons_body_needs_no_window_of_its_own()
    {
        var p = new ScanPlanner(Options, 20);
        p.Plan(T0, 1920, 1080, MotionResult.Still, []);
        var face = new BoxF(1000, 300, 1060, 360);
        var body = new MotionResult([new BoxF(960, 300, 1100, 700)], 0.03f, false);
        var plan = p.Plan(T0.AddSeconds(0.2), 1920, 1080, body, [face]);
        var w = Assert.Single(plan.Windows);
        Assert.Equal((940, 240, 180, 180), (w.X, w.Y, w.Width, w.Height)); // the track window only
        var stranger = new MotionResult([new BoxF(1400, 300, 1540, 700)], 0.03f, false);
        Assert.Equal(2, p.Plan(T0.AddSeconds(0.4), 1920, 1080, stranger, [face]).Windows.Count);
    }

    [Fact]
    public void Windows_covering_most_of_the_frame_become_a_full_pass()
    {
        var p = new ScanPlanner(Options, 20);
        p.Plan(T0, 640, 360, MotionResult.Still, []);
        var motion = new MotionResult([new BoxF(0, 0, 500, 300)], 0.3f, false);
        Assert.Equal(ScanReason.WindowsTooLarge, p.Plan(T0.AddSeconds(0.2), 640, 360, motion, []).Reason);
        var bigFace = new BoxF(220, 80, 420, 280); // a talking head: its window is most of the frame, but looks only for big faces
        Assert.Equal(ScanReason.Windows, p.Plan(T0.AddSeconds(0.3), 640, 360, MotionResult.Still, [bigFace]).Reason);
        var scene = new MotionResult([], 0.9f, true);
        Assert.Equal(ScanReason.SceneChange, p.Plan(T0.AddSeconds(0.4), 640, 360, scene, []).Reason);
    }

    private static BoxF[] Row(float y, float size) => [.. Enumerable.Range(0, 5).Select(i => new BoxF(100 + (200 * i), y, 100 + (200 * i) + size, y + size))];

    [Fact]
    public void Motion_is_searched_only_on_the_rows_where_faces_were_seen_and_for_their_sizes()
    {
        var p = new ScanPlanner(Options with { FaceRowBands = 12 }, 20);
        // Five faces 60 px tall centred on row 500 (band 5 of 12 on a 1080-row frame), tracked at two whole passes.
        BoxF[] faces = Row(470, 60);
        p.Plan(T0, 1920, 1080, MotionResult.Still, faces);
        for (int i = 1; i < 10; i++)
        {
            p.Plan(T0.AddSeconds(0.2 * i), 1920, 1080, MotionResult.Still, faces);
        }

        // The crowd's bodies moving on the lower half, a newcomer among them: its window is cut to the faces' rows.
        var crowd = new MotionResult([new BoxF(1200, 400, 1700, 1080)], 0.3f, false);
        var plan = p.Plan(T0.AddSeconds(2.2), 1920, 1080, crowd, faces);
        Assert.Equal(ScanReason.Windows, plan.Reason);
        var cut = plan.Windows.Single(w => w.X >= 1100);
        Assert.Equal(450 - 72, cut.Y);                     // band 5 starts at row 450; a 96 px face reaches 72 px above it
        Assert.Equal(540 + 72 - cut.Y, cut.Height);
        Assert.Equal(60 / 1.6f, cut.MinFace, 3);          // not from 20 px up: faces here are 60 px
        Assert.Equal(60 * 1.6f, cut.MaxFace, 3);
        Assert.True(plan.Cost < 0.05, $"estimated cost {plan.Cost:P0}");

        var whole = new ScanPlanner(Options, 20);
        whole.Plan(T0, 1920, 1080, MotionResult.Still, faces);
        var w0 = whole.Plan(T0.AddSeconds(0.2), 1920, 1080, crowd, faces).Windows.Single(w => w.X >= 1100);
        Assert.Equal((400 - 68, 20f), (w0.Y, w0.MinFace)); // off: the padded region, every size
    }

    [Fact]
    public void Face_rows_are_not_used_before_enough_faces_were_seen_nor_after_a_restart()
    {
        var p = new ScanPlanner(Options with { FaceRowBands = 12 }, 20);
        BoxF[] faces = Row(470, 60);
        var crowd = new MotionResult([new BoxF(1200, 400, 1700, 1080)], 0.3f, false);
        p.Plan(T0, 1920, 1080, MotionResult.Still, faces); // 5 faces at a whole pass: not enough
        Assert.Equal(20, p.Plan(T0.AddSeconds(0.2), 1920, 1080, crowd, faces).Windows.Single(w => w.X >= 1100).MinFace);
        for (int i = 2; i <= 30; i++)
        {
            p.Plan(T0.AddSeconds(0.1 * i), 1920, 1080, MotionResult.Still, faces);
        }

        Assert.True(p.Plan(T0.AddSeconds(3.1), 1920, 1080, crowd, faces).Windows.Single(w => w.X >= 1100).MinFace > 20);
        p.ForceFull();
        p.Plan(T0.AddSeconds(3.2), 1920, 1080, MotionResult.Still, faces);
        Assert.Equal(20, p.Plan(T0.AddSeconds(3.3), 1920, 1080, crowd, faces).Windows.Single(w => w.X >= 1100).MinFace);
    }

    [Fact]
    public void ForceFull_scans_the_next_frame_whole()
    {
        var p = new ScanPlanner(Options, 20);
        p.Plan(T0, 640, 360, MotionResult.Still, []);
        p.ForceFull();
        Assert.True(p.Plan(T0.AddSeconds(0.2), 640, 360, MotionResult.Still, []).Full);
    }
}

public class CameraScanTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 8, 0, 0, TimeSpan.Zero);

    private static ImageFrame Frame(byte[] px) => new(640, 360, 640 * 3, PixelFormat.Bgr24, px);

    [Fact]
    public void A_crowd_walking_under_tracked_heads_gets_head_windows_and_a_shaken_view_a_whole_pass()
    {
        var scene = MotionDetectorTests.Scene();
        // Ten people (50 px wide, from row 160 down) whose 30 px faces at the top are tracked.
        BoxF[] heads = [.. Enumerable.Range(0, 10).Select(i => new BoxF((i * 64) + 10, 162, (i * 64) + 40, 192))];
        var scan = new CameraScan(MotionDetectorTests.CrowdOptions, new ScanOptions { FaceRowBands = 12 }, 20);
        Assert.True(scan.Plan(Frame(scene), T0, heads).Full); // the first frame
        for (int i = 1; i < 4; i++)
        {
            Assert.False(scan.Plan(Frame(scene), T0.AddSeconds(0.2 * i), heads).Full);
        }

        var crowd = scan.Plan(Frame(MotionDetectorTests.Crowd(scene)), T0.AddSeconds(0.8), heads);
        Assert.True(scan.LastMotion.MovingShare > 0.35f, $"moving share {scan.LastMotion.MovingShare:P0}");
        Assert.Equal(ScanReason.Windows, crowd.Reason);
        Assert.All(crowd.Windows, w => Assert.InRange(w.Y + w.Height, 0, 260)); // the heads' rows, not the bodies below
        Assert.True(crowd.ScannedShare(640, 360) < 0.5f, $"scanned {crowd.ScannedShare(640, 360):P0}");

        var shaken = scan.Plan(Frame(MotionDetectorTests.Shifted(MotionDetectorTests.Crowd(scene), 8)), T0.AddSeconds(1.0), heads);
        Assert.True(shaken.Full);
        Assert.Equal(ScanReason.SceneChange, shaken.Reason);
    }
}

public class WindowDetectionsTests
{
    private static DetectedFace Face(float x, float y, float size, float score) =>
        new(new BoxF(x, y, x + size, y + size), score, new Landmarks5(
            new PointF(x + (0.3f * size), y + (0.4f * size)), new PointF(x + (0.7f * size), y + (0.4f * size)),
            new PointF(x + (0.5f * size), y + (0.6f * size)), new PointF(x + (0.35f * size), y + (0.8f * size)),
            new PointF(x + (0.65f * size), y + (0.8f * size))));

    [Fact]
    public void Faces_found_in_a_window_move_to_frame_coordinates_with_their_landmarks()
    {
        var f = WindowDetections.ToFrame(Face(10, 20, 50, 0.99f), 300, 400);
        Assert.Equal(new BoxF(310, 420, 360, 470), f.Box);
        Assert.Equal(new PointF(325, 440), f.Landmarks.LeftEye);
        Assert.Equal(new PointF(342.5f, 460), f.Landmarks.MouthRight);
    }

    [Fact]
    public void A_face_seen_in_two_windows_is_kept_once_with_its_better_score()
    {
        var a = new ScanWindow(0, 0, 200, 200, 20, 200);
        var b = new ScanWindow(150, 0, 200, 200, 20, 200);
        var merged = WindowDetections.Merge([
            (a, [Face(160, 50, 40, 0.90f), Face(10, 10, 30, 0.95f)]),
            (b, [Face(12, 52, 40, 0.99f)]), // the same face as a's first, 2 px off
        ]);
        Assert.Equal(2, merged.Count);
        Assert.Equal(0.99f, merged[0].Score);
        Assert.Equal(162, merged[0].Box.X1);
        Assert.Equal(0.95f, merged[1].Score);
    }
}
