using FaceStream.Inference.Graphs;
using Onnx;

namespace FaceStream.Tools.Conversion;

/// <summary>
/// face-api.js's <c>FaceRecognitionNet</c> (dlib's 128-d face descriptor ResNet, ported to TF.js as a weights-only
/// model) written as an ONNX graph from its dequantised weights. The architecture is face-api.js's code
/// (<c>src/faceRecognitionNet/FaceRecognitionNet.ts</c>, <c>residualLayer.ts</c>, <c>convLayer.ts</c>):
/// <code>
/// conv32_down: 7×7 conv stride 2 VALID + bias, ×scale + shift, ReLU; max-pool 3×3 stride 2 VALID
/// conv32_1..3, conv64_1..3, conv128_1..2, conv256_1..2: residual
///     ReLU(x + convNoRelu(conv(x)))              3×3 stride 1 SAME
/// conv64_down, conv128_down, conv256_down, conv256_down_out: residualDown
///     ReLU(avgPool2×2(x) ⧺ zero channels + convNoRelu(convDown(x)))
///     convDown is 3×3 stride 2 VALID; when it comes out one pixel smaller than the pooled skip, a zero row and a
///     zero column are appended to it (bottom, right)
/// mean over H, W → [N, 256] · fc [256, 128] → the descriptor (not normalised)
/// </code>
/// Each conv's bias and the "scale layer" that follows it (a per-channel affine y·s + t) are folded into the conv:
/// W′ = W·s, b′ = b·s + t. The input is [N, 3, 150, 150], RGB, (v − mean RGB) / 255 applied by the caller
/// (the manifest's <c>channelMean</c>/<c>channelStd</c>); the graph fixes the size so the residual shapes are known.
/// </summary>
public static class FaceApiResNetConverter
{
    /// <summary>face-api.js resizes every face to this square before the net (<c>toBatchTensor(150)</c>).</summary>
    public const int InputSize = 150;

    private static readonly string[] Blocks =
    [
        "conv32_1", "conv32_2", "conv32_3",
        "conv64_down", "conv64_1", "conv64_2", "conv64_3",
        "conv128_down", "conv128_1", "conv128_2",
        "conv256_down", "conv256_1", "conv256_2", "conv256_down_out",
    ];

    private readonly record struct Activation(string Name, int Channels, int Size);

