using Google.Protobuf;
using Onnx;

namespace FaceStream.Inference.Graphs;

/// <summary>Builds an ONNX model in code: nodes, initializers, typed inputs/outputs, then serialises it.</summary>
/// <remarks>Used by the TFLite importer and by the image-preprocessing graphs that run resizing natively in ORT.</remarks>
public sealed class OnnxGraphBuilder
{
    /// <summary>The opset every generated graph targets (Resize antialias and Reduce* axes-as-input need 18).</summary>
    public const int Opset = 18;

    private readonly GraphProto _graph;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private int _counter;

    public OnnxGraphBuilder(string name)
    {
        _graph = new GraphProto { Name = name };
    }

    /// <summary>A fresh tensor name with the given prefix.</summary>
    public string Fresh(string prefix)
    {
        string n;
        do
        {
            n = $"{prefix}_{_counter++}";
        }
        while (!_names.Add(n));

        return n;
    }

    /// <summary>A dimension is either a fixed size or a symbolic name.</summary>
    public readonly record struct Dim(long Value, string? Param)
    {
        public static implicit operator Dim(long v) => new(v, null);
        public static implicit operator Dim(string p) => new(0, p);
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, IReadOnlyList<Dim>? shape)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)type };
        if (shape is not null)
        {
            var s = new TensorShapeProto();
            foreach (var d in shape)
            {
                s.Dim.Add(d.Param is null
                    ? new TensorShapeProto.Types.Dimension { DimValue = d.Value }
                    : new TensorShapeProto.Types.Dimension { DimParam = d.Param });
            }

            tensorType.Shape = s;
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }

    public string Input(string name, TensorProto.Types.DataType type, params Dim[] shape)
    {
        _names.Add(name);
        _graph.Input.Add(ValueInfo(name, type, shape));
        return name;
    }

    public void Output(string name, TensorProto.Types.DataType type, IReadOnlyList<Dim>? shape = null)
    {
        _graph.Output.Add(ValueInfo(name, type, shape));
    }

    public string Constant(string prefix, float[] data, params long[] dims)
    {
        string name = Fresh(prefix);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        var bytes = new byte[data.Length * sizeof(float)];
        Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
        t.RawData = ByteString.CopyFrom(bytes);
        _graph.Initializer.Add(t);
        return name;
    }

    public string ConstantInt64(string prefix, params long[] data)
    {
        string name = Fresh(prefix);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(data.Length);
        t.Int64Data.AddRange(data);
        _graph.Initializer.Add(t);
        return name;
    }

    /// <summary>Adds a node; returns the names of its outputs (fresh names unless given).</summary>
    public string[] Node(string opType, string[] inputs, int outputCount = 1, string[]? outputNames = null, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = Fresh(opType) };
        node.Input.AddRange(inputs);
        var outputs = outputNames ?? Enumerable.Range(0, outputCount).Select(_ => Fresh(opType.ToLowerInvariant())).ToArray();
        foreach (var o in outputs)
        {
            _names.Add(o);
        }

        node.Output.AddRange(outputs);
        foreach (var (name, value) in attributes)
        {
            node.Attribute.Add(Attribute(name, value));
        }

        _graph.Node.Add(node);
        return outputs;
    }

    /// <summary>Single-output convenience overload.</summary>
    public string Op(string opType, string[] inputs, params (string Name, object Value)[] attributes)
        => Node(opType, inputs, 1, null, attributes)[0];

    /// <summary>Single-output node whose output has a chosen name (graph outputs keep stable names).</summary>
    public string OpNamed(string outputName, string opType, string[] inputs, params (string Name, object Value)[] attributes)
        => Node(opType, inputs, 1, [outputName], attributes)[0];

    private static AttributeProto Attribute(string name, object value) => value switch
    {
        long l => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = l },
        int i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
        float f => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = f },
        string s => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(s) },
        long[] ls => WithInts(name, ls),
        int[] ints => WithInts(name, ints.Select(x => (long)x).ToArray()),
        _ => throw new ArgumentException($"unsupported attribute type {value.GetType()} for '{name}'"),
    };

    private static AttributeProto WithInts(string name, long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    /// <summary>Drops nodes whose outputs nobody reads (left behind by pattern fusion).</summary>
    public void RemoveDeadNodes()
    {
        bool changed = true;
        while (changed)
        {
            var used = new HashSet<string>(_graph.Output.Select(o => o.Name), StringComparer.Ordinal);
            foreach (var n in _graph.Node)
            {
                used.UnionWith(n.Input);
            }

            var dead = _graph.Node.Where(n => !n.Output.Any(used.Contains)).ToList();
            changed = dead.Count > 0;
            foreach (var d in dead)
            {
                _graph.Node.Remove(d);
            }
        }

        var stillUsed = new HashSet<string>(_graph.Node.SelectMany(n => n.Input), StringComparer.Ordinal);
        foreach (var init in _graph.Initializer.Where(i => !stillUsed.Contains(i.Name)).ToList())
        {
            _graph.Initializer.Remove(init);
        }
    }

    public byte[] ToBytes(string producer = "facestream")
    {
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = producer,
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model.ToByteArray();
    }
}
