using FaceStream.Core.Geometry;

namespace FaceStream.Core.Detection.Adaptive;

/// <summary>Settings of scene-adaptive detection (section <c>Detector:Adaptive</c>, used when <c>Detector:Mode</c> is <c>adaptive</c>).</summary>
public sealed record ScanOptions
{
    /// <summary>A full-frame pass at least this often per camera, to find faces that appear without moving.</summary>
    public TimeSpan FullScanInterval { get; init; } = TimeSpan.FromSeconds(1.5);

    /// <summary>Margin around a track's predicted face, in face sizes per side (1 = a window three faces wide).</summary>
    public float TrackPadding { get; init; } = 1.0f;

    /// <summary>Margin around a motion region, as a share of its larger side (a head that starts moving shows its edge first).</summary>
    public float MotionPadding { get; init; } = 0.1f;

    /// <summary>Half-width of a tracked person's body beside the face, in face sizes (motion there is that person's).</summary>
    public float BodyWidth { get; init; } = 1.5f;

    /// <summary>How far a tracked person's body reaches below the face, in face sizes.</summary>
    public float BodyHeight { get; init; } = 7f;

    /// <summary>When the windows would cost more than this share of a full pass (see <c>RelativeCost</c>), one full pass is simpler.</summary>
    public float MaxWindowShare { get; init; } = 0.5f;

    /// <summary>A track window looks for faces between this factor smaller and larger than the face last seen.</summary>
    public float TrackScaleRange { get; init; } = 1.6f;

    /// <summary>
    /// Horizontal bands in which the faces seen lately are remembered (<see cref="FaceRows"/>): motion windows are cut to
    /// the bands where faces were, each searched for the sizes seen there. 0 (the default) turns this off: motion
    /// windows are searched whole, from the smallest face up (measured: it misses faces where few are seen).
    /// </summary>
    public int FaceRowBands { get; init; }

    /// <summary>How long a face seen on a row keeps that row (and its size) in the search.</summary>
    public TimeSpan FaceRowsMemory { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Faces tracked at whole-frame passes within the memory (one per live track and pass) before the rows are trusted; until then motion windows are searched whole.</summary>
    public int FaceRowsMinFaces { get; init; } = 10;
}

/// <summary>
/// One window of a frame to run the detector on, in whole frame pixels, and the face sizes worth looking for there
/// (so the pyramid stops at the scales that fit).
/// </summary>
public readonly record struct ScanWindow(int X, int Y, int Width, int Height, float MinFace, float MaxFace)
{
    public BoxF Box => new(X, Y, X + Width, Y + Height);
}

/// <summary>Why a frame is scanned the way it is (a metric label and what the debug overlay prints).</summary>
public enum ScanReason
{
    /// <summary>The periodic full pass (or the first frame of a camera).</summary>
    Periodic,
    /// <summary>Motion covered too much of the frame (shake, lighting, a pan), or the background was reset.</summary>
    SceneChange,
    /// <summary>The windows would have covered more than <see cref="ScanOptions.MaxWindowShare"/>.</summary>
    WindowsTooLarge,
    /// <summary>Only the windows: around motion and around live tracks.</summary>
    Windows,
    /// <summary>Nothing moved and nobody is tracked: no detection at all.</summary>
    Idle,
}

/// <summary>What to scan in one frame.</summary>
/// <param name="Cost">
/// The windows' estimated detection work as a share of a whole-frame pass (see <see cref="ScanOptions.MaxWindowShare"/>):
/// 0 when idle; 1 for a whole pass, except one chosen because the windows would have cost more (then their estimate).
/// </param>
public sealed record ScanPlan(bool Full, IReadOnlyList<ScanWindow> Windows, ScanReason Reason, double Cost = 1)
{
    /// <summary>Share of the frame's pixels the detector looks at (1 for a full pass).</summary>
    public float ScannedShare(int width, int height) =>
        Full ? 1f : Math.Min(1f, Windows.Sum(w => (float)w.Width * w.Height) / ((float)width * height));
}

/// <summary>
/// Decides, per camera and frame, whether to run a full pass or which windows to scan (the motion regions and a window
/// around each live track's predicted face). One instance per camera; not thread-safe.
/// </summary>
/// <param name="phase">
/// Offset of this camera's full passes within the interval (0–1), so cameras started together don't all scan the
/// whole frame on the same tick; e.g. camera index ÷ camera count.
/// </param>
public sealed class ScanPlanner(ScanOptions options, float minFaceSize, double phase = 0)
{
    private readonly ScanOptions _o = options;
    private readonly FaceRows _rows = new(options);
    private DateTimeOffset? _nextFull;