    public static byte[] Convert(IReadOnlyDictionary<string, TfjsTensor> weights, string inputName, string outputName)
    {
        var g = new OnnxGraphBuilder("faceapi-resnet");
        g.Input(inputName, TensorProto.Types.DataType.Float, "N", 3, InputSize, InputSize);
        var x = new Activation(inputName, 3, InputSize);

        x = ConvLayer(g, weights, "conv32_down", x, stride: 2, relu: true);
        x = x with { Name = g.Op("MaxPool", [x.Name], ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 })), Size = ((x.Size - 3) / 2) + 1 };
        foreach (var block in Blocks)
        {
            x = block.EndsWith("_down", StringComparison.Ordinal) || block.EndsWith("_down_out", StringComparison.Ordinal)
                ? ResidualDown(g, weights, block, x)
                : Residual(g, weights, block, x);
        }

        string pooled = g.Op("ReduceMean", [x.Name, g.ConstantInt64("axes", 2, 3)], ("keepdims", 0L));
        var fc = Weight(weights, "fc", 2);
        if (fc.Shape[0] != x.Channels)
        {
            throw new InvalidDataException($"fc is [{string.Join(",", fc.Shape)}] but the last block gives {x.Channels} channels");
        }

        g.OpNamed(outputName, "MatMul", [pooled, g.Constant("fc", fc.Values, fc.Shape[0], fc.Shape[1])]);
        g.Output(outputName, TensorProto.Types.DataType.Float, ["N", fc.Shape[1]]);
        return g.ToBytes("facestream-faceapi-resnet");
    }

    private static Activation Residual(OnnxGraphBuilder g, IReadOnlyDictionary<string, TfjsTensor> w, string block, Activation x)
    {
        var a = ConvLayer(g, w, $"{block}/conv1", x, stride: 1, relu: true);
        var b = ConvLayer(g, w, $"{block}/conv2", a, stride: 1, relu: false);
        if (b.Channels != x.Channels || b.Size != x.Size)
        {
            throw new InvalidDataException($"{block}: a residual block changes the shape ({x.Channels}×{x.Size}² → {b.Channels}×{b.Size}²)");
        }

        return b with { Name = g.Op("Relu", [g.Op("Add", [b.Name, x.Name])]) };
    }

    private static Activation ResidualDown(OnnxGraphBuilder g, IReadOnlyDictionary<string, TfjsTensor> w, string block, Activation x)
    {
        var a = ConvLayer(g, w, $"{block}/conv1", x, stride: 2, relu: true);
        var b = ConvLayer(g, w, $"{block}/conv2", a, stride: 1, relu: false);
        var skip = new Activation(g.Op("AveragePool", [x.Name], ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 })), x.Channels, x.Size / 2);
        if (skip.Size != b.Size)
        {
            // face-api.js appends one zero row and one zero column to the conv path; nothing else is expected.
            if (skip.Size != b.Size + 1)
            {
                throw new InvalidDataException($"{block}: conv path {b.Size}² and pooled skip {skip.Size}² differ by more than one pixel");
            }

            b = b with { Name = ZeroPad(g, b.Name, channels: 0, bottomRight: 1), Size = skip.Size };
        }

        if (skip.Channels != b.Channels)
        {
            skip = skip with { Name = ZeroPad(g, skip.Name, channels: b.Channels - skip.Channels, bottomRight: 0), Channels = b.Channels };
        }

        return b with { Name = g.Op("Relu", [g.Op("Add", [skip.Name, b.Name])]) };
    }

    /// <summary>Appends zeros after the last channel and/or after the last row and column of an NCHW tensor.</summary>
    private static string ZeroPad(OnnxGraphBuilder g, string x, int channels, int bottomRight) =>
        g.Op("Pad", [x, g.ConstantInt64("pads", 0, 0, 0, 0, 0, channels, bottomRight, bottomRight)], ("mode", "constant"));

    /// <summary>conv (3×3 SAME at stride 1, VALID at stride 2) + bias, then the scale layer, folded into one Conv.</summary>
    private static Activation ConvLayer(OnnxGraphBuilder g, IReadOnlyDictionary<string, TfjsTensor> w, string prefix, Activation x, int stride, bool relu)
    {
        var filters = Weight(w, $"{prefix}/conv/filters", 4);
        var bias = Weight(w, $"{prefix}/conv/bias", 1);
        var scale = Weight(w, $"{prefix}/scale/weights", 1);
        var shift = Weight(w, $"{prefix}/scale/biases", 1);
        int kh = filters.Shape[0], kw = filters.Shape[1], ci = filters.Shape[2], co = filters.Shape[3];
        if (ci != x.Channels || bias.Shape[0] != co || scale.Shape[0] != co || shift.Shape[0] != co || kh != kw)
        {
            throw new InvalidDataException($"{prefix}: filters [{string.Join(",", filters.Shape)}] do not fit a {x.Channels}-channel input with {co} biases and scales");
        }

        float[] kernel = TfjsToOnnxConverter.HwioToOihw(filters);
        int block = ci * kh * kw;
        var folded = new float[co];
        for (int c = 0; c < co; c++)
        {
            System.Numerics.Tensors.TensorPrimitives.Multiply(kernel.AsSpan(c * block, block), scale.Values[c], kernel.AsSpan(c * block, block));
            folded[c] = (bias.Values[c] * scale.Values[c]) + shift.Values[c];
        }

        // TF SAME at stride 1 with an odd kernel pads (k − 1) / 2 on every side; the strided convs are VALID.
        long pad = stride == 1 ? (kh - 1) / 2 : 0;
        string conv = g.Op("Conv", [x.Name, g.Constant("kernel", kernel, co, ci, kh, kw), g.Constant("bias", folded, co)],
            ("kernel_shape", new long[] { kh, kw }), ("strides", new long[] { stride, stride }), ("pads", new[] { pad, pad, pad, pad }));
        int size = stride == 1 ? x.Size : ((x.Size - kh) / stride) + 1;
        return new Activation(relu ? g.Op("Relu", [conv]) : conv, co, size);
    }

    private static TfjsTensor Weight(IReadOnlyDictionary<string, TfjsTensor> w, string name, int rank) =>
        w.TryGetValue(name, out var t) && t.Shape.Length == rank ? t
            : throw new InvalidDataException(t is null ? $"the weights have no '{name}'" : $"'{name}' has rank {t.Shape.Length}, expected {rank}");
}
