using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace FaceStream.Tools.Conversion;

/// <summary>The range an activation tensor took over the calibration inputs.</summary>
public readonly record struct ActivationRange(float Min, float Max)
{
    public ActivationRange Union(ActivationRange o) => new(MathF.Min(Min, o.Min), MathF.Max(Max, o.Max));

    /// <summary>uint8 affine parameters covering the range and zero (zero must be exact: padding and ReLU produce it).</summary>
    public (float Scale, byte ZeroPoint) Uint8()
    {
        float lo = MathF.Min(Min, 0f), hi = MathF.Max(Max, 0f);
        float scale = hi > lo ? (hi - lo) / 255f : 1f;
        return (scale, (byte)Math.Clamp(MathF.Round(-lo / scale), 0f, 255f));
    }
}

/// <summary>
/// Static INT8 quantisation of a float ONNX graph in the QDQ form: every Conv and Gemm gets its input and output
/// activations wrapped in QuantizeLinear → DequantizeLinear (uint8, ranges from calibration), its weights stored as
/// int8 with one scale per output channel and its bias as int32 (scale = input scale × weight scale), each behind a
/// DequantizeLinear. The graph stays a float graph to any reader; ONNX Runtime's CPU optimiser fuses each
/// DQ → Conv → Q group into one QLinearConv (QGemm for Gemm). Ops in between (PRelu, MaxPool, Softmax) stay float.
/// </summary>
public static class QdqQuantizer
{
    private static readonly HashSet<string> Quantizable = ["Conv", "Gemm"];

