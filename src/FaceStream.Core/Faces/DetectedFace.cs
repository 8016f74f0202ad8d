using FaceStream.Core.Geometry;

namespace FaceStream.Core.Faces;

/// <summary>One face found by a detector: box, confidence and five landmarks.</summary>
public sealed record DetectedFace(BoxF Box, float Score, Landmarks5 Landmarks)
{
    /// <summary>Face size used by size gates: the box's larger side in pixels.</summary>
    public float Size => Math.Max(Box.Width, Box.Height);
}
