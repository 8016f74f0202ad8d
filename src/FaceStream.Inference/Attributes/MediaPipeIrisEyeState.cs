using FaceStream.Core.Attributes;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;

namespace FaceStream.Inference.Attributes;

/// <summary>
/// Eye state from MediaPipe's iris landmark model (human-models' iris.json, imported from TF.js): per eye, a 64×64
/// RGB crop (v/255) of side 2.3 × the eye's corner-to-corner width (MediaPipe's and @vladmandic/human's ROI),
/// centred on MTCNN's eye point and turned so the eye line is level; the model gives 71 eye-contour and eyebrow
/// points then 5 iris points (x, y, z in crop pixels). It was trained on the eye on the image's left, so the
/// other eye's crop is mirrored (as human's iris.ts does).
/// </summary>
/// <remarks>
/// Openness = the eyelid gap over the eye width: contour points 0 and 8 are the corners, 1–7 the lower lid and 9–15
/// the upper lid, both from the outer to the inner corner (MediaPipe's EyeLower0/EyeUpper0, mesh 33…133 and
/// 246…173), so point 1+k faces 9+k; the gap is the mean distance of the three middle pairs (k = 2, 3, 4). A face
/// reads "closed" only when both eyes are under <see cref="ClosedBelow"/> (chosen on labelled faces,
/// docs/attributes.md).
/// </remarks>
public sealed class MediaPipeIrisEyeState(ModelStore store, OnnxSessionFactory factory, string modelId = MediaPipeIrisEyeState.DefaultModel, float closedBelow = MediaPipeIrisEyeState.ClosedBelow) : IEyeStateClassifier
{
    public const string DefaultModel = "mediapipe-iris";

    /// <summary>Openness under which an eye reads closed (docs/attributes.md, "Eyes").</summary>
    public const float ClosedBelow = 0.12f;

    private const float CropPerEyeWidth = 2.3f;

    private const int ContourPoints = 71;

    private readonly AttributeNetwork _net = new(store, factory, modelId, "eye-landmarks");

    public string ModelId => _net.Model.Id;

    public IReadOnlyList<EyeStateEstimate> Estimate(IReadOnlyList<(ImageFrame Image, DetectedFace Face)> faces) =>
        _net.RunEyes(faces, CropPerEyeWidth, mirrorRight: true, "landmarks").Select(eyes =>
        {
            float left = Openness(eyes.Left), right = Openness(eyes.Right);
            bool leftClosed = left < closedBelow, rightClosed = right < closedBelow;
            return new EyeStateEstimate(leftClosed && rightClosed ? EyeState.Closed : EyeState.Open, leftClosed ? 1 : 0, rightClosed ? 1 : 0, left, right);
        }).ToList();

    /// <summary>Eyelid gap over eye width from one eye's 76 (x, y, z) points.</summary>
    public static float Openness(ReadOnlySpan<float> points)
    {
        if (points.Length < ContourPoints * 3)
        {
            throw new ArgumentException($"expected at least {ContourPoints} points, got {points.Length / 3}");
        }

        float gap = 0;
        for (int k = 2; k <= 4; k++)
        {
            gap += Distance(points, 1 + k, 9 + k);
        }

        return gap / 3 / MathF.Max(1e-3f, Distance(points, 0, 8));
    }

    private static float Distance(ReadOnlySpan<float> points, int i, int j)
    {
        float dx = points[3 * i] - points[3 * j], dy = points[(3 * i) + 1] - points[(3 * j) + 1];
        return MathF.Sqrt((dx * dx) + (dy * dy));
    }

    public void Dispose() => _net.Dispose();
}
