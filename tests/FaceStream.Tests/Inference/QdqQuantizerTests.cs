using FaceStream.Inference.Graphs;
using FaceStream.Tests.Support;
using FaceStream.Tools.Conversion;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using Xunit;

namespace FaceStream.Tests.Inference;

/// <summary>The static INT8 QDQ pass on a small conv → PReLU → conv → Gemm graph, against the float graph.</summary>
public class QdqQuantizerTests
{
    private static float[] Random(Random r, int n, float scale) => [.. Enumerable.Range(0, n).Select(_ => (float)((r.NextDouble() * 2) - 1) * scale)];

    /// <summary>MTCNN's shape in miniature: 3×3 conv with bias, per-channel PReLU, 1×1 conv, flatten, fully connected.</summary>
    private static byte[] TinyGraph()
    {
        var r = new Random(3);
        var g = new OnnxGraphBuilder("tiny");
        g.Input("x", TensorProto.Types.DataType.Float, "N", 3, 8, 8);
        string c1 = g.Op("Conv", ["x", g.Constant("w1", Random(r, 8 * 3 * 3 * 3, 0.5f), 8, 3, 3, 3), g.Constant("b1", Random(r, 8, 0.2f), 8)],
            ("kernel_shape", new long[] { 3, 3 }), ("auto_pad", "VALID"));
        string p1 = g.Op("PRelu", [c1, g.Constant("slope", Random(r, 8, 0.3f).Select(MathF.Abs).ToArray(), 8, 1, 1)]);
        string c2 = g.Op("Conv", [p1, g.Constant("w2", Random(r, 4 * 8, 0.5f), 4, 8, 1, 1), g.Constant("b2", Random(r, 4, 0.2f), 4)],
            ("kernel_shape", new long[] { 1, 1 }));
        string flat = g.Op("Reshape", [c2, g.ConstantInt64("shape", -1, 4 * 6 * 6)]);
        g.OpNamed("y", "Gemm", [flat, g.Constant("fc", Random(r, 5 * 144, 0.1f), 5, 144), g.Constant("fcb", Random(r, 5, 0.1f), 5)], ("transB", 1L));
        g.Output("y", TensorProto.Types.DataType.Float);
        return g.ToBytes();
    }

    private static OrtValue Input(Random r, int n) => OrtValue.CreateTensorValueFromMemory(Random(r, n * 3 * 8 * 8, 1f), [n, 3L, 8, 8]);

    private static float[] Run(byte[] model, OrtValue x, string? optimisedPath = null)
    {
        using var so = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (optimisedPath is not null)
        {
            so.OptimizedModelFilePath = optimisedPath;
        }

        using var session = new InferenceSession(model, so);
        using var run = new RunOptions();
        using var outputs = session.Run(run, ["x"], [x], ["y"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    [Fact]
    public void The_quantised_graph_computes_the_float_result_within_a_few_quantisation_steps()
    {
        byte[] model = TinyGraph();
        var r = new Random(11);
        var calibration = Enumerable.Range(0, 8).Select(_ => (IReadOnlyDictionary<string, OrtValue>)new Dictionary<string, OrtValue> { ["x"] = Input(r, 4) }).ToList();
        var ranges = QdqQuantizer.Calibrate(model, calibration);
        Assert.Equal(6, ranges.Count); // x, conv1 out, PReLU out, conv2 out, flattened, y

        byte[] quantised = QdqQuantizer.Quantize(model, ranges);
        using var x = Input(r, 16);
        float[] expected = Run(model, x);
        float[] actual = Run(quantised, x);
        var y = ranges["y"];
        float range = y.Max - y.Min;
        var errors = expected.Zip(actual, (e, a) => MathF.Abs(e - a)).ToList();
        float worst = errors.Max();
        // Rounding of the 144 Gemm inputs adds up (≈ 9 output steps here); a wrong scale or zero point is off by far more.
        Assert.True(worst < 0.05f * range, $"largest difference {worst} vs output range {range}");
        Assert.True(errors.Average() < 0.01f * range, $"mean difference {errors.Average()} vs output range {range}");
        Assert.True(worst > 0f, "the quantised graph returned the float result exactly: nothing was quantised");
    }

    [Fact]
    public void Onnx_runtime_runs_the_quantised_graph_on_integer_kernels()
    {
        byte[] model = TinyGraph();
        var r = new Random(5);
        var ranges = QdqQuantizer.Calibrate(model, [new Dictionary<string, OrtValue> { ["x"] = Input(r, 4) }]);
        byte[] quantised = QdqQuantizer.Quantize(model, ranges);
        var ops = ModelProto.Parser.ParseFrom(quantised).Graph.Node.Select(n => n.OpType).ToList();
        Assert.Equal(6, ops.Count(o => o == "QuantizeLinear")); // input and output of each of the three layers
        string optimised = Path.Combine(TestAssets.TempDirectory(), "optimised.onnx");
        Run(quantised, Input(r, 1), optimised);
        var fused = ModelProto.Parser.ParseFrom(File.ReadAllBytes(optimised)).Graph.Node.Select(n => n.OpType).ToList();
        Assert.Equal(2, fused.Count(o => o == "QLinearConv"));
        Assert.Contains("QGemm", fused);
        Assert.DoesNotContain("Conv", fused);
    }
}
