using FaceStream.Core.Attributes;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;

namespace FaceStream.Inference.Attributes;

/// <summary>
/// Head pose from Hopenet-lite (faceplugin's fr_pose.onnx, after Ruiz et al. 2018): yaw, pitch and roll each as 66
/// bins of 3° from −99°; the angle is the softmax expectation Σ pᵢ·3i − 99. Input: the face box grown by a quarter
/// on each side, 224×224 RGB, ImageNet normalisation. The crop is turned so the eyes are level (the network then
/// sees an upright head, as in its training data) and the turn is added back to the roll: the network alone
/// followed a 20° turn of the photo with 14° (docs/attributes.md).
/// </summary>
/// <param name="colorOrder">Overrides the manifest's colour order (RGB or BGR), for measurements.</param>
/// <param name="crop">Which crop the network sees: <see cref="VendorCrop"/> (faceplugin's demo) or <see cref="HopenetCrop"/> (Hopenet's own test code).</param>
public sealed class HopenetPoseEstimator(ModelStore store, OnnxSessionFactory factory, string modelId = HopenetPoseEstimator.DefaultModel, string crop = HopenetPoseEstimator.VendorCrop, string? colorOrder = null) : IHeadPoseEstimator
{
    public const string DefaultModel = "hopenet-lite-pose";

    /// <summary>The box grown by a quarter on each side, centred (faceplugin's fr_pose.js).</summary>
    public const string VendorCrop = "vendor";

    /// <summary>The box doubled, its centre a quarter of the box height higher (Hopenet's test_on_video: ¾ added above, ¼ below).</summary>
    public const string HopenetCrop = "hopenet";

    private readonly float _growth = crop == HopenetCrop ? 2f : 1.5f;
    private readonly float _up = crop == HopenetCrop ? 0.25f : 0f;
    private const float BinDegrees = 3f;
    private const float FirstBin = -99f;

    private readonly AttributeNetwork _net = new(store, factory, modelId, "head-pose", colorOrder);

    public string ModelId => _net.Model.Id;

    public IReadOnlyList<HeadPose> Estimate(IReadOnlyList<(ImageFrame Image, DetectedFace Face)> faces)
    {
        var outs = _net.Run(faces.Count, (i, chip) => _net.Fill(faces[i].Image, _net.Levelled(Shifted(faces[i].Face.Box), faces[i].Face.Landmarks, _growth), chip), "yaw", "pitch", "roll");
        return Enumerable.Range(0, faces.Count)
            .Select(i => new HeadPose(Angle(outs[0][i]), Angle(outs[1][i]), Angle(outs[2][i]) + EyeLineDegrees(faces[i].Face.Landmarks))).ToList();
    }

    private Core.Geometry.BoxF Shifted(Core.Geometry.BoxF b) => b with { Y1 = b.Y1 - (_up * b.Height), Y2 = b.Y2 - (_up * b.Height) };

    /// <summary>The eye line's angle in degrees, positive when the face is turned clockwise on screen (y down).</summary>
    private static float EyeLineDegrees(Landmarks5 l) =>
        MathF.Atan2(l.RightEye.Y - l.LeftEye.Y, l.RightEye.X - l.LeftEye.X) * 180f / MathF.PI;

    private static float Angle(float[] logits)
    {
        var p = AttributeNetwork.Softmax(logits);
        float expectation = 0;
        for (int i = 0; i < p.Length; i++)
        {
            expectation += p[i] * i;
        }

        return (expectation * BinDegrees) + FirstBin;
    }

    public void Dispose() => _net.Dispose();
}
