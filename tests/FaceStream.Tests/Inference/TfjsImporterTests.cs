using System.Text;
using System.Text.Json;
using FaceStream.Tools.Conversion;
using FaceStream.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using Xunit;

namespace FaceStream.Tests.Inference;

/// <summary>The TF.js graph-model importer's ONNX computes what the TF.js graph computes (checked against a naive interpreter).</summary>
public class TfjsImporterTests
{
    private static float[] Random(int count, int seed, float scale = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)((rng.NextDouble() * 2) - 1) * scale).ToArray();
    }

    private static float[] NhwcToNchw(float[] nhwc, int n, int h, int w, int c)
    {
        var o = new float[nhwc.Length];
        for (int b = 0; b < n; b++)
        {
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    for (int ch = 0; ch < c; ch++)
                    {
                        o[(((((b * c) + ch) * h) + y) * w) + x] = nhwc[(((((b * h) + y) * w) + x) * c) + ch];
                    }
                }
            }
        }

        return o;
    }

    private static float[] NchwToNhwc(float[] nchw, int n, int h, int w, int c)
    {
        var o = new float[nchw.Length];
        for (int i = 0; i < nchw.Length; i++)
        {
            int x = i % w, y = i / w % h, ch = i / (w * h) % c, b = i / (w * h * c);
            o[(((((b * h) + y) * w) + x) * c) + ch] = nchw[i];
        }

        return o;
    }

    private static Dictionary<string, float[]> RunOnnx(byte[] onnx, string input, float[] nchw, long[] shape, IEnumerable<string> outputs)
    {
        using var session = new InferenceSession(onnx);
        using var value = OrtValue.CreateTensorValueFromMemory(nchw, shape);
        var names = outputs.ToArray();
        using var results = session.Run(new RunOptions(), [input], [value], names);
        return names.Select((n, i) => (n, results[i].GetTensorDataAsSpan<float>().ToArray())).ToDictionary(p => p.n, p => p.Item2);
    }

    /// <summary>A small graph with every op the importer supports, odd image sizes (TF puts SAME padding's extra pixel bottom/right) and float16 weights.</summary>
    private static (byte[] Json, byte[] Bin) SyntheticModel()
    {
        var weights = new List<(string Name, int[] Shape, string Kind, float[] Values)>
        {
            ("c1/w", [3, 3, 3, 4], "float16", Random(108, 1, 0.5f)),
            ("c1/b", [4], "float32", Random(4, 2)),
            ("six", [], "float32", [6f]),
            ("zero", [], "float32", [0f]),
            ("dw/w", [3, 3, 4, 2], "float16", Random(72, 3, 0.5f)),
            ("dw/scale", [8], "float16", Random(8, 4)),
            ("pw/w", [1, 1, 8, 5], "float32", Random(40, 5)),
            ("pw/b", [5], "float32", Random(5, 6)),
            ("axes", [2], "int32", [1, 2]),
            ("fc/w", [5, 3], "float16", Random(15, 7)),
            ("fc/b", [3], "float32", Random(3, 8)),
            ("out/w", [2, 3], "float32", Random(6, 9)),
            ("out/b", [2], "float32", Random(2, 10)),
            ("pr/alpha", [1, 1, 4], "float32", Random(4, 11)),
            ("pad/small", [4, 2], "int32", [0, 0, 1, 0, 0, 1, 0, 0]),
            ("pad/channels", [4, 2], "int32", [0, 0, 1, 0, 0, 1, 0, 2]),
            ("cat/axis", [], "int32", [-1]),
            ("side/w", [1, 1, 10, 3], "float32", Random(30, 12)),
            ("side/b", [3], "float32", Random(3, 13)),
            ("side/alpha", [1, 1, 3], "float16", Random(3, 14)),
            ("flat/shape", [2], "int32", [-1, 48]),
        };
        static object Attr(string kind, object v) => new Dictionary<string, object> { [kind] = v };
        static object Ints(params int[] v) => Attr("list", new { i = v.Select(x => x.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray() });
        static object S(string v) => Attr("s", Convert.ToBase64String(Encoding.UTF8.GetBytes(v)));
        static object Ops(params string[] v) => Attr("list", new { s = v.Select(x => Convert.ToBase64String(Encoding.UTF8.GetBytes(x))).ToArray() });
        var nodes = new List<object>
        {
            new { name = "image", op = "Placeholder", attr = new { shape = new { shape = new { dim = new[] { new { size = "-1" }, new { size = "9" }, new { size = "11" }, new { size = "3" } } } } } },
        };
        nodes.AddRange(weights.Select(w => (object)new { name = w.Name, op = "Const", attr = new { } }));
        nodes.AddRange(
        [
            new { name = "c1", op = "Conv2D", input = new[] { "image", "c1/w" }, attr = new { strides = Ints(1, 2, 2, 1), padding = S("SAME"), dilations = Ints(1, 1, 1, 1) } },
            new { name = "c1/add", op = "AddV2", input = new[] { "c1", "c1/b" }, attr = new { } },
            new { name = "c1/relu", op = "Relu", input = new[] { "c1/add" }, attr = new { } },
            new { name = "c1/min", op = "Minimum", input = new[] { "c1/relu", "six" }, attr = new { } },
            new { name = "c1/max", op = "Maximum", input = new[] { "c1/min", "zero" }, attr = new { } },
            new { name = "dw", op = "DepthwiseConv2dNative", input = new[] { "c1/max", "dw/w" }, attr = new { strides = Ints(1, 2, 2, 1), padding = S("SAME"), dilations = Ints(1, 1, 1, 1) } },
            new { name = "dw/mul", op = "Mul", input = new[] { "dw", "dw/scale" }, attr = new { } },
            new { name = "pw", op = "_FusedConv2D", input = new[] { "dw/mul", "pw/w", "pw/b" }, attr = new { strides = Ints(1, 1, 1, 1), padding = S("VALID"), dilations = Ints(1, 1, 1, 1), fused_ops = Ops("BiasAdd", "Relu6") } },
            new { name = "pool", op = "Mean", input = new[] { "pw", "axes" }, attr = new { keep_dims = Attr("b", false) } },
            new { name = "fc", op = "_FusedMatMul", input = new[] { "pool", "fc/w", "fc/b" }, attr = new { transpose_a = Attr("b", false), transpose_b = Attr("b", false), fused_ops = Ops("BiasAdd", "Relu") } },
            new { name = "logits", op = "_FusedMatMul", input = new[] { "fc", "out/w", "out/b" }, attr = new { transpose_a = Attr("b", false), transpose_b = Attr("b", true), fused_ops = Ops("BiasAdd") } },
            new { name = "probs", op = "Softmax", input = new[] { "logits" }, attr = new { } },
            new { name = "gate", op = "Sigmoid", input = new[] { "fc" }, attr = new { } },
            new { name = "pr", op = "Prelu", input = new[] { "c1/add", "pr/alpha" }, attr = new { } },
            new { name = "mp", op = "MaxPool", input = new[] { "pr" }, attr = new { ksize = Ints(1, 3, 3, 1), strides = Ints(1, 2, 2, 1), padding = S("SAME") } },
            new { name = "padded", op = "Pad", input = new[] { "mp", "pad/small" }, attr = new { } },
            new { name = "widened", op = "Pad", input = new[] { "mp", "pad/channels" }, attr = new { } },
            new { name = "cat", op = "ConcatV2", input = new[] { "padded", "widened", "cat/axis" }, attr = new { } },
            new { name = "side/conv", op = "_FusedConv2D", input = new[] { "cat", "side/w", "side/b", "side/alpha" }, attr = new { strides = Ints(1, 1, 1, 1), padding = S("VALID"), dilations = Ints(1, 1, 1, 1), fused_ops = Ops("BiasAdd", "Prelu") } },
            new { name = "side", op = "Identity", input = new[] { "side/conv" }, attr = new { } },
            new { name = "flat", op = "Reshape", input = new[] { "side/conv", "flat/shape" }, attr = new { } },
        ]);
        var manifest = weights.Select(w => w.Kind == "float16"
            ? (object)new { name = w.Name, shape = w.Shape, dtype = "float32", quantization = new { dtype = "float16", original_dtype = "float32" } }
            : new { name = w.Name, shape = w.Shape, dtype = w.Kind }).ToArray();
        using var bin = new MemoryStream();
        foreach (var w in weights)
        {
            foreach (var v in w.Values)
            {
                bin.Write(w.Kind switch
                {
                    "float16" => BitConverter.GetBytes((Half)v),
                    "int32" => BitConverter.GetBytes((int)v),
                    _ => BitConverter.GetBytes(v),
                });
            }
        }

        var json = JsonSerializer.SerializeToUtf8Bytes(new { format = "graph-model", modelTopology = new { node = nodes }, weightsManifest = new[] { new { paths = new[] { "model.bin" }, weights = manifest } } });
        return (json, bin.ToArray());
    }

    [Fact]
    public void A_graph_with_every_supported_op_matches_the_reference_interpreter()
    {
        var (json, bin) = SyntheticModel();
        var model = TfjsGraphModel.Parse(json, _ => bin);
        // float16 weights widened, not reinterpreted: the first kernel value equals its half-precision rounding.
        Assert.Equal((float)(Half)Random(108, 1, 0.5f)[0], model.Weights["c1/w"].Values[0]);
        byte[] onnx = TfjsToOnnxConverter.Convert(model, "input");
        const int n = 2, h = 9, w = 11;
        var nhwc = Random(n * h * w * 3, 42, 3);
        var reference = TfjsReference.Run(model, new TfjsReference.Tensor([n, h, w, 3], nhwc));
        var actual = RunOnnx(onnx, "input", NhwcToNchw(nhwc, n, h, w, 3), [n, 3, h, w], ["probs", "gate", "side", "flat"]);
        // "side" is NHWC [2, 4, 4, 3] in the reference and NCHW in ONNX; "flat" ([2, 48]) is TF's NHWC flattening in both.
        actual["side"] = NchwToNhwc(actual["side"], n, 4, 4, 3);
        foreach (var output in new[] { "probs", "gate", "side", "flat" })
        {
            var expected = reference[output].Data;
            Assert.Equal(expected.Length, actual[output].Length);
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.True(Math.Abs(expected[i] - actual[output][i]) <= 1e-5, $"{output}[{i}]: reference {expected[i]}, ONNX {actual[output][i]}");
            }
        }
    }

    [Fact]
    public void An_unsupported_op_is_refused_by_name()
    {
        var (json, bin) = SyntheticModel();
        var text = Encoding.UTF8.GetString(json).Replace("\"op\":\"Sigmoid\"", "\"op\":\"Erf\"", StringComparison.Ordinal);
        var e = Assert.Throws<NotSupportedException>(() => TfjsToOnnxConverter.Convert(TfjsGraphModel.Parse(Encoding.UTF8.GetBytes(text), _ => bin), "input"));
        Assert.Contains("Erf", e.Message, StringComparison.Ordinal);
        Assert.Contains("gate", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("faceres-gender-age", 224, 127.5f)]
    [InlineData("mediapipe-iris", 64, 0.5f)]
    [InlineData("mediapipe-facemesh", 192, 0.5f)]
    public void The_installed_tfjs_model_matches_the_reference_interpreter_on_its_own_weights(string id, int size, float half)
    {
        var store = TestAssets.Store;
        var entry = store.Manifest.Get(id);
        var files = TestAssets.PackageFiles(entry);
        var model = TfjsGraphModel.Parse(files[entry.File], shard => files[$"package/models/{shard}"]);
        // Pixel values over the model's input range (0–255 for faceres, 0–1 for iris).
        var nhwc = Random(size * size * 3, 7, half).Select(v => v + half).ToArray();
        var reference = TfjsReference.Run(model, new TfjsReference.Tensor([1, size, size, 3], nhwc));
        var actual = RunOnnx(File.ReadAllBytes(store.Resolve(entry.Id)), entry.Input.Name, NhwcToNchw(nhwc, 1, size, size, 3), [1, 3, size, size], entry.Outputs.Values);
        foreach (var output in entry.Outputs.Values)
        {
            var expected = reference[output].Data;
            Assert.Equal(expected.Length, actual[output].Length);
            for (int i = 0; i < expected.Length; i++)
            {
                // iris's and facemesh's outputs are pixel coordinates (up to 64 / 192): 1e-4 relative to values above 1.
                Assert.True(Math.Abs(expected[i] - actual[output][i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"{output}[{i}]: reference {expected[i]}, ONNX {actual[output][i]}");
            }
        }
    }
}
