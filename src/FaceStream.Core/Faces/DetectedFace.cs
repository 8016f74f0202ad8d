using FaceStream.Core.Geometry;

namespace FaceStream.Core.Faces;

/// <summary>One face found by a detector: box, confidence and five landmarks.</summary>
public sealed record DetectedFace(BoxF Box, float Score, Landmarks5 Landmarks)
{
    /// <summary>Face size used by size gates: the box's larger side in pixels.</summary>
    public float Size => Math.Max(Box.Width, Box.Height);

    /// <summary>The same face with box and landmarks moved by (dx, dy), e.g. from a padded copy's coordinates back to the image's.</summary>
    public DetectedFace Shifted(float dx, float dy) => new(
        new BoxF(Box.X1 + dx, Box.Y1 + dy, Box.X2 + dx, Box.Y2 + dy),
        Score,
        Landmarks5.FromPoints(Landmarks.Points.Select(p => new PointF(p.X + dx, p.Y + dy)).ToList()));

    /// <summary>The same face in an image scaled by <paramref name="scale"/> (box and landmarks).</summary>
    public DetectedFace Scaled(float scale) => new(
        new BoxF(Box.X1 * scale, Box.Y1 * scale, Box.X2 * scale, Box.Y2 * scale),
        Score,
        Landmarks5.FromPoints(Landmarks.Points.Select(p => new PointF(p.X * scale, p.Y * scale)).ToList()));
}
