using FaceStream.Inference.Graphs;
using Onnx;

namespace FaceStream.Tools.Conversion;

/// <summary>
/// Op-by-op TF.js graph model → ONNX for the float CNNs used here: Conv2D, DepthwiseConv2dNative, their fused forms
/// (_FusedConv2D, FusedDepthwiseConv2dNative, with BiasAdd and an activation incl. Prelu), _FusedMatMul/MatMul,
/// Add/AddV2/Sub/Mul/Minimum/Maximum, Relu, Relu6, Prelu, Sigmoid, Softmax, Mean, MaxPool, Pad (constant zero),
/// ConcatV2, Reshape (to a non-image shape), Identity.
/// </summary>
/// <remarks>
/// 4-D activations are kept in ONNX's NCHW order and the graph input becomes [N, C, H, W] (batch dynamic);
/// a TF "SAME" padding is ONNX <c>auto_pad=SAME_UPPER</c> (the extra pixel goes bottom/right, as in TF). Weights
/// are HWIO (depthwise HWCM) in TF and become OIHW (depthwise (C·M)1HW with group = C). A 1-D constant combined with
/// a 4-D activation is a per-channel vector and becomes [C, 1, 1]. Graph outputs are the nodes nobody consumes,
/// under their TF names.
/// </remarks>
public static class TfjsToOnnxConverter
{
    private sealed record Value(string Name, int Rank);

