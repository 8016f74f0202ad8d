using Google.Protobuf;
using Onnx;

namespace FaceStream.Tools.Conversion;

/// <summary>
/// Rewrites every per-channel PRelu over an NCHW activation as relu(x) + (−a)·relu(−x), with the two per-channel
/// scalings spelled as BatchNormalization (mean 0, variance 1, epsilon 0, bias 0). Same values, bit for bit.
/// </summary>
/// <remarks>
/// Why: ONNX Runtime's CPU graph optimiser moves convolutions into its blocked NCHWc layout, but PRelu is not one of
/// the ops that layout supports, so every conv → PRelu pair paid a reorder out of the blocked layout, a broadcast
/// PRelu kernel, and a reorder back; in P-Net, PRelu and the reorders were about 60 % of the op time. Relu and
/// BatchNormalization are NCHWc ops: a per-channel BatchNormalization becomes a blocked 1×1 depthwise conv, the
/// Relu after it fuses into that conv and the Add into the second scaling's conv as its sum input, so the whole net
/// stays blocked. CPU per run roughly halves (P-Net −31 to −44 %, MobileFaceNet −64 %): docs/benchmarks.md, "PReLU in the
/// blocked layout".
/// <para>
/// Exact: for x &gt; 0 the second term is (−a)·0 and the first is x; for x &lt; 0 the first is 0 and the second is
/// (−a)·(−x) = a·x, the product PRelu computes. Only slopes stored as a float initializer of shape [C, 1, 1] or
/// [1, C, 1, 1] are rewritten: that is how our converters and the exporters of the vendor files write a per-channel
/// slope next to a 4-D NCHW activation. Slopes over 2-D activations ([C], after a flatten) stay PRelu: those run
/// outside the blocked layout anyway and gained nothing when measured.
/// </para>
/// </remarks>
public static class PreluDecomposition
{
    /// <summary>BatchNormalization-9 onwards has the semantics used here (no "spatial"/"is_test" attributes to set).</summary>
    private const long MinimumOpset = 9;

    public static byte[] Apply(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        return Rewrite(model) > 0 ? model.ToByteArray() : onnx;
    }

    /// <summary>Rewrites the model in place; returns how many PRelu nodes were replaced.</summary>
    public static int Rewrite(ModelProto model)
    {
        long opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();
        if (opset < MinimumOpset)
        {
            return 0;
        }

        var g = model.Graph;
        var initializers = g.Initializer.ToDictionary(i => i.Name, StringComparer.Ordinal);
        var shared = new Dictionary<string, string>(StringComparer.Ordinal);
        var nodes = new List<NodeProto>(g.Node.Count);
        int replaced = 0;
        foreach (var node in g.Node)
        {
            float[]? slope = node is { OpType: "PRelu", Domain: "" or "ai.onnx" } && node.Input.Count == 2
                ? PerChannelSlope(initializers.GetValueOrDefault(node.Input[1]))
                : null;
            if (slope is null)
            {
                nodes.Add(node);
                continue;
            }

            int c = slope.Length;
            string x = node.Input[0], y = node.Output[0], p = $"{y}/prelu";
            string zeros = Shared(g, shared, $"prelu_zeros_{c}", new float[c]);
            string ones = Shared(g, shared, $"prelu_ones_{c}", Enumerable.Repeat(1f, c).ToArray());
            string minusOnes = Shared(g, shared, $"prelu_minus_ones_{c}", Enumerable.Repeat(-1f, c).ToArray());
            string minusSlope = p + "_minus_slope";
            g.Initializer.Add(Floats(minusSlope, slope.Select(a => -a).ToArray()));

            NodeProto Scale(string name, string input, string scale, string output) =>
                Node("BatchNormalization", name, [input, scale, zeros, zeros, ones], output,
                    new AttributeProto { Name = "epsilon", Type = AttributeProto.Types.AttributeType.Float, F = 0f });

            nodes.Add(Node("Relu", p + "_relu", [x], p + "_positive"));
            nodes.Add(Scale(p + "_negate", x, minusOnes, p + "_negated"));
            nodes.Add(Node("Relu", p + "_relu_negated", [p + "_negated"], p + "_negative_part"));
            nodes.Add(Scale(p + "_slope", p + "_negative_part", minusSlope, p + "_sloped"));
            nodes.Add(Node("Add", p + "_add", [p + "_positive", p + "_sloped"], y));
            replaced++;
        }

        if (replaced == 0)
        {
            return 0;
        }

        g.Node.Clear();
        g.Node.AddRange(nodes);
        var stillUsed = new HashSet<string>(nodes.SelectMany(n => n.Input), StringComparer.Ordinal);
        foreach (var unused in g.Initializer.Where(i => !stillUsed.Contains(i.Name)).ToList())
        {
            g.Initializer.Remove(unused);
            var asInput = g.Input.FirstOrDefault(i => i.Name == unused.Name);
            if (asInput is not null)
            {
                g.Input.Remove(asInput);
            }
        }

        return replaced;
    }

    /// <summary>The slope values when the tensor is a float [C,1,1] or [1,C,1,1] constant; otherwise null.</summary>
    private static float[]? PerChannelSlope(TensorProto? t)
    {
        if (t is null || t.DataType != (int)TensorProto.Types.DataType.Float)
        {
            return null;
        }

        var dims = t.Dims.ToArray();
        bool perChannel = dims switch
        {
            [_, 1, 1] => true,
            [1, _, 1, 1] => true,
            _ => false,
        };
        if (!perChannel)
        {
            return null;
        }

        if (t.FloatData.Count > 0)
        {
            return t.FloatData.ToArray();
        }

        var raw = t.RawData.Span;
        var values = new float[raw.Length / sizeof(float)];
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw).CopyTo(values);
        return values;
    }

    private static string Shared(GraphProto g, Dictionary<string, string> shared, string name, float[] values)
    {
        if (!shared.TryGetValue(name, out var existing))
        {
            existing = name;
            while (g.Initializer.Any(i => i.Name == existing) || g.Node.Any(n => n.Output.Contains(existing)))
            {
                existing += "_";
            }

            g.Initializer.Add(Floats(existing, values));
            shared[name] = existing;
        }

        return existing;
    }

    private static TensorProto Floats(string name, float[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.Add(values.Length);
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        t.RawData = ByteString.CopyFrom(bytes);
        return t;
    }

    private static NodeProto Node(string opType, string name, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        return node;
    }
}
