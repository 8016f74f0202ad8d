using FaceStream.Core.Attributes;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;

namespace FaceStream.Inference.Attributes;

/// <summary>
/// Gender and age from human-models' faceres (HSE-asavchenko's multi-task MobileNet, converted from TF.js): the face
/// box squared (1.0×) with the eyes levelled, 224×224 0–255 (no normalisation inside) in BGR order, which read one
/// to two more faces right than RGB on the dev set (docs/attributes.md); gender_pred is a sigmoid
/// (&gt; 0.5 = male), age_pred a softmax over 0–99 years whose expectation is the age.
/// </summary>
/// <param name="colorOrder">Overrides the manifest's colour order (RGB or BGR), for measurements.</param>
public sealed class FaceresGenderAgeModel(ModelStore store, OnnxSessionFactory factory, string modelId = FaceresGenderAgeModel.DefaultModel, string? colorOrder = null) : IGenderClassifier, IAgeEstimator
{
    public const string DefaultModel = "faceres-gender-age";

    private const float BoxGrowth = 1.0f;

    private readonly AttributeNetwork _net = new(store, factory, modelId, "gender-age", colorOrder);

    public string ModelId => _net.Model.Id;

    private float[][][] Run(IReadOnlyList<(ImageFrame Image, DetectedFace Face)> faces) =>
        _net.Run(faces.Count, (i, chip) => _net.Fill(faces[i].Image, _net.Levelled(faces[i].Face.Box, faces[i].Face.Landmarks, BoxGrowth), chip), "gender", "age");

    IReadOnlyList<GenderEstimate> IFaceAttributeModel<GenderEstimate>.Estimate(IReadOnlyList<(ImageFrame Image, DetectedFace Face)> faces) =>
        Run(faces)[0].Select(g => SsrNetGenderClassifier.GenderOf(g[0])).ToList();

    IReadOnlyList<AgeEstimate> IFaceAttributeModel<AgeEstimate>.Estimate(IReadOnlyList<(ImageFrame Image, DetectedFace Face)> faces) =>
        Run(faces)[1].Select(p => new AgeEstimate(Expectation(p))).ToList();

    /// <summary>Both at once (one network run per face).</summary>
    public IReadOnlyList<(GenderEstimate Gender, AgeEstimate Age)> EstimateBoth(IReadOnlyList<(ImageFrame Image, DetectedFace Face)> faces)
    {
        var outs = Run(faces);
        return Enumerable.Range(0, faces.Count).Select(i => (SsrNetGenderClassifier.GenderOf(outs[0][i][0]), new AgeEstimate(Expectation(outs[1][i])))).ToList();
    }

    private static float Expectation(float[] p)
    {
        float e = 0;
        for (int i = 0; i < p.Length; i++)
        {
            e += p[i] * i;
        }

        return e;
    }

    public void Dispose() => _net.Dispose();
}
