using FaceStream.Core.Geometry;

namespace FaceStream.Core.Faces;

/// <summary>The five MTCNN landmarks in image coordinates, in the subject's anatomical naming.</summary>
/// <remarks>Order is fixed: left eye, right eye, nose, left mouth corner, right mouth corner (as seen in the image:
/// "left" is the one with the smaller x for an upright frontal face).</remarks>
public sealed record Landmarks5(PointF LeftEye, PointF RightEye, PointF Nose, PointF MouthLeft, PointF MouthRight)
{
    public PointF this[int i] => i switch
    {
        0 => LeftEye,
        1 => RightEye,
        2 => Nose,
        3 => MouthLeft,
        4 => MouthRight,
        _ => throw new ArgumentOutOfRangeException(nameof(i)),
    };

    public IEnumerable<PointF> Points => [LeftEye, RightEye, Nose, MouthLeft, MouthRight];

    public static Landmarks5 FromPoints(IReadOnlyList<PointF> p) => new(p[0], p[1], p[2], p[3], p[4]);
}