    public static byte[] Convert(TfjsGraphModel model, string inputName)
    {
        var g = new OnnxGraphBuilder("tfjs");
        var values = new Dictionary<string, Value>(StringComparer.Ordinal);
        var consumed = new HashSet<string>(model.Nodes.SelectMany(n => n.Inputs), StringComparer.Ordinal);
        var placeholders = model.Nodes.Where(n => n.Op == "Placeholder").ToList();
        if (placeholders.Count != 1)
        {
            throw new NotSupportedException($"expected one Placeholder (the image input), found {placeholders.Count}");
        }

        foreach (var node in model.Nodes)
        {
            string? outName = consumed.Contains(node.Name) ? null : node.Name;
            string Emit(string opType, string[] inputs, params (string, object)[] attrs) =>
                outName is null ? g.Op(opType, inputs, attrs) : g.OpNamed(outName, opType, inputs, attrs);

            Value Get(int i)
            {
                string name = node.Inputs[i];
                return values.TryGetValue(name, out var v) ? v
                    : throw new NotSupportedException($"node '{node.Name}' ({node.Op}) reads '{name}', which is neither a computed value nor an activation");
            }

            TfjsTensor Weight(int i) => model.Weights.TryGetValue(node.Inputs[i], out var t) ? t
                : throw new NotSupportedException($"node '{node.Name}' ({node.Op}) needs constant input '{node.Inputs[i]}'");

            bool IsConst(int i) => model.Weights.ContainsKey(node.Inputs[i]) && !values.ContainsKey(node.Inputs[i]);

            switch (node.Op)
            {
                case "Const":
                    break;
                case "Placeholder":
                {
                    var shape = node.Shape();
                    if (shape.Length != 4)
                    {
                        throw new NotSupportedException($"input '{node.Name}' is not an NHWC image (shape [{string.Join(",", shape)}])");
                    }

                    g.Input(inputName, TensorProto.Types.DataType.Float, "N", shape[3], shape[1] > 0 ? shape[1] : "H", shape[2] > 0 ? shape[2] : "W");
                    values[node.Name] = new Value(inputName, 4);
                    break;
                }

                case "Identity":
                    // A graph output under its own name needs a node of that name; otherwise a pass-through.
                    values[node.Name] = outName is null ? Get(0) : new Value(Emit("Identity", [Get(0).Name]), Get(0).Rank);
                    break;
                case "Conv2D" or "DepthwiseConv2dNative" or "_FusedConv2D" or "FusedDepthwiseConv2dNative":
                {
                    bool depthwise = node.Op.Contains("Depthwise", StringComparison.Ordinal);
                    var w = Weight(1);
                    var inputs = new List<string> { Get(0).Name, depthwise ? DepthwiseKernel(g, w) : ConvKernel(g, w) };
                    var fused = node.Op.StartsWith('_') || node.Op.StartsWith("Fused", StringComparison.Ordinal) ? node.Strs("fused_ops") : [];
                    if (fused.Length > 0 && fused[0] == "BiasAdd")
                    {
                        inputs.Add(g.Constant("bias", Weight(2).Values, Weight(2).Values.Length));
                    }
                    else if (fused.Length > 0)
                    {
                        throw new NotSupportedException($"node '{node.Name}': fused ops [{string.Join(",", fused)}] without a leading BiasAdd");
                    }

                    long[] strides = node.Ints("strides"), dilations = node.Ints("dilations");
                    string padding = node.Str("padding") ?? "VALID";
                    var attrs = new List<(string, object)>
                    {
                        ("kernel_shape", new long[] { w.Shape[0], w.Shape[1] }),
                        ("strides", strides.Length == 4 ? new[] { strides[1], strides[2] } : new long[] { 1, 1 }),
                        ("dilations", dilations.Length == 4 ? new[] { dilations[1], dilations[2] } : new long[] { 1, 1 }),
                    };
                    if (depthwise)
                    {
                        attrs.Add(("group", (long)w.Shape[2]));
                    }

                    attrs.Add(padding switch
                    {
                        "SAME" => ("auto_pad", "SAME_UPPER"),
                        "VALID" => ("pads", new long[] { 0, 0, 0, 0 }),
                        _ => throw new NotSupportedException($"node '{node.Name}': padding {padding}"),
                    });
                    string conv = fused.Length > 1 ? g.Op("Conv", [.. inputs], [.. attrs]) : Emit("Conv", [.. inputs], [.. attrs]);
                    values[node.Name] = new Value(fused.Length > 1 ? Activation(g, node, fused[1], conv, Emit, model) : conv, 4);
                    break;
                }

                case "_FusedMatMul" or "MatMul":
                {
                    var x = Get(0);
                    if (x.Rank != 2)
                    {
                        throw new NotSupportedException($"node '{node.Name}': MatMul on a rank-{x.Rank} input");
                    }

                    var w = Weight(1);
                    float[] kernel = node.Bool("transpose_b") ? Transpose2D(w.Values, w.Shape[0], w.Shape[1]) : w.Values;
                    long rows = node.Bool("transpose_b") ? w.Shape[1] : w.Shape[0], cols = node.Bool("transpose_b") ? w.Shape[0] : w.Shape[1];
                    var fused = node.Op == "_FusedMatMul" ? node.Strs("fused_ops") : [];
                    string product = fused.Length == 0 ? Emit("MatMul", [x.Name, g.Constant("kernel", kernel, rows, cols)]) : g.Op("MatMul", [x.Name, g.Constant("kernel", kernel, rows, cols)]);
                    if (fused.Length > 0 && fused[0] != "BiasAdd")
                    {
                        throw new NotSupportedException($"node '{node.Name}': fused ops [{string.Join(",", fused)}] without a leading BiasAdd");
                    }

                    string result = product;
                    if (fused.Length > 0)
                    {
                        var bias = g.Constant("bias", Weight(2).Values, Weight(2).Values.Length);
                        result = fused.Length > 1 ? g.Op("Add", [product, bias]) : Emit("Add", [product, bias]);
                        if (fused.Length > 1)
                        {
                            result = Activation(g, node, fused[1], result, Emit, model);
                        }
                    }

                    values[node.Name] = new Value(result, 2);
                    break;
                }

                case "Add" or "AddV2" or "Sub" or "Mul" or "Minimum" or "Maximum" or "RealDiv":
                {
                    string op = node.Op switch { "AddV2" => "Add", "Minimum" => "Min", "Maximum" => "Max", "RealDiv" => "Div", _ => node.Op };
                    bool c0 = IsConst(0), c1 = IsConst(1);
                    if (c0 && c1)
                    {
                        throw new NotSupportedException($"node '{node.Name}': {node.Op} of two constants");
                    }

                    int rank = c0 ? Get(1).Rank : Get(0).Rank;
                    string a = c0 ? Broadcast(g, Weight(0), rank) : Get(0).Name;
                    string b = c1 ? Broadcast(g, Weight(1), rank) : Get(1).Name;
                    values[node.Name] = new Value(Emit(op, [a, b]), rank);
                    break;
                }

                case "Relu" or "Relu6" or "Sigmoid" or "Tanh":
                {
                    var x = Get(0);
                    values[node.Name] = new Value(Activation(g, node, node.Op, x.Name, Emit, model), x.Rank);
                    break;
                }

                case "Prelu":
                {
                    var x = Get(0);
                    values[node.Name] = new Value(Emit("PRelu", [x.Name, PreluSlope(g, Weight(1), x.Rank)]), x.Rank);
                    break;
                }

                case "MaxPool":
                {
                    var x = Get(0);
                    long[] k = node.Ints("ksize"), strides = node.Ints("strides");
                    if (x.Rank != 4 || k.Length != 4 || strides.Length != 4 || k[0] != 1 || k[3] != 1)
                    {
                        throw new NotSupportedException($"node '{node.Name}': MaxPool other than spatial NHWC");
                    }

                    string padding = node.Str("padding") ?? "VALID";
                    values[node.Name] = new Value(Emit("MaxPool", [x.Name], ("kernel_shape", new[] { k[1], k[2] }), ("strides", new[] { strides[1], strides[2] }), padding switch
                    {
                        "SAME" => ("auto_pad", (object)"SAME_UPPER"),
                        "VALID" => ("pads", new long[] { 0, 0, 0, 0 }),
                        _ => throw new NotSupportedException($"node '{node.Name}': padding {padding}"),
                    }), 4);
                    break;
                }

                case "Pad":
                {
                    var x = Get(0);
                    var p = Weight(1).Ints ?? throw new NotSupportedException($"node '{node.Name}': paddings are not int32");
                    if (x.Rank != 4 || p.Length != 8)
                    {
                        throw new NotSupportedException($"node '{node.Name}': Pad of a rank-{x.Rank} value");
                    }

                    // TF [[n0,n1],[h0,h1],[w0,w1],[c0,c1]] → ONNX NCHW [n0,c0,h0,w0, n1,c1,h1,w1]; zeros (TF's default).
                    long[] pads = [p[0], p[6], p[2], p[4], p[1], p[7], p[3], p[5]];
                    values[node.Name] = new Value(Emit("Pad", [x.Name, g.ConstantInt64("pads", pads)], ("mode", "constant")), 4);
                    break;
                }

                case "ConcatV2":
                {
                    var parts = Enumerable.Range(0, node.Inputs.Count - 1).Select(Get).ToList();
                    int rank = parts[0].Rank;
                    var axis = Weight(node.Inputs.Count - 1).Ints ?? throw new NotSupportedException($"node '{node.Name}': concat axis is not int32");
                    int a = (axis[0] + rank) % rank;
                    long mapped = rank == 4 ? new[] { 0, 2, 3, 1 }[a] : a;
                    values[node.Name] = new Value(Emit("Concat", [.. parts.Select(v => v.Name)], ("axis", mapped)), rank);
                    break;
                }

                case "Reshape":
                {
                    var x = Get(0);
                    var shape = Weight(1).Ints ?? throw new NotSupportedException($"node '{node.Name}': Reshape target is not int32");
                    if (shape.Length == 4)
                    {
                        throw new NotSupportedException($"node '{node.Name}': Reshape to a 4-D (image) shape");
                    }

                    // TF flattens NHWC, so an NCHW activation goes back to NHWC before it is flattened.
                    string src = x.Rank == 4 ? g.Op("Transpose", [x.Name], ("perm", new long[] { 0, 2, 3, 1 })) : x.Name;
                    values[node.Name] = new Value(Emit("Reshape", [src, g.ConstantInt64("shape", [.. shape.Select(d => (long)d)])]), shape.Length);
                    break;
                }

                case "Softmax":
                {
                    var x = Get(0);
                    values[node.Name] = new Value(Emit("Softmax", [x.Name], ("axis", x.Rank == 4 ? 1L : -1L)), x.Rank);
                    break;
                }

                case "Mean":
                {
                    var x = Get(0);
                    var axes = Weight(1).Ints ?? throw new NotSupportedException($"node '{node.Name}': Mean axes are not int32");
                    // NHWC axis → NCHW axis.
                    long[] mapped = axes.Select(a => x.Rank == 4 ? (long)new[] { 0, 2, 3, 1 }[(a + 4) % 4] : a).ToArray();
                    bool keep = node.Bool("keep_dims");
                    if (x.Rank == 4 && keep && !(mapped.Contains(2) && mapped.Contains(3) && mapped.Length == 2))
                    {
                        throw new NotSupportedException($"node '{node.Name}': Mean over NHWC axes [{string.Join(",", axes)}] keeping dims");
                    }

                    values[node.Name] = new Value(Emit("ReduceMean", [x.Name, g.ConstantInt64("axes", mapped)], ("keepdims", keep ? 1L : 0L)), keep ? x.Rank : x.Rank - mapped.Length);
                    break;
                }

                default:
                    throw new NotSupportedException($"TF.js op '{node.Op}' (node '{node.Name}') is not supported by the importer");
            }
        }

        foreach (var node in model.Nodes.Where(n => !consumed.Contains(n.Name) && values.ContainsKey(n.Name) && n.Op is not ("Const" or "Placeholder")))
        {
            g.Output(node.Name, TensorProto.Types.DataType.Float);
        }

        return g.ToBytes("facestream-tfjs");
    }

