using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;

namespace FaceStream.Core.Detection.Adaptive;

/// <summary>
/// Scene-adaptive detection state of one camera: its motion mask and its scan planner. Owned by the detect stage,
/// one per camera, called once per analysed frame in time order.
/// </summary>
public sealed class CameraScan(MotionOptions motion, ScanOptions scan, float minFaceSize, double phase = 0)
{
    private readonly MotionDetector _motion = new(motion);
    private readonly ScanPlanner _planner = new(scan, minFaceSize, phase);

    /// <summary>The last frame's motion (for the debug overlay).</summary>
    public MotionResult LastMotion { get; private set; } = MotionResult.Still;

    /// <summary>After a reconnect, a resolution change or a scene cut: the next frame is scanned whole and primes a new background.</summary>
    public void Restart()
    {
        _motion.Reset();
        _planner.ForceFull();
    }

    /// <param name="predictedFaces">Where each live track's face should be in this frame.</param>
    public ScanPlan Plan(ImageFrame frame, DateTimeOffset at, IReadOnlyList<BoxF> predictedFaces)
    {
        LastMotion = _motion.Update(frame);
        return _planner.Plan(at, frame.Width, frame.Height, LastMotion, predictedFaces);
    }
}
