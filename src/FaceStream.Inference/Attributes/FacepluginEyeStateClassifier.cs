using FaceStream.Core.Alignment;
using FaceStream.Core.Attributes;
using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;

namespace FaceStream.Inference.Attributes;

/// <summary>
/// Eye state from faceplugin's fr_eye.onnx: one 24×24 grey crop per eye (v/255), two logits (closed, open). The
/// vendor crops 1.6 × the eye's corner-to-corner width from 68 landmarks; with five landmarks the eye width is taken
/// as <see cref="EyeWidthPerEyeDistance"/> of the distance between the eye centres, and the crop is turned so the eye
/// line is level.
/// </summary>
public sealed class FacepluginEyeStateClassifier(ModelStore store, OnnxSessionFactory factory, string modelId = FacepluginEyeStateClassifier.DefaultModel) : IEyeStateClassifier
{
    public const string DefaultModel = "faceplugin-eye-state";

    /// <summary>Eye fissure width ≈ 30 mm against an inter-pupil distance ≈ 63 mm (adult anthropometry).</summary>
    private const float EyeWidthPerEyeDistance = 0.47f;

    private const float CropPerEyeWidth = 1.6f;

    private readonly AttributeNetwork _net = new(store, factory, modelId, "eye-state");

    public string ModelId => _net.Model.Id;

    public IReadOnlyList<EyeStateEstimate> Estimate(IReadOnlyList<(ImageFrame Image, DetectedFace Face)> faces)
    {
        // Chips 2i and 2i+1: the left and the right eye of face i.
        var outs = _net.Run(2 * faces.Count, (i, chip) =>
        {
            var (image, face) = faces[i / 2];
            _net.Fill(image, EyeCrop(face.Landmarks, left: i % 2 == 0), chip);
        }, "state");
        return Enumerable.Range(0, faces.Count).Select(i =>
        {
            float left = AttributeNetwork.Softmax(outs[0][2 * i])[0], right = AttributeNetwork.Softmax(outs[0][(2 * i) + 1])[0];
            return new EyeStateEstimate((left + right) / 2 > 0.5f ? EyeState.Closed : EyeState.Open, left, right);
        }).ToList();
    }

    private SimilarityTransform EyeCrop(Landmarks5 l, bool left)
    {
        float dx = l.RightEye.X - l.LeftEye.X, dy = l.RightEye.Y - l.LeftEye.Y;
        float distance = MathF.Max(1f, MathF.Sqrt((dx * dx) + (dy * dy)));
        float side = CropPerEyeWidth * EyeWidthPerEyeDistance * distance;
        PointF c = left ? l.LeftEye : l.RightEye;
        // Scale and turn by minus the eye line's angle, centre on the eye.
        float s = _net.Size / side, a = s * dx / distance, b = -s * dy / distance;
        float half = _net.Size / 2f;
        return new SimilarityTransform(a, b, half - ((a * c.X) - (b * c.Y)), half - ((b * c.X) + (a * c.Y)));
    }

    public void Dispose() => _net.Dispose();
}