    private static string Activation(OnnxGraphBuilder g, TfjsNode node, string kind, string x, Func<string, string[], (string, object)[], string> emit, TfjsGraphModel model) => kind switch
    {
        "Relu" => emit("Relu", [x], []),
        "Relu6" => emit("Clip", [x, g.Constant("zero", [0f]), g.Constant("six", [6f])], []),
        "Sigmoid" => emit("Sigmoid", [x], []),
        "Tanh" => emit("Tanh", [x], []),
        "Prelu" when node.Inputs.Count > 3 && model.Weights.TryGetValue(node.Inputs[3], out var alpha) =>
            emit("PRelu", [x, PreluSlope(g, alpha, 4)], []),
        _ => throw new NotSupportedException($"node '{node.Name}': activation {kind}"),
    };

    /// <summary>
    /// A Prelu slope: per channel ([C], or Keras' [1, 1, C] over NHWC) becomes [C, 1, 1] next to an NCHW activation.
    /// tfjs-converter's Prelu fusion stores the slope itself (it negates Keras' "Neg" constant, keeping that name).
    /// The installer rewrites the [C, 1, 1] ones in a form ONNX Runtime keeps in its blocked layout (<see cref="PreluDecomposition"/>).
    /// </summary>
    private static string PreluSlope(OnnxGraphBuilder g, TfjsTensor alpha, int rank) =>
        rank == 4 ? g.Constant("alpha", alpha.Values, alpha.Values.Length, 1, 1) : g.Constant("alpha", alpha.Values, alpha.Values.Length);

