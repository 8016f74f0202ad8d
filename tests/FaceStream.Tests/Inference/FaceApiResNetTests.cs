using FaceStream.Core.Geometry;
using FaceStream.Media.Images;
using FaceStream.Tests.Support;
using FaceStream.Tools.Conversion;
using Microsoft.ML.OnnxRuntime;
using Xunit;

namespace FaceStream.Tests.Inference;

/// <summary>face-api.js's 128-d ResNet, built in our code from its uint8 weights: the graph computes face-api.js's
/// network, and on real faces it tells people apart.</summary>
public class FaceApiResNetTests
{
    private const string ModelId = "faceapi-resnet-128";

    /// <summary>The weights manifest and its shard, read from the pinned package as the installer reads them.</summary>
    private static (byte[] Manifest, byte[] Bin) PackageFiles()
    {
        var entry = TestAssets.Store.Manifest.Get(ModelId);
        var files = TestAssets.PackageFiles(entry);
        return (files[entry.File], files[entry.Weights!.Single().File]);
    }

    [Fact]
    public void The_installed_graph_matches_a_naive_transcription_of_face_api_code_on_its_own_weights()
    {
        var (manifest, bin) = PackageFiles();
        var weights = TfjsGraphModel.ParseWeightsManifest(manifest, _ => bin);
        Assert.Equal(117, weights.Count);
        // uint8 dequantisation by hand: the first stored byte is conv32_down's first filter value, min + scale·q.
        var first = weights["conv32_down/conv/filters"];
        Assert.Equal(-0.07101876902229645 + (0.0005260649557207145 * bin[0]), first.Values[0], 6);

        var rng = new Random(11);
        var hwc = Enumerable.Range(0, 150 * 150 * 3).Select(_ => (float)((rng.NextDouble() * 2) - 1) * 0.5f).ToArray();
        var expected = FaceApiResNetReference.Run(weights, hwc);

        var nchw = new float[hwc.Length];
        for (int p = 0; p < 150 * 150; p++)
        {
            for (int c = 0; c < 3; c++)
            {
                nchw[(c * 150 * 150) + p] = hwc[(p * 3) + c];
            }
        }

        var entry = TestAssets.Store.Manifest.Get(ModelId);
        using var session = new InferenceSession(TestAssets.Store.Resolve(ModelId));
        using var input = OrtValue.CreateTensorValueFromMemory(nchw, [1, 3, 150, 150]);
        using var output = session.Run(new RunOptions(), [entry.Input.Name], [input], [entry.Output("embedding")]);
        var actual = output[0].GetTensorDataAsSpan<float>().ToArray();
        Assert.Equal(128, actual.Length);
        float scale = expected.Max(MathF.Abs);
        Assert.True(scale > 1e-3, "the reference descriptor is all zeros: the test would prove nothing");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Max(1, scale), $"descriptor[{i}]: reference {expected[i]}, ONNX {actual[i]}");
        }
    }

    [Fact]
    public void A_missing_weight_is_refused_by_name()
    {
        var (manifest, bin) = PackageFiles();
        var weights = TfjsGraphModel.ParseWeightsManifest(manifest, _ => bin).Where(kv => kv.Key != "conv128_1/conv2/scale/weights").ToDictionary();
        var e = Assert.Throws<InvalidDataException>(() => FaceApiResNetConverter.Convert(weights, "input", "descriptor"));
        Assert.Contains("conv128_1/conv2/scale/weights", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_woman_in_two_group_photos_is_her_own_nearest_face()
    {
        // sample1 and sample3 show one group of friends; the blonde woman (right in sample1, middle in sample3) is
        // labelled by eye in EmbeddingIdentityTests. Her face in sample1 must be nearer to her face in sample3 than
        // to anyone else's there, and nearer than any two different people in sample1 are to each other.
        using var engine = TestAssets.Engine(ModelId);
        var one = engine.DetectAndEmbed(StillImageDecoder.DecodeFile(TestAssets.Sample(1)));
        var three = engine.DetectAndEmbed(StillImageDecoder.DecodeFile(TestAssets.Sample(3)));
        var her = one.Single(f => f.Face.Box.Contains(new PointF(1581, 322)));
        var herAgain = three.Single(f => f.Face.Box.Contains(new PointF(1171, 354)));
        float same = her.Embedding.Similarity(herAgain.Embedding);
        foreach (var other in three.Where(f => f != herAgain))
        {
            float s = her.Embedding.Similarity(other.Embedding);
            Assert.True(s < same, $"another face in sample3 at {other.Face.Box.Center} scored {s:F3} ≥ her own {same:F3}");
        }

        foreach (var other in one.Where(f => f != her))
        {
            float s = her.Embedding.Similarity(other.Embedding);
            Assert.True(s < same, $"another face in sample1 at {other.Face.Box.Center} scored {s:F3} ≥ her own {same:F3}");
        }
    }
}
