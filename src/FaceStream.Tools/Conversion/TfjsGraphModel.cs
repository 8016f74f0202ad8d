using System.Text;
using System.Text.Json;

namespace FaceStream.Tools.Conversion;

/// <summary>One node of a TF.js graph model's GraphDef: name, op, inputs (":k" output suffixes and "^" control inputs removed) and attributes.</summary>
public sealed record TfjsNode(string Name, string Op, IReadOnlyList<string> Inputs, JsonElement Attr)
{
    public bool Has(string attr) => Attr.ValueKind == JsonValueKind.Object && Attr.TryGetProperty(attr, out _);

    /// <summary>An int list attribute ({"list":{"i":["1","2","2","1"]}}).</summary>
    public long[] Ints(string attr) =>
        Has(attr) && Attr.GetProperty(attr).TryGetProperty("list", out var l) && l.TryGetProperty("i", out var i)
            ? i.EnumerateArray().Select(v => long.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToArray()
            : [];

    /// <summary>A string attribute (base64 in the JSON), or null.</summary>
    public string? Str(string attr) =>
        Has(attr) && Attr.GetProperty(attr).TryGetProperty("s", out var s) ? Encoding.UTF8.GetString(Convert.FromBase64String(s.GetString()!)) : null;

    /// <summary>A string list attribute (fused_ops).</summary>
    public string[] Strs(string attr) =>
        Has(attr) && Attr.GetProperty(attr).TryGetProperty("list", out var l) && l.TryGetProperty("s", out var s)
            ? s.EnumerateArray().Select(v => Encoding.UTF8.GetString(Convert.FromBase64String(v.GetString()!))).ToArray()
            : [];

    public bool Bool(string attr) => Has(attr) && Attr.GetProperty(attr).TryGetProperty("b", out var b) && b.GetBoolean();

    public float Float(string attr) => Has(attr) && Attr.GetProperty(attr).TryGetProperty("f", out var f) ? f.GetSingle() : 0f;

    /// <summary>The Placeholder's shape (-1 for unknown dimensions).</summary>
    public long[] Shape() =>
        Has("shape") && Attr.GetProperty("shape").GetProperty("shape").TryGetProperty("dim", out var d)
            ? d.EnumerateArray().Select(x => long.Parse(x.GetProperty("size").GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToArray()
            : [];
}

/// <summary>A weight tensor of the model, widened to float32 (int32 tensors keep their values as floats and ints).</summary>
public sealed record TfjsTensor(string Name, int[] Shape, float[] Values, int[]? Ints = null);

/// <summary>
/// A TF.js "graph-model" (model.json + weight shards): the GraphDef's nodes and every weight named in the
/// weights manifest, dequantised (float16 → float32; uint8 → min + scale·q) and read from the concatenated shards.
/// </summary>
public sealed class TfjsGraphModel
{
    public IReadOnlyList<TfjsNode> Nodes { get; }
    public IReadOnlyDictionary<string, TfjsTensor> Weights { get; }

    private TfjsGraphModel(IReadOnlyList<TfjsNode> nodes, IReadOnlyDictionary<string, TfjsTensor> weights)
    {
        Nodes = nodes;
        Weights = weights;
    }

    /// <param name="modelJson">The model.json bytes.</param>
    /// <param name="shard">The bytes of each weights path named in the manifest (file name → bytes).</param>
    public static TfjsGraphModel Parse(byte[] modelJson, Func<string, byte[]> shard, string name = "model.json")
    {
        using var doc = JsonDocument.Parse(modelJson);
        var root = doc.RootElement;
        if (!root.TryGetProperty("format", out var format) || format.GetString() != "graph-model")
        {
            throw new InvalidDataException($"{name}: not a TF.js graph model (format is not \"graph-model\")");
        }

        var nodes = root.GetProperty("modelTopology").GetProperty("node").EnumerateArray().Select(n => new TfjsNode(
            n.GetProperty("name").GetString()!,
            n.GetProperty("op").GetString()!,
            n.TryGetProperty("input", out var inputs)
                ? inputs.EnumerateArray().Select(i => i.GetString()!).Where(i => !i.StartsWith('^')).Select(StripOutputIndex).ToList()
                : [],
            n.TryGetProperty("attr", out var attr) ? attr.Clone() : default)).ToList();

        return new TfjsGraphModel(nodes, ReadWeights(root.GetProperty("weightsManifest"), shard, name));
    }

    /// <summary>
    /// A TF.js <i>weights-only</i> model (face-api.js's "*-weights_manifest.json": the architecture lives in code):
    /// every named weight, dequantised, from the manifest's shards.
    /// </summary>
    public static IReadOnlyDictionary<string, TfjsTensor> ParseWeightsManifest(byte[] manifestJson, Func<string, byte[]> shard, string name = "weights_manifest.json")
    {
        using var doc = JsonDocument.Parse(manifestJson);
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"{name}: not a TF.js weights manifest (expected an array of weight groups)");
        }

        return ReadWeights(doc.RootElement, shard, name);
    }

    private static Dictionary<string, TfjsTensor> ReadWeights(JsonElement manifest, Func<string, byte[]> shard, string name)
    {
        var weights = new Dictionary<string, TfjsTensor>(StringComparer.Ordinal);
        foreach (var group in manifest.EnumerateArray())
        {
            var data = group.GetProperty("paths").EnumerateArray().SelectMany(p => shard(p.GetString()!)).ToArray();
            int offset = 0;
            foreach (var w in group.GetProperty("weights").EnumerateArray())
            {
                var t = ReadWeight(w, data, ref offset, name);
                weights[t.Name] = t;
            }

            if (offset != data.Length)
            {
                throw new InvalidDataException($"{name}: the weights manifest describes {offset} bytes, the shards hold {data.Length}");
            }
        }

        return weights;
    }

    private static string StripOutputIndex(string input)
    {
        int colon = input.LastIndexOf(':');
        return colon > 0 && input[(colon + 1)..].All(char.IsDigit) && input[(colon + 1)..] == "0" ? input[..colon] : input;
    }

    private static TfjsTensor ReadWeight(JsonElement w, byte[] data, ref int offset, string file)
    {
        string name = w.GetProperty("name").GetString()!;
        int[] shape = w.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        int count = shape.Aggregate(1, (a, b) => a * b);
        string dtype = w.GetProperty("dtype").GetString()!;
        string? quantised = w.TryGetProperty("quantization", out var q) ? q.GetProperty("dtype").GetString() : null;
        var values = new float[count];
        int[]? ints = null;
        int size = quantised switch { "float16" => 2, "uint8" => 1, "uint16" => 2, null => 4, _ => throw new NotSupportedException($"{file}: weight '{name}' quantised as {quantised}") };
        if (offset + (count * size) > data.Length)
        {
            throw new InvalidDataException($"{file}: weight '{name}' runs past the end of the shards");
        }

        var span = data.AsSpan(offset, count * size);
        switch (quantised)
        {
            case "float16":
                for (int i = 0; i < count; i++)
                {
                    values[i] = (float)BitConverter.ToHalf(span.Slice(2 * i, 2));
                }

                break;
            case "uint8" or "uint16":
                float scale = q.GetProperty("scale").GetSingle(), min = q.GetProperty("min").GetSingle();
                for (int i = 0; i < count; i++)
                {
                    values[i] = min + (scale * (size == 1 ? span[i] : BitConverter.ToUInt16(span.Slice(2 * i, 2))));
                }

                break;
            default:
                if (dtype == "int32")
                {
                    ints = new int[count];
                    for (int i = 0; i < count; i++)
                    {
                        ints[i] = BitConverter.ToInt32(span.Slice(4 * i, 4));
                        values[i] = ints[i];
                    }
                }
                else if (dtype == "float32")
                {
                    for (int i = 0; i < count; i++)
                    {
                        values[i] = BitConverter.ToSingle(span.Slice(4 * i, 4));
                    }
                }
                else
                {
                    throw new NotSupportedException($"{file}: weight '{name}' has dtype {dtype}");
                }

                break;
        }

        offset += count * size;
        return new TfjsTensor(name, shape, values, ints);
    }
}
