using FaceStream.Core.Attributes;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;

namespace FaceStream.Inference.Attributes;

/// <summary>
/// Eye state from faceplugin's fr_eye.onnx: one 24×24 grey crop per eye (v/255), two logits (closed, open). The
/// vendor crops 1.6 × the eye's corner-to-corner width from 68 landmarks; with five landmarks the eye width is taken
/// as <see cref="AttributeNetwork.EyeWidthPerEyeDistance"/> of the distance between the eye centres, and the crop is turned so the eye
/// line is level.
/// </summary>
public sealed class FacepluginEyeStateClassifier(ModelStore store, OnnxSessionFactory factory, string modelId = FacepluginEyeStateClassifier.DefaultModel) : IEyeStateClassifier
{
    public const string DefaultModel = "faceplugin-eye-state";

    private const float CropPerEyeWidth = 1.6f;

    private readonly AttributeNetwork _net = new(store, factory, modelId, "eye-state");

    public string ModelId => _net.Model.Id;

    public IReadOnlyList<EyeStateEstimate> Estimate(IReadOnlyList<(ImageFrame Image, DetectedFace Face)> faces) =>
        _net.RunEyes(faces, CropPerEyeWidth, mirrorRight: false, "state").Select(eyes =>
        {
            float left = AttributeNetwork.Softmax(eyes.Left)[0], right = AttributeNetwork.Softmax(eyes.Right)[0];
            return new EyeStateEstimate((left + right) / 2 > 0.5f ? EyeState.Closed : EyeState.Open, left, right);
        }).ToList();

    public void Dispose() => _net.Dispose();
}
