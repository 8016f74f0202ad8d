using System.Security.Cryptography;
using System.Text.Json;
using Google.Protobuf;
using FaceStream.Inference;
using FaceStream.Inference.Detection;
using FaceStream.Inference.Graphs;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;
using FaceStream.Media.Images;
using FaceStream.Tests.Support;
using FaceStream.Tools.Conversion;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using Xunit;

namespace FaceStream.Tests.Inference;

/// <summary>
/// Installed models write per-channel PRelu as relu(x) + (−a)·relu(−x) (<see cref="PreluDecomposition"/>) so ONNX
/// Runtime keeps the nets in its blocked layout; the values must be the PRelu ones.
/// </summary>
public class PreluDecompositionTests
{
    private static readonly string[] PreluModels = ["mtcnn-pnet", "mtcnn-rnet", "mtcnn-onet", "mobilefacenet-192", "faceplugin-arcface-512", "mediapipe-iris", "mediapipe-facemesh"];

    private static float[] Run(byte[] model, string input, float[] data, long[] shape)
    {
        using var so = new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(model, so);
        using var value = OrtValue.CreateTensorValueFromMemory(data, shape);
        using var outs = session.Run(new RunOptions(), [input], [value], [session.OutputNames[0]]);
        return outs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>
    /// A conv with 16 outputs (so ONNX Runtime moves it into the blocked layout) followed by a PRelu whose slopes lie
    /// inside and outside [0, 1], negative, zero and one; inputs include exact zeros. The rewritten graph gives the
    /// very same floats as PRelu, and both match the definition.
    /// </summary>
    [Fact]
    public void Slopes_inside_and_outside_zero_to_one_give_PRelu_values_bit_for_bit()
    {
        const int c = 16, h = 9, w = 13;
        float[] slope = [-3f, -1f, -0.5f, 0f, 0.25f, 0.5f, 1f, 1.5f, 2.5f, 6.3f, -0.01f, 0.999f, 1.001f, 0.1f, -6f, 0.75f];
        var rng = new Random(3);
        var weights = Enumerable.Range(0, c * 3).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var g = new OnnxGraphBuilder("prelu");
        g.Input("x", TensorProto.Types.DataType.Float, "N", 3, h, w);
        string conv = g.Op("Conv", ["x", g.Constant("w", weights, c, 3, 1, 1)]);
        g.OpNamed("y", "PRelu", [conv, g.Constant("slope", slope, c, 1, 1)]);
        g.Output("y", TensorProto.Types.DataType.Float);
        byte[] prelu = g.ToBytes();

        var model = ModelProto.Parser.ParseFrom(prelu);
        Assert.Equal(1, PreluDecomposition.Rewrite(model));
        Assert.DoesNotContain("PRelu", model.Graph.Node.Select(n => n.OpType));

        var x = Enumerable.Range(0, 2 * 3 * h * w).Select(i => i % 7 == 0 ? 0f : (float)(rng.NextDouble() * 8 - 4)).ToArray();
        var expected = Run(prelu, "x", x, [2, 3, h, w]);
        var actual = Run(model.ToByteArray(), "x", x, [2, 3, h, w]);
        Assert.Equal(expected, actual);

        // And PRelu is what it says: x for x ≥ 0, a·x below (checked against the conv output recomputed here).
        for (int n = 0; n < 2; n++)
        {
            for (int o = 0; o < c; o++)
            {
                for (int p = 0; p < h * w; p++)
                {
                    float v = 0;
                    for (int i = 0; i < 3; i++)
                    {
                        v += weights[o * 3 + i] * x[(n * 3 + i) * h * w + p];
                    }

                    float want = v >= 0 ? v : slope[o] * v;
                    Assert.True(Math.Abs(want - actual[(n * c + o) * h * w + p]) <= 1e-5f * Math.Max(1f, Math.Abs(want)));
                }
            }
        }
    }

    /// <summary>A slope over a 2-D activation ([C], after a flatten) and a slope that is not a constant stay PRelu.</summary>
    [Fact]
    public void Slopes_that_are_not_per_channel_constants_over_images_are_left_alone()
    {
        var g = new OnnxGraphBuilder("prelu");
        g.Input("v", TensorProto.Types.DataType.Float, "N", 4);
        g.Input("a", TensorProto.Types.DataType.Float, 4, 1, 1);
        g.Input("x", TensorProto.Types.DataType.Float, "N", 4, 2, 2);
        g.OpNamed("y", "PRelu", [g.Op("PRelu", ["v", g.Constant("slope", [0.1f, 2f, -1f, 0.5f], 4)]), g.Constant("slope2", [0.3f, 0.3f, 0.3f, 0.3f], 4)]);
        g.OpNamed("z", "PRelu", ["x", "a"]);
        g.Output("y", TensorProto.Types.DataType.Float);
        g.Output("z", TensorProto.Types.DataType.Float);
        var model = ModelProto.Parser.ParseFrom(g.ToBytes());

        Assert.Equal(0, PreluDecomposition.Rewrite(model));
        Assert.Equal(3, model.Graph.Node.Count(n => n.OpType == "PRelu"));
    }

    [Fact]
    public void Installed_models_keep_no_per_channel_PRelu_over_images()
    {
        var store = TestAssets.Store;
        foreach (var id in PreluModels)
        {
            var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(store.Resolve(id)));
            var initializers = model.Graph.Initializer.ToDictionary(i => i.Name);
            var left = model.Graph.Node.Where(n => n.OpType == "PRelu").Select(n => initializers[n.Input[1]].Dims.Count).ToList();
            Assert.True(left.All(rank => rank == 1), $"{id} still has a PRelu over a 4-D activation");
            Assert.Contains("BatchNormalization", model.Graph.Node.Select(n => n.OpType));
        }
    }