    /// <summary>Ask for a full pass on the next frame and forget the rows of faces (after a reconnect or a resolution change).</summary>
    public void ForceFull()
    {
        _nextFull = null;
        _rows.Reset();
    }

    public ScanPlan Plan(DateTimeOffset at, int width, int height, MotionResult motion, IReadOnlyList<BoxF> predictedFaces)
    {
        if (_o.FaceRowBands > 0)
        {
            _rows.Observe(at, height, predictedFaces);
        }

        var plan = Decide(at, width, height, motion, predictedFaces);
        if (_o.FaceRowBands > 0 && plan.Full)
        {
            _rows.CountWholePass(predictedFaces.Count);
        }

        return plan;
    }

    private ScanPlan Decide(DateTimeOffset at, int width, int height, MotionResult motion, IReadOnlyList<BoxF> predictedFaces)
    {
        if (_nextFull is null)
        {
            // First frame: scan it whole, then the phase staggers this camera's later passes.
            double first = phase > 0 && phase < 1 ? phase : 1;
            _nextFull = at + (_o.FullScanInterval * first);
            return new ScanPlan(true, [], ScanReason.Periodic);
        }

        if (at >= _nextFull)
        {
            // On a fixed grid, so cameras keep the phases they were given; after a long gap, start again from now.
            _nextFull += _o.FullScanInterval;
            if (_nextFull <= at)
            {
                _nextFull = at + _o.FullScanInterval;
            }

            return new ScanPlan(true, [], ScanReason.Periodic);
        }

        if (motion.WholeFrame)
        {
            return new ScanPlan(true, [], ScanReason.SceneChange);
        }

        var windows = new List<ScanWindow>(motion.Regions.Count + predictedFaces.Count);
        foreach (var r in motion.Regions)
        {
            if (ExplainedByTracks(r, predictedFaces))
            {
                continue;
            }

            float pad = _o.MotionPadding * Math.Max(r.Width, r.Height);
            windows.Add(Window(r, pad, pad, width, height, minFaceSize, float.MaxValue));
        }

        foreach (var f in predictedFaces)
        {
            float size = Math.Max(f.Width, f.Height);
            float pad = _o.TrackPadding * size;
            windows.Add(Window(f, pad, pad, width, height,
                Math.Max(minFaceSize, size / _o.TrackScaleRange), size * _o.TrackScaleRange));
        }

        if (windows.Count == 0)
        {
            return new ScanPlan(false, [], ScanReason.Idle, 0);
        }

        MergeOverlapping(windows, width, height);
        if (_o.FaceRowBands > 0 && _rows.Known)
        {
            windows = ToFaceRows(windows);
        }

        double cost = RelativeCost(windows, width, height);
        if (cost > _o.MaxWindowShare)
        {
            return new ScanPlan(true, [], ScanReason.WindowsTooLarge, cost);
        }

        return new ScanPlan(false, windows, windows.Count == 0 ? ScanReason.Idle : ScanReason.Windows, cost);
    }

    /// <summary>
    /// Windows that search every face size (those around motion) cut to the rows where this camera's faces have been
    /// lately, at the sizes seen there (<see cref="FaceRows"/>); track windows stay as they are.
    /// </summary>
    private List<ScanWindow> ToFaceRows(List<ScanWindow> windows)
    {
        var cut = new List<ScanWindow>(windows.Count);
        foreach (var w in windows)
        {
            if (w.MinFace <= minFaceSize)
            {
                _rows.Split(w, minFaceSize, cut);
            }
            else
            {
                cut.Add(w);
            }
        }

        return cut;
    }

