using Google.Protobuf;
using Onnx;

namespace FaceStream.Tools.Conversion;

/// <summary>Makes the batch dimension of an exported ONNX model symbolic (fixed at 1 by a tracing exporter).</summary>
public static class OnnxBatchPatcher
{
    public static byte[] MakeBatchDynamic(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var g = model.Graph;
        var initializers = new HashSet<string>(g.Initializer.Select(i => i.Name));
        foreach (var v in g.Input.Where(i => !initializers.Contains(i.Name)).Concat(g.Output))
        {
            var shape = v.Type?.TensorType?.Shape;
            if (shape is { Dim.Count: > 0 })
            {
                shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = "N" };
            }
        }

        // Intermediate shape annotations would pin the batch again.
        g.ValueInfo.Clear();
        foreach (var node in g.Node.Where(n => n.OpType == "Reshape"))
        {
            string shapeName = node.Input[1];
            var init = g.Initializer.FirstOrDefault(i => i.Name == shapeName);
            var constant = g.Node.FirstOrDefault(n => n.OpType == "Constant" && n.Output.Contains(shapeName))?.Attribute
                .FirstOrDefault(a => a.Name == "value")?.T;
            var tensor = init ?? constant
                ?? throw new NotSupportedException($"Reshape '{node.Name}' has a computed shape; cannot make the batch dynamic");
            PatchFirst(tensor);
        }

        return model.ToByteArray();
    }

    /// <summary>Shape [1, …] becomes [0, …]: Reshape copies dimension 0 (the batch) from its input.</summary>
    private static void PatchFirst(TensorProto t)
    {
        if (t.Int64Data.Count > 0)
        {
            if (t.Int64Data[0] == 1)
            {
                t.Int64Data[0] = 0;
            }

            return;
        }

        if (!t.RawData.IsEmpty)
        {
            var raw = t.RawData.ToByteArray();
            if (BitConverter.ToInt64(raw, 0) == 1)
            {
                BitConverter.GetBytes(0L).CopyTo(raw, 0);
                t.RawData = Google.Protobuf.ByteString.CopyFrom(raw);
            }
        }
    }
}
