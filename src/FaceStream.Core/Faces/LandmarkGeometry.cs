using FaceStream.Core.Geometry;

namespace FaceStream.Core.Faces;

/// <summary>What is wrong with a detection's five landmarks, if anything.</summary>
public enum GeometryFault
{
    None,

    /// <summary>The "left" eye is not on the left: the eye line is turned more than 90° (or the eyes coincide).</summary>
    EyesSwapped,

    /// <summary>The eye distance is not a plausible share of the box width.</summary>
    EyeDistance,

    /// <summary>The nose is not below the eyes.</summary>
    NoseAboveEyes,

    /// <summary>A mouth corner is not below the nose.</summary>
    MouthAboveNose,

    /// <summary>A landmark lies outside the (slightly grown) box.</summary>
    OutsideBox,
}

/// <summary>
/// Whether five landmarks could belong to a real face: a cheap sanity check that rejects detections of hair, fabric
/// or patterns (MTCNN can score those ≥ 0.95) before they are enrolled or matched.
/// </summary>
/// <remarks>
/// "Below" is measured along the face's own vertical (perpendicular to the eye line), not the image's, so a head
/// tilted sideways is not rejected. The limits were measured on real detections (docs/benchmarks.md, "Enrollment on
/// real photos"): every face of the dev set and of the sample photos passes them.
/// </remarks>
public static class LandmarkGeometry
{
    /// <summary>Smallest eye distance as a share of the box width (a full profile has both eyes close together).</summary>
    public const float MinEyeDistance = 0.15f;

    /// <summary>Largest eye distance as a share of the box width (frontal faces measure about 0.4).</summary>
    public const float MaxEyeDistance = 0.7f;

    /// <summary>How far (share of the box side) a landmark may lie outside the box: MTCNN boxes are tight on chins and profiles.</summary>
    public const float BoxTolerance = 0.1f;

    public static bool IsPlausible(DetectedFace face) => Check(face.Box, face.Landmarks) == GeometryFault.None;

    public static GeometryFault Check(DetectedFace face) => Check(face.Box, face.Landmarks);

    public static GeometryFault Check(BoxF box, Landmarks5 l)
    {
        float ex = l.RightEye.X - l.LeftEye.X, ey = l.RightEye.Y - l.LeftEye.Y;
        float eyeDistance = MathF.Sqrt((ex * ex) + (ey * ey));
        if (ex <= 0 || eyeDistance < 1e-3f)
        {
            return GeometryFault.EyesSwapped;
        }

        float share = eyeDistance / MathF.Max(1e-3f, box.Width);
        if (share is < MinEyeDistance or > MaxEyeDistance)
        {
            return GeometryFault.EyeDistance;
        }

        // Unit vector pointing down the face: the eye line turned by +90° (image y grows downwards).
        float dx = -ey / eyeDistance, dy = ex / eyeDistance;
        float eyeMidDown = Down(new PointF((l.LeftEye.X + l.RightEye.X) / 2, (l.LeftEye.Y + l.RightEye.Y) / 2), dx, dy);
        float noseDown = Down(l.Nose, dx, dy);
        if (noseDown <= eyeMidDown)
        {
            return GeometryFault.NoseAboveEyes;
        }

        if (Down(l.MouthLeft, dx, dy) <= noseDown || Down(l.MouthRight, dx, dy) <= noseDown)
        {
            return GeometryFault.MouthAboveNose;
        }

        float gx = BoxTolerance * box.Width, gy = BoxTolerance * box.Height;
        var grown = new BoxF(box.X1 - gx, box.Y1 - gy, box.X2 + gx, box.Y2 + gy);
        for (int i = 0; i < 5; i++)
        {
            if (!grown.Contains(l[i]))
            {
                return GeometryFault.OutsideBox;
            }
        }

        return GeometryFault.None;
    }

    private static float Down(PointF p, float dx, float dy) => (p.X * dx) + (p.Y * dy);
}
