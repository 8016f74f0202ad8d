using FaceStream.Core.Alignment;
using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;

namespace FaceStream.Inference.Alignment;

/// <summary>5-point similarity alignment to a model's template (the 112×112 ArcFace template, or dlib's mean face on a 150 px chip for face-api.js's ResNet).</summary>
public sealed class FaceAligner
{
    private readonly PointF[] _template;

    public FaceAligner(IReadOnlyList<float> template)
    {
        if (template.Count != 10)
        {
            throw new ArgumentException("an alignment template has 5 (x, y) points");
        }

        _template = Enumerable.Range(0, 5).Select(i => new PointF(template[2 * i], template[(2 * i) + 1])).ToArray();
    }

    /// <summary>Transform from image coordinates into the chip.</summary>
    public SimilarityTransform Estimate(Landmarks5 landmarks)
    {
        Span<PointF> src = stackalloc PointF[5];
        for (int i = 0; i < 5; i++)
        {
            src[i] = landmarks[i];
        }

        return SimilarityTransform.Estimate(src, _template);
    }
}
