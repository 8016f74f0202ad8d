using FaceStream.Core.Imaging;
using Google.Protobuf;
using Onnx;

namespace FaceStream.Inference.Graphs;

/// <summary>
/// Puts byte-image preprocessing in front of a network inside ONNX Runtime: uint8 [N,H,W,C] interleaved →
/// float [N,3,H,W] in RGB order, (v − mean)·scale. Feeding bytes keeps normalisation native and the input 4× smaller.
/// </summary>
public static class OnnxImagePrefix
{
    /// <summary>Name of the byte-image input of a prefixed graph.</summary>
    public const string ImageInput = "image";

    public static byte[] Prepend(byte[] network, string networkInput, PixelFormat format, float mean, float scale)
    {
        var model = ModelProto.Parser.ParseFrom(network);
        var graph = model.Graph;
        var oldInput = graph.Input.FirstOrDefault(i => i.Name == networkInput)
            ?? throw new ArgumentException($"network has no input '{networkInput}'");

        var prefix = new OnnxGraphBuilder("prefix");
        prefix.Input(ImageInput, TensorProto.Types.DataType.Uint8, "N", "H", "W", format.BytesPerPixel());
        string f = prefix.Op("Cast", [ImageInput], ("to", (long)TensorProto.Types.DataType.Float));
        string t = prefix.Op("Transpose", [f], ("perm", new long[] { 0, 3, 1, 2 }));
        var (r, g, b) = format.ChannelOffsets();
        string rgb = prefix.Op("Gather", [t, prefix.ConstantInt64("rgb", r, g, b)], ("axis", 1L));
        string centred = prefix.Op("Sub", [rgb, prefix.Constant("mean", [mean])]);
        string renamed = "prefix_" + networkInput;
        prefix.OpNamed(renamed, "Mul", [centred, prefix.Constant("scale", [scale])]);
        var prefixGraph = ModelProto.Parser.ParseFrom(prefix.ToBytes()).Graph;

        foreach (var node in graph.Node)
        {
            for (int i = 0; i < node.Input.Count; i++)
            {
                if (node.Input[i] == networkInput)
                {
                    node.Input[i] = renamed;
                }
            }
        }

        var nodes = prefixGraph.Node.Concat(graph.Node).ToList();
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        graph.Initializer.AddRange(prefixGraph.Initializer);
        graph.Input.Remove(oldInput);
        graph.Input.Insert(0, prefixGraph.Input[0]);
        return model.ToByteArray();
    }
}