    /// <summary>
    /// The windows' detection work as a share of a full pass. P-Net's work, which dominates, grows with the pixels of
    /// its first pyramid level: area × (12 / smallest face)²; a window that looks only for large faces starts at a
    /// small level, so a big window around a big face is cheap. Checked against measured CPU (2026-12-02,
    /// docs/adaptive-detection.md): 0.4× on a 1080p crowd, 1.4× on an 800 × 450 one, and it leaves out a fixed part per
    /// window and per face (R-Net, O-Net, landmarks), which is most of a small window's cost.
    /// </summary>
    private double RelativeCost(List<ScanWindow> windows, int width, int height) =>
        windows.Sum(FaceRows.Cost) / FaceRows.Cost(new ScanWindow(0, 0, width, height, minFaceSize, float.MaxValue));

    /// <summary>
    /// A moving blob that is mostly the body of someone already tracked (the column below and around a tracked face)
    /// needs no window of its own: the face has its track window. A newcomer hidden in it is found by the next full
    /// pass, at most <see cref="ScanOptions.FullScanInterval"/> later.
    /// </summary>
    private bool ExplainedByTracks(BoxF region, IReadOnlyList<BoxF> faces)
    {
        if (faces.Count == 0)
        {
            return false;
        }

        float covered = 0;
        foreach (var f in faces)
        {
            float size = Math.Max(f.Width, f.Height);
            var body = new BoxF(f.X1 - (_o.BodyWidth * size), f.Y1 - size, f.X2 + (_o.BodyWidth * size), f.Y2 + (_o.BodyHeight * size));
            float iw = Math.Min(region.X2, body.X2) - Math.Max(region.X1, body.X1);
            float ih = Math.Min(region.Y2, body.Y2) - Math.Max(region.Y1, body.Y1);
            if (iw > 0 && ih > 0)
            {
                covered += iw * ih;
            }
        }

        return covered >= 0.8f * region.Area;
    }

    private static ScanWindow Window(BoxF b, float padX, float padY, int width, int height, float minFace, float maxFace)
    {
        int x1 = Math.Clamp((int)MathF.Floor(b.X1 - padX), 0, width - 1);
        int y1 = Math.Clamp((int)MathF.Floor(b.Y1 - padY), 0, height - 1);
        int x2 = Math.Clamp((int)MathF.Ceiling(b.X2 + padX), x1 + 1, width);
        int y2 = Math.Clamp((int)MathF.Ceiling(b.Y2 + padY), y1 + 1, height);
        return new ScanWindow(x1, y1, x2 - x1, y2 - y1, minFace, Math.Min(maxFace, Math.Min(x2 - x1, y2 - y1)));
    }

    /// <summary>
    /// Replaces overlapping windows by their union until none overlap: a face on the seam of two windows would be cut in
    /// half in both, and one larger window costs less than two overlapping ones.
    /// </summary>
    private static void MergeOverlapping(List<ScanWindow> windows, int width, int height)
    {
        bool merged = true;
        while (merged)
        {
            merged = false;
            for (int i = 0; i < windows.Count && !merged; i++)
            {
                for (int j = i + 1; j < windows.Count; j++)
                {
                    var a = windows[i];
                    var b = windows[j];
                    if (a.X >= b.X + b.Width || b.X >= a.X + a.Width || a.Y >= b.Y + b.Height || b.Y >= a.Y + a.Height)
                    {
                        continue;
                    }

                    int x1 = Math.Min(a.X, b.X), y1 = Math.Min(a.Y, b.Y);
                    int x2 = Math.Max(a.X + a.Width, b.X + b.Width), y2 = Math.Max(a.Y + a.Height, b.Y + b.Height);
                    windows[i] = new ScanWindow(x1, y1, Math.Min(width, x2) - x1, Math.Min(height, y2) - y1,
                        Math.Min(a.MinFace, b.MinFace), Math.Max(a.MaxFace, b.MaxFace));
                    windows.RemoveAt(j);
                    merged = true;
                    break;
                }
            }
        }
    }
}
