using System.ComponentModel.DataAnnotations;
using FaceStream.Core.Detection.Adaptive;
using FaceStream.Inference.Detection;

namespace FaceStream.Worker.Configuration;

/// <summary>Config section "Detector": how each analysed frame is searched (<see cref="Mode"/>) and the cascade's settings.</summary>
public sealed class DetectorOptions
{
    public const string Section = "Detector";

    /// <summary>Every analysed frame gets a whole-frame MTCNN pass.</summary>
    public const string FullMode = "full";

    /// <summary>Motion regions and live tracks' windows, with a periodic full pass per camera (docs/adaptive-detection.md).</summary>
    public const string AdaptiveMode = "adaptive";

    /// <summary>
    /// <c>full</c> or <c>adaptive</c>. Adaptive by default since it analysed more frames at lower latency than full in
    /// each of four paired idle sessions of eight mixed cameras, every track of the full pass found (docs/adaptive-detection.md).
    /// </summary>
    public string Mode { get; set; } = AdaptiveMode;

    /// <summary>Settings of <c>adaptive</c> mode (ignored in <c>full</c> mode).</summary>
    public AdaptiveDetectionOptions Adaptive { get; set; } = new();

    /// <summary>Section "Detector:Mtcnn".</summary>
    public MtcnnOptions Mtcnn { get; } = new();

    public bool IsAdaptive => string.Equals(Mode, AdaptiveMode, StringComparison.OrdinalIgnoreCase);

    public IEnumerable<string> Validate()
    {
        if (!string.Equals(Mode, FullMode, StringComparison.OrdinalIgnoreCase) && !IsAdaptive)
        {
            yield return $"{Section}:Mode = '{Mode}' is not a detection mode (allowed: {FullMode}, {AdaptiveMode})";
        }

        foreach (var problem in Adaptive.Validate().Concat(Mtcnn.Validate()))
        {
            yield return problem;
        }
    }
}

/// <summary>
/// Config section "Detector:Adaptive": the knobs of scene-adaptive detection an operator may need to turn. Finer ones
/// keep the defaults of <see cref="MotionOptions"/> and <see cref="ScanOptions"/>.
/// </summary>
public sealed class AdaptiveDetectionOptions
{
    public const string Section = "Detector:Adaptive";

    /// <summary>A whole-frame pass at least this often per camera (staggered between cameras), to find faces that appear without moving.</summary>
    public TimeSpan FullScanInterval { get; set; } = new ScanOptions().FullScanInterval;

    /// <summary>Grey-level change of a motion cell (after removing the frame's global brightness shift) that counts as motion, 1–255.</summary>
    public int MotionThreshold { get; set; } = new MotionOptions().Threshold;

    /// <summary>Smallest moving blob kept, in cells of a grid 160 cells across (6 cells ≈ a 30 × 30 px patch of a 1080p frame).</summary>
    public int MinMotionCells { get; set; } = new MotionOptions().MinCells;

    /// <summary>Share of the frame that may move before a whole-frame pass is cheaper and safer (shake, a pan, a lighting switch).</summary>
    [Range(0.01, 1.0)]
    public float MaxMovingShare { get; set; } = new MotionOptions().MaxMovingShare;

    /// <summary>Margin around a live track's predicted face, in face sizes per side (1 = a window three faces wide).</summary>
    [Range(0.0, 5.0)]
    public float TrackPadding { get; set; } = new ScanOptions().TrackPadding;

    /// <summary>Margin around a motion region, as a share of its larger side.</summary>
    [Range(0.0, 2.0)]
    public float MotionPadding { get; set; } = new ScanOptions().MotionPadding;

    /// <summary>More than <see cref="MaxMovingShare"/> moving is a crowd, not the camera, when at least this share of the frame's tiles stays still (1 = never).</summary>
    [Range(0.0, 1.0)]
    public float CrowdStillTiles { get; set; } = new MotionOptions().CrowdStillTiles;

    /// <summary>Windows estimated to cost more than this share of a whole-frame pass become one (P-Net's first-level pixels).</summary>
    [Range(0.05, 2.0)]
    public float MaxWindowShare { get; set; } = new ScanOptions().MaxWindowShare;

    /// <summary>Horizontal bands remembering where and how large the camera's faces were lately; motion is searched only there (0 = off).</summary>
    [Range(0, 64)]
    public int FaceRowBands { get; set; } = new ScanOptions().FaceRowBands;

    /// <summary>A cell moves only when it leaves the background's range within this many cells (a shaken camera's edges stay still); 0 = its own cell only.</summary>
    [Range(0, 3)]
    public int JitterCells { get; set; } = new MotionOptions().JitterCells;

    public MotionOptions ToMotion() => new()
    {
        Threshold = MotionThreshold, MinCells = MinMotionCells, MaxMovingShare = MaxMovingShare, CrowdStillTiles = CrowdStillTiles, JitterCells = JitterCells,
    };

    public ScanOptions ToScan() => new()
    {
        FullScanInterval = FullScanInterval, TrackPadding = TrackPadding, MotionPadding = MotionPadding, MaxWindowShare = MaxWindowShare, FaceRowBands = FaceRowBands,
    };

    public IEnumerable<string> Validate()
    {
        if (FullScanInterval < TimeSpan.FromMilliseconds(100) || FullScanInterval > TimeSpan.FromMinutes(1))
        {
            yield return $"{Section}:FullScanInterval = {FullScanInterval} must be between 00:00:00.1 and 00:01:00";
        }

        if (MotionThreshold is < 1 or > 255)
        {
            yield return $"{Section}:MotionThreshold = {MotionThreshold} must be between 1 and 255 grey levels";
        }

        if (MinMotionCells is < 1 or > 10_000)
        {
            yield return $"{Section}:MinMotionCells = {MinMotionCells} must be between 1 and 10000 cells";
        }
    }
}
