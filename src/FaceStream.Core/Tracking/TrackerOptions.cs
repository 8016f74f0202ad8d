namespace FaceStream.Core.Tracking;

/// <summary>Config section "Tracking": how detections are linked into tracks (SORT-like: IoU on motion-predicted boxes).</summary>
public sealed class TrackerOptions
{
    public const string Section = "Tracking";

    /// <summary>Smallest IoU between a track's predicted box and a detection for them to be the same face.</summary>
    public float IouThreshold { get; set; } = 0.3f;

    /// <summary>Analysed frames a track may go unseen before it ends (at 5 fps, 5 = one second).</summary>
    public int MaxMissedFrames { get; set; } = 5;

    /// <summary>Weight of the newest motion estimate in the smoothed velocity (0 = no motion model, 1 = last step only).</summary>
    public float VelocitySmoothing { get; set; } = 0.5f;

    public IEnumerable<string> Validate()
    {
        if (IouThreshold is <= 0 or >= 1)
        {
            yield return $"{Section}:IouThreshold = {IouThreshold} must be in (0, 1)";
        }

        if (MaxMissedFrames is < 0 or > 1000)
        {
            yield return $"{Section}:MaxMissedFrames = {MaxMissedFrames} must be between 0 and 1000";
        }

        if (VelocitySmoothing is < 0 or > 1)
        {
            yield return $"{Section}:VelocitySmoothing = {VelocitySmoothing} must be in [0, 1]";
        }
    }
}