    /// <summary>
    /// The product's engine (MTCNN over the whole pyramid of a real 1920 px photo, then the default ensemble of
    /// MobileFaceNet and ArcFace on the aligned faces) finds the same faces and the same embeddings with the installed
    /// models as with the PRelu form the converters wrote before (rebuilt here from the cached source files).
    /// </summary>
    [Fact]
    public void The_engine_finds_the_same_faces_and_embeddings_as_with_PRelu()
    {
        using var rewritten = new FaceEngine(new InferenceOptions { ModelsDirectory = TestAssets.Store.Directory }, new MtcnnOptions { MinFaceSize = 20 });
        using var prelu = new FaceEngine(new InferenceOptions { ModelsDirectory = PreluFormStore().Directory }, new MtcnnOptions { MinFaceSize = 20 });
        var image = StillImageDecoder.DecodeFile(TestAssets.Sample(1));

        var expected = prelu.DetectAndEmbed(image);
        var actual = rewritten.DetectAndEmbed(image);
        Assert.True(expected.Count >= 3, $"expected the photo's faces, found {expected.Count}");
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            var (e, a) = (expected[i].Face, actual[i].Face);
            Assert.True(Math.Abs(e.Box.X1 - a.Box.X1) < 1e-3f && Math.Abs(e.Box.Y1 - a.Box.Y1) < 1e-3f
                && Math.Abs(e.Box.X2 - a.Box.X2) < 1e-3f && Math.Abs(e.Box.Y2 - a.Box.Y2) < 1e-3f, $"face {i}: box {a.Box} vs {e.Box}");
            Assert.Equal(e.Score, a.Score, 5);
            var (ev, av) = (expected[i].Embedding.Vector, actual[i].Embedding.Vector);
            Assert.Equal(ev.Length, av.Length);
            float maxDiff = ev.Zip(av, (p, q) => Math.Abs(p - q)).Max();
            Assert.True(maxDiff < 1e-4f, $"face {i}: embedding differs by {maxDiff}");
        }
    }

    /// <summary>A models directory holding the detector and the default embedders as the converters write them, with PRelu.</summary>
    private static ModelStore PreluFormStore()
    {
        var store = TestAssets.Store;
        string dir = TestAssets.TempDirectory();
        File.Copy(Path.Combine(store.Directory, ModelManifest.FileName), Path.Combine(dir, ModelManifest.FileName));
        Directory.CreateDirectory(Path.Combine(dir, "onnx"));
        var temp = new ModelStore(dir);
        foreach (var id in new[] { "mtcnn-pnet", "mtcnn-rnet", "mtcnn-onet", "mobilefacenet-192", "faceplugin-arcface-512" })
        {
            var m = store.Manifest.Get(id);
            byte[] source = TestAssets.PackageFiles(m)[m.File];
            byte[] onnx = m.Convert == "tflite"
                ? TfliteToOnnxConverter.Convert(TfliteModel.Parse(source, m.File), new TfliteConversionOptions(m.TransposedInput, m.DynamicSpatial, m.Input.Name))
                : OnnxBatchPatcher.MakeBatchDynamic(source);
            Assert.Contains("PRelu", ModelProto.Parser.ParseFrom(onnx).Graph.Node.Select(n => n.OpType));
            File.WriteAllBytes(temp.OnnxPath(m), onnx);
            var stamp = new ModelStore.Stamp(m.Id, m.Sha256, ModelStore.ConverterVersion, Convert.ToHexStringLower(SHA256.HashData(onnx)));
            File.WriteAllBytes(temp.StampPath(m), JsonSerializer.SerializeToUtf8Bytes(stamp));
        }

        return temp;
    }
}