    /// <summary>A constant operand: a vector next to an NCHW activation becomes [C, 1, 1]; scalars and same-rank tensors stay.</summary>
    private static string Broadcast(OnnxGraphBuilder g, TfjsTensor t, int rank)
    {
        if (t.Shape.Length == 0)
        {
            return g.Constant("scalar", t.Values);
        }

        if (t.Shape.Length == 1 && rank == 4)
        {
            return g.Constant("channels", t.Values, t.Shape[0], 1, 1);
        }

        if (t.Shape.Length == 1 || (rank == 2 && t.Shape.Length == 2))
        {
            return g.Constant("vector", t.Values, t.Shape.Select(d => (long)d).ToArray());
        }

        throw new NotSupportedException($"constant '{t.Name}' of shape [{string.Join(",", t.Shape)}] next to a rank-{rank} activation");
    }

    private static string ConvKernel(OnnxGraphBuilder g, TfjsTensor w) =>
        g.Constant("kernel", HwioToOihw(w), w.Shape[3], w.Shape[2], w.Shape[0], w.Shape[1]);

    /// <summary>A TF conv kernel HWIO → ONNX's OIHW (output channel c's weights are the c-th contiguous block).</summary>
    internal static float[] HwioToOihw(TfjsTensor w)
    {
        int kh = w.Shape[0], kw = w.Shape[1], ci = w.Shape[2], co = w.Shape[3];
        var o = new float[w.Values.Length];
        for (int y = 0; y < kh; y++)
        {
            for (int x = 0; x < kw; x++)
            {
                for (int i = 0; i < ci; i++)
                {
                    for (int c = 0; c < co; c++)
                    {
                        o[(((((c * ci) + i) * kh) + y) * kw) + x] = w.Values[(((((y * kw) + x) * ci) + i) * co) + c];
                    }
                }
            }
        }

        return o;
    }

    /// <summary>HWCM → (C·M)1HW: output channel c·M + m.</summary>
    private static string DepthwiseKernel(OnnxGraphBuilder g, TfjsTensor w)
    {
        int kh = w.Shape[0], kw = w.Shape[1], c = w.Shape[2], m = w.Shape[3];
        var o = new float[w.Values.Length];
        for (int y = 0; y < kh; y++)
        {
            for (int x = 0; x < kw; x++)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    for (int k = 0; k < m; k++)
                    {
                        o[(((((ch * m) + k) * kh) + y) * kw) + x] = w.Values[(((((y * kw) + x) * c) + ch) * m) + k];
                    }
                }
            }
        }

        return g.Constant("kernel", o, c * m, 1, kh, kw);
    }

    private static float[] Transpose2D(float[] v, int rows, int cols)
    {
        var t = new float[v.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                t[(c * rows) + r] = v[(r * cols) + c];
            }
        }

        return t;
    }
}