    /// <summary>
    /// Runs the float graph over the calibration batches (feeds of the graph's inputs) and records each Conv / Gemm
    /// input and output tensor's min and max.
    /// </summary>
    public static Dictionary<string, ActivationRange> Calibrate(byte[] model, IEnumerable<IReadOnlyDictionary<string, OrtValue>> batches)
    {
        var proto = ModelProto.Parser.ParseFrom(model);
        var graph = proto.Graph;
        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var watched = graph.Node.Where(n => Quantizable.Contains(n.OpType))
            .SelectMany(n => new[] { n.Input[0], n.Output[0] })
            .Where(t => !initializers.Contains(t))
            .Distinct()
            .ToList();
        var existing = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var t in watched.Where(t => !existing.Contains(t)))
        {
            graph.Output.Add(new ValueInfoProto { Name = t, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } } });
        }

        var ranges = new Dictionary<string, ActivationRange>(StringComparer.Ordinal);
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var session = new InferenceSession(proto.ToByteArray(), options);
        using var run = new RunOptions();
        foreach (var feed in batches)
        {
            using var outputs = session.Run(run, feed.Keys.ToArray(), feed.Values.ToArray(), watched.ToArray());
            for (int i = 0; i < watched.Count; i++)
            {
                var data = outputs[i].GetTensorDataAsSpan<float>();
                if (data.IsEmpty)
                {
                    continue;
                }

                float lo = float.MaxValue, hi = float.MinValue;
                foreach (float v in data)
                {
                    lo = MathF.Min(lo, v);
                    hi = MathF.Max(hi, v);
                }

                var r = new ActivationRange(lo, hi);
                ranges[watched[i]] = ranges.TryGetValue(watched[i], out var old) ? old.Union(r) : r;
            }
        }

        return ranges;
    }

    /// <summary>
    /// The QDQ graph of <paramref name="model"/>. Every Conv / Gemm whose input and output have a range in
    /// <paramref name="ranges"/> and whose weights are initializers is quantised; the others are left float.
    /// Tensor names the rest of the graph reads (graph outputs included) keep their names and float type.
    /// </summary>
    public static byte[] Quantize(byte[] model, IReadOnlyDictionary<string, ActivationRange> ranges)
    {
        var proto = ModelProto.Parser.ParseFrom(model);
        var graph = proto.Graph;
        var weights = graph.Initializer.ToDictionary(i => i.Name, StringComparer.Ordinal);
        var quantizedInputs = new Dictionary<string, string>(StringComparer.Ordinal);
        var nodes = new List<NodeProto>();
        int counter = 0;
        string Fresh(string prefix) => $"{prefix}_qdq{counter++}";

        string Scalar(string prefix, float value)
        {
            var t = new TensorProto { Name = Fresh(prefix), DataType = (int)TensorProto.Types.DataType.Float };
            t.FloatData.Add(value);
            graph.Initializer.Add(t);
            return t.Name;
        }

        string ZeroPoint(byte value)
        {
            var t = new TensorProto { Name = Fresh("zp"), DataType = (int)TensorProto.Types.DataType.Uint8, RawData = ByteString.CopyFrom(value) };
            graph.Initializer.Add(t);
            return t.Name;
        }

        // Q → DQ of a float tensor; returns the dequantised name and adds the nodes to `into`.
        string QuantDequant(string tensor, ActivationRange range, List<NodeProto> into, string? dequantisedName = null)
        {
            var (scale, zp) = range.Uint8();
            string s = Scalar("scale", scale), z = ZeroPoint(zp);
            string q = Fresh(tensor + "_q");
            string dq = dequantisedName ?? Fresh(tensor + "_dq");
            into.Add(Node("QuantizeLinear", [tensor, s, z], q));
            into.Add(Node("DequantizeLinear", [q, s, z], dq));
            return dq;
        }

        foreach (var node in graph.Node)
        {
            if (!Quantizable.Contains(node.OpType)
                || !ranges.TryGetValue(node.Input[0], out var inRange)
                || !ranges.TryGetValue(node.Output[0], out var outRange)
                || !weights.TryGetValue(node.Input[1], out var w)
                || (node.OpType == "Gemm" && !GemmIsQuantizable(node)))
            {
                nodes.Add(node);
                continue;
            }

            if (!quantizedInputs.TryGetValue(node.Input[0], out var xDq))
            {
                xDq = QuantDequant(node.Input[0], inRange, nodes);
                quantizedInputs[node.Input[0]] = xDq;
            }

            float inScale = inRange.Uint8().Scale;
            var (wName, wScales) = PerChannelWeights(graph, w, Fresh);
            string wDq = Fresh(w.Name + "_dq");
            nodes.Add(Node("DequantizeLinear", [wName, wScales.Name, wScales.ZeroPoint], wDq, ("axis", 0L)));
            node.Input[0] = xDq;
            node.Input[1] = wDq;
            if (node.Input.Count > 2 && weights.TryGetValue(node.Input[2], out var b))
            {
                node.Input[2] = Int32Bias(graph, b, inScale, wScales.Values, Fresh, nodes);
            }

            string y = node.Output[0];
            string yFloat = Fresh(y + "_f");
            node.Output[0] = yFloat;
            nodes.Add(node);
            var (ys, yz) = outRange.Uint8();
            string ysName = Scalar("scale", ys), yzName = ZeroPoint(yz);
            string yq = Fresh(y + "_q");
            nodes.Add(Node("QuantizeLinear", [yFloat, ysName, yzName], yq));
            nodes.Add(Node("DequantizeLinear", [yq, ysName, yzName], y));
        }

        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        var stillUsed = graph.Node.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        foreach (var init in graph.Initializer.Where(i => !stillUsed.Contains(i.Name)).ToList())
        {
            graph.Initializer.Remove(init);
        }

        // QuantizeLinear/DequantizeLinear with per-axis scales need opset ≥ 13; the builder's graphs are at 18.
        proto.ProducerName += "+facestream-qdq";
        return proto.ToByteArray();
    }

    /// <summary>Gemm as the TFLite importer emits it: A × Bᵀ + C with B [N, K] a constant (one scale per output row).</summary>
    private static bool GemmIsQuantizable(NodeProto gemm) =>
        gemm.Attribute.Any(a => a.Name == "transB" && a.I == 1)
        && !gemm.Attribute.Any(a => a.Name == "transA" && a.I != 0)
        && !gemm.Attribute.Any(a => a.Name is "alpha" or "beta" && a.F != 1f);

    private sealed record ChannelScales(string Name, string ZeroPoint, float[] Values);

    /// <summary>Symmetric int8 weights, one scale per output channel (axis 0), range −127…127.</summary>
    private static (string Name, ChannelScales Scales) PerChannelWeights(GraphProto graph, TensorProto w, Func<string, string> fresh)
    {
        float[] data = FloatData(w);
        int channels = (int)w.Dims[0];
        int per = data.Length / channels;
        var scales = new float[channels];
        var q = new byte[data.Length];
        for (int c = 0; c < channels; c++)
        {
            float max = 0f;
            for (int i = 0; i < per; i++)
            {
                max = MathF.Max(max, MathF.Abs(data[(c * per) + i]));
            }

            scales[c] = max > 0f ? max / 127f : 1f;
            for (int i = 0; i < per; i++)
            {
                q[(c * per) + i] = (byte)(sbyte)Math.Clamp(MathF.Round(data[(c * per) + i] / scales[c]), -127f, 127f);
            }
        }

        var wq = new TensorProto { Name = fresh(w.Name + "_int8"), DataType = (int)TensorProto.Types.DataType.Int8, RawData = ByteString.CopyFrom(q) };
        wq.Dims.AddRange(w.Dims);
        var s = new TensorProto { Name = fresh(w.Name + "_scale"), DataType = (int)TensorProto.Types.DataType.Float };
        s.Dims.Add(channels);
        s.FloatData.AddRange(scales);
        var z = new TensorProto { Name = fresh(w.Name + "_zp"), DataType = (int)TensorProto.Types.DataType.Int8, RawData = ByteString.CopyFrom(new byte[channels]) };
        z.Dims.Add(channels);
        graph.Initializer.Add(wq);
        graph.Initializer.Add(s);
        graph.Initializer.Add(z);
        return (wq.Name, new ChannelScales(s.Name, z.Name, scales));
    }

    /// <summary>Bias as int32 at scale input × weight (per channel), zero point 0, behind a DequantizeLinear.</summary>
    private static string Int32Bias(GraphProto graph, TensorProto b, float inScale, float[] weightScales, Func<string, string> fresh, List<NodeProto> nodes)
    {
        float[] data = FloatData(b);
        var values = new int[data.Length];
        var scales = new float[data.Length];
        for (int c = 0; c < data.Length; c++)
        {
            scales[c] = inScale * weightScales[c];
            values[c] = (int)Math.Clamp(Math.Round(data[c] / scales[c]), int.MinValue + 1, int.MaxValue);
        }

        var bq = new TensorProto { Name = fresh(b.Name + "_int32"), DataType = (int)TensorProto.Types.DataType.Int32 };
        bq.Dims.AddRange(b.Dims);
        bq.Int32Data.AddRange(values);
        var s = new TensorProto { Name = fresh(b.Name + "_scale"), DataType = (int)TensorProto.Types.DataType.Float };
        s.Dims.Add(data.Length);
        s.FloatData.AddRange(scales);
        var z = new TensorProto { Name = fresh(b.Name + "_zp"), DataType = (int)TensorProto.Types.DataType.Int32 };
        z.Dims.Add(data.Length);
        z.Int32Data.AddRange(new int[data.Length]);
        graph.Initializer.Add(bq);
        graph.Initializer.Add(s);
        graph.Initializer.Add(z);
        string dq = fresh(b.Name + "_dq");
        nodes.Add(Node("DequantizeLinear", [bq.Name, s.Name, z.Name], dq, ("axis", 0L)));
        return dq;
    }

    private static float[] FloatData(TensorProto t)
    {
        if (t.DataType != (int)TensorProto.Types.DataType.Float)
        {
            throw new NotSupportedException($"initializer '{t.Name}' is not float32");
        }

        if (t.FloatData.Count > 0)
        {
            return [.. t.FloatData];
        }

        var bytes = t.RawData.Span;
        var data = new float[bytes.Length / sizeof(float)];
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).CopyTo(data);
        return data;
    }

    private static NodeProto Node(string op, string[] inputs, string output, params (string Name, long Value)[] attributes)
    {
        var n = new NodeProto { OpType = op, Name = output + "_" + op };
        n.Input.AddRange(inputs);
        n.Output.Add(output);
        foreach (var (name, value) in attributes)
        {
            n.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value });
        }

        return n;
    }
}
