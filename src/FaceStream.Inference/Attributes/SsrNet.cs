using FaceStream.Core.Attributes;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;

namespace FaceStream.Inference.Attributes;

/// <summary>
/// SSR-Net (Yang et al., IJCAI 2018): three stages of 3 bins each, with per-stage scale shifts (Δk) and per-bin index
/// offsets, merged into one regression value. The faceplugin age and gender graphs share the network and its
/// 64×64 input: the face box ×1.4, ImageNet normalisation.
/// </summary>
internal static class SsrNet
{
    public const float BoxGrowth = 1.4f;

    private static readonly string[] Roles = ["stage1", "stage2", "stage3", "delta1", "delta2", "delta3", "offset1", "offset2", "offset3"];

    /// <summary>The merged stage-wise regression for each face: Σ_k Σ_i (i + offset_k,i)·p_k,i / Π_{j≤k} (3·(1 + Δ_j)), times <paramref name="range"/>.</summary>
    public static float[] Regress(AttributeNetwork net, IReadOnlyList<(ImageFrame Image, DetectedFace Face)> faces, float range)
    {
        var outs = net.Run(faces.Count, (i, chip) => net.Fill(faces[i].Image, net.AroundBox(faces[i].Face.Box, BoxGrowth), chip), Roles);
        var result = new float[faces.Count];
        for (int f = 0; f < faces.Count; f++)
        {
            double value = 0, denominator = 1;
            for (int stage = 0; stage < 3; stage++)
            {
                float[] p = outs[stage][f], delta = outs[3 + stage][f], offset = outs[6 + stage][f];
                int bins = p.Length;
                denominator *= bins * (1 + delta[0]);
                double sum = 0;
                for (int i = 0; i < bins; i++)
                {
                    sum += (i + offset[i]) * p[i];
                }

                value += sum / denominator;
            }

            result[f] = (float)(value * range);
        }

        return result;
    }
}

/// <summary>Age from faceplugin's SSR-Net graph (fr_age.onnx): the stage-wise regression scaled to 0–101 years.</summary>
/// <param name="colorOrder">Overrides the manifest's colour order (RGB or BGR), for measurements.</param>
public sealed class SsrNetAgeEstimator(ModelStore store, OnnxSessionFactory factory, string modelId = SsrNetAgeEstimator.DefaultModel, string? colorOrder = null) : IAgeEstimator
{
    public const string DefaultModel = "ssrnet-age";

    /// <summary>SSR-Net's age range V.</summary>
    private const float Years = 101;

    private readonly AttributeNetwork _net = new(store, factory, modelId, "age", colorOrder);

    public string ModelId => _net.Model.Id;

    public IReadOnlyList<AgeEstimate> Estimate(IReadOnlyList<(ImageFrame Image, DetectedFace Face)> faces) =>
        SsrNet.Regress(_net, faces, Years).Select(v => new AgeEstimate(v)).ToList();

    public void Dispose() => _net.Dispose();
}

/// <summary>Gender from faceplugin's SSR-Net graph (fr_gender.onnx): a regression towards 0 (female) or 1 (male).</summary>
/// <param name="colorOrder">Overrides the manifest's colour order (RGB or BGR), for measurements.</param>
public sealed class SsrNetGenderClassifier(ModelStore store, OnnxSessionFactory factory, string modelId = SsrNetGenderClassifier.DefaultModel, string? colorOrder = null) : IGenderClassifier
{
    public const string DefaultModel = "ssrnet-gender";

    /// <summary>Male above this score (the measured best split on the dev set equals the symmetric one; docs/attributes.md).</summary>
    public const float MaleAbove = 0.5f;

    private readonly AttributeNetwork _net = new(store, factory, modelId, "gender", colorOrder);

    public string ModelId => _net.Model.Id;

    public IReadOnlyList<GenderEstimate> Estimate(IReadOnlyList<(ImageFrame Image, DetectedFace Face)> faces) =>
        SsrNet.Regress(_net, faces, 1).Select(v => GenderOf(Math.Clamp(v, 0, 1))).ToList();

    internal static GenderEstimate GenderOf(float male) =>
        male > MaleAbove ? new GenderEstimate(Gender.Male, male, male) : new GenderEstimate(Gender.Female, 1 - male, male);

    public void Dispose() => _net.Dispose();
}
