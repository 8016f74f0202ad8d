using FaceStream.Inference.Graphs;
using Onnx;

namespace FaceStream.Tools.Conversion;

/// <summary>How a TFLite graph is turned into ONNX.</summary>
/// <param name="TransposedInput">
/// The graph was trained on images fed as [W,H] (the facenet MTCNN port): kernels are swapped H↔W so the ONNX graph
/// takes a normal [N,3,H,W] image.
/// </param>
/// <param name="DynamicSpatial">Input height and width become symbolic (fully convolutional P-Net).</param>
public sealed record TfliteConversionOptions(bool TransposedInput, bool DynamicSpatial, string InputName = "input");

/// <summary>Op-by-op TFLite → ONNX conversion for the float32 CNNs used here (NHWC → NCHW, dynamic batch).</summary>
/// <remarks>
/// Every 4-D activation is kept in ONNX's NCHW order; <see cref="TfliteConversionOptions.TransposedInput"/> decides
/// which TFLite spatial axis becomes ONNX H. Before a flatten (Reshape / FullyConnected on a 4-D tensor) the data is
/// transposed back to TFLite order so the fully-connected weights still line up. PReLU, which these files spell as
/// Relu/Neg/Mul/Add chains, is fused back into one PRelu node (which the installer then rewrites in a form ONNX Runtime
/// keeps in its blocked layout: <see cref="PreluDecomposition"/>).
/// </remarks>
public static class TfliteToOnnxConverter
{
    private sealed class Value(string name, int rank)
    {
        public string Name { get; } = name;
        public int Rank { get; } = rank;
    }

    public static byte[] Convert(TfliteModel model, TfliteConversionOptions options)
    {
        if (model.Inputs.Length != 1)
        {
            throw new NotSupportedException($"expected one graph input, found {model.Inputs.Length}");
        }

        // axisMap[tfliteAxis] = onnxAxis for 4-D tensors.
        int[] axisMap = options.TransposedInput ? [0, 3, 2, 1] : [0, 2, 3, 1];
        // perm that turns our NCHW tensor back into TFLite's NHWC order (for flattening).
        long[] toTflite = axisMap.Select(a => (long)a).ToArray();

        var g = new OnnxGraphBuilder("converted");
        var values = new Dictionary<int, Value>();
        var inT = model.Tensors[model.Inputs[0]];
        if (inT.Shape.Length != 4)
        {
            throw new NotSupportedException("expected an NHWC image input");
        }

        long onnxH = inT.Shape[Array.IndexOf(axisMap, 2)];
        long onnxW = inT.Shape[Array.IndexOf(axisMap, 3)];
        g.Input(options.InputName, TensorProto.Types.DataType.Float, "N", inT.Shape[3],
            options.DynamicSpatial ? "H" : onnxH, options.DynamicSpatial ? "W" : onnxW);
        values[inT.Index] = new Value(options.InputName, 4);
        int tfliteBatch = inT.Shape[0];

        var producers = new Dictionary<int, TfliteOperator>();
        foreach (var op in model.Operators)
        {
            foreach (var o in op.Outputs)
            {
                producers[o] = op;
            }
        }

        var outputs = new HashSet<int>(model.Outputs);
        foreach (var op in model.Operators)
        {
            int outIndex = op.Outputs[0];
            var outT = model.Tensors[outIndex];
            string? outName = outputs.Contains(outIndex) ? outT.Name : null;
            string Emit(string opType, string[] inputs, params (string, object)[] attrs)
                => outName is null ? g.Op(opType, inputs, attrs) : g.OpNamed(outName, opType, inputs, attrs);

            // Rank of the non-constant operand of this op decides how a 1-D constant broadcasts.
            int activeRank = op.Inputs.Where(i => i >= 0 && values.ContainsKey(i)).Select(i => values[i].Rank).DefaultIfEmpty(4).Max();

            Value Get(int index)
            {
                if (values.TryGetValue(index, out var v))
                {
                    return v;
                }

                var t = model.Tensors[index];
                if (t.Data is null)
                {
                    throw new InvalidDataException($"tensor '{t.Name}' is read before it is produced");
                }

                // Per-channel constants broadcast against NCHW need [C,1,1]; other shapes keep TFLite's.
                bool perChannel = t.Shape.Length == 1 && activeRank == 4;
                long[] dims = perChannel ? [t.Shape[0], 1, 1] : t.Shape.Select(d => (long)d).ToArray();
                return new Value(g.Constant("const", t.Data, dims), perChannel ? 3 : t.Shape.Length);
            }

            string result;
            switch (op.Op)
            {
                case TfliteOp.Conv2D:
                case TfliteOp.DepthwiseConv2D:
                    result = EmitConv(g, model, op, Get(op.Inputs[0]).Name, options.TransposedInput, outName, out _);
                    break;
                case TfliteOp.MaxPool2D:
                case TfliteOp.AveragePool2D:
                {
                    var (kh, kw) = options.TransposedInput ? (op.FilterW, op.FilterH) : (op.FilterH, op.FilterW);
                    var (sh, sw) = options.TransposedInput ? (op.StrideW, op.StrideH) : (op.StrideH, op.StrideW);
                    result = Emit(op.Op == TfliteOp.MaxPool2D ? "MaxPool" : "AveragePool", [Get(op.Inputs[0]).Name],
                        ("kernel_shape", new long[] { kh, kw }), ("strides", new long[] { sh, sw }),
                        ("auto_pad", op.Padding == "SAME" ? "SAME_UPPER" : "VALID"));
                    break;
                }

                case TfliteOp.FullyConnected:
                {
                    var x = Get(op.Inputs[0]);
                    var w = model.Tensors[op.Inputs[1]];
                    string flat = x.Name;
                    if (x.Rank != 2)
                    {
                        if (x.Rank == 4)
                        {
                            flat = g.Op("Transpose", [flat], ("perm", toTflite));
                        }

                        flat = g.Op("Reshape", [flat, g.ConstantInt64("shape", -1, w.Shape[1])]);
                    }

                    string wName = g.Constant("fc_w", w.Data!, w.Shape[0], w.Shape[1]);
                    var inputs = new List<string> { flat, wName };
                    if (op.Inputs.Length > 2 && op.Inputs[2] >= 0)
                    {
                        var b = model.Tensors[op.Inputs[2]];
                        inputs.Add(g.Constant("fc_b", b.Data!, b.Shape[0]));
                    }

                    result = op.Activation == TfliteActivation.None
                        ? Emit("Gemm", inputs.ToArray(), ("transB", 1L))
                        : g.Op("Gemm", inputs.ToArray(), ("transB", 1L));
                    break;
                }

                case TfliteOp.Relu:
                    result = Emit("Relu", [Get(op.Inputs[0]).Name]);
                    break;
                case TfliteOp.Neg:
                    result = Emit("Neg", [Get(op.Inputs[0]).Name]);
                    break;
                case TfliteOp.Abs:
                    result = Emit("Abs", [Get(op.Inputs[0]).Name]);
                    break;
                case TfliteOp.Exp:
                    result = Emit("Exp", [Get(op.Inputs[0]).Name]);
                    break;
                case TfliteOp.Add:
                    result = TryFusePrelu(model, producers, op, values, g, outName)
                        ?? Emit("Add", [Get(op.Inputs[0]).Name, Get(op.Inputs[1]).Name]);
                    break;
                case TfliteOp.Mul:
                    result = Emit("Mul", [Get(op.Inputs[0]).Name, Get(op.Inputs[1]).Name]);
                    break;
                case TfliteOp.Sub:
                    result = Emit("Sub", [Get(op.Inputs[0]).Name, Get(op.Inputs[1]).Name]);
                    break;
                case TfliteOp.Div:
                    result = Emit("Div", [Get(op.Inputs[0]).Name, Get(op.Inputs[1]).Name]);
                    break;
                case TfliteOp.ReduceMax:
                case TfliteOp.Sum:
                case TfliteOp.Mean:
                {
                    var x = Get(op.Inputs[0]);
                    var axesT = model.Tensors[op.Inputs[1]];
                    int[] axes = axesT.IntData ?? throw new InvalidDataException("reduction axes must be constant");
                    long[] mapped = axes.Select(a => (long)(x.Rank == 4 ? axisMap[a < 0 ? a + 4 : a] : a)).ToArray();
                    string type = op.Op switch { TfliteOp.ReduceMax => "ReduceMax", TfliteOp.Sum => "ReduceSum", _ => "ReduceMean" };
                    result = Emit(type, [x.Name, g.ConstantInt64("axes", mapped)], ("keepdims", op.KeepDims ? 1L : 0L));
                    if (!op.KeepDims && x.Rank == 4)
                    {
                        throw new NotSupportedException("reductions that drop 4-D axes are not supported");
                    }

                    break;
                }

                case TfliteOp.Reshape:
                {
                    var x = Get(op.Inputs[0]);
                    int[] shape = op.NewShape ?? model.Tensors[op.Inputs[1]].IntData
                        ?? throw new InvalidDataException("reshape target must be constant");
                    string src = x.Rank == 4 ? g.Op("Transpose", [x.Name], ("perm", toTflite)) : x.Name;
                    long[] target = shape.Select((d, i) => i == 0 && d == tfliteBatch ? -1L : d).ToArray();
                    result = Emit("Reshape", [src, g.ConstantInt64("shape", target)]);
                    if (target.Length == 4)
                    {
                        throw new NotSupportedException("reshape to 4-D is not supported");
                    }

                    break;
                }

                default:
                    throw new NotSupportedException($"TFLite operator {op.Op} is not supported by the converter");
            }

            result = ApplyActivation(g, op, result, outName);
            values[outIndex] = new Value(result, outT.Shape.Length);
        }

        foreach (int o in model.Outputs)
        {
            var t = model.Tensors[o];
            if (values[o].Name != t.Name)
            {
                g.OpNamed(t.Name, "Identity", [values[o].Name]);
            }

            g.Output(t.Name, TensorProto.Types.DataType.Float);
        }

        g.RemoveDeadNodes();
        return g.ToBytes("facestream-tflite-importer");
    }

    private static string ApplyActivation(OnnxGraphBuilder g, TfliteOperator op, string x, string? outName)
    {
        if (op.Activation == TfliteActivation.None || op.Op is TfliteOp.Conv2D or TfliteOp.DepthwiseConv2D)
        {
            return x; // convs apply their activation inside EmitConv
        }

        return EmitActivation(g, op.Activation, x, outName);
    }

    private static string EmitActivation(OnnxGraphBuilder g, TfliteActivation act, string x, string? outName)
    {
        string Named(string type, string[] inputs) => outName is null ? g.Op(type, inputs) : g.OpNamed(outName, type, inputs);
        return act switch
        {
            TfliteActivation.Relu => Named("Relu", [x]),
            TfliteActivation.Relu6 => Named("Clip", [x, g.Constant("lo", [0f]), g.Constant("hi", [6f])]),
            TfliteActivation.Tanh => Named("Tanh", [x]),
            _ => throw new NotSupportedException($"fused activation {act} is not supported"),
        };
    }

    private static string EmitConv(OnnxGraphBuilder g, TfliteModel model, TfliteOperator op, string x, bool transposed, string? outName, out long channels)
    {
        var w = model.Tensors[op.Inputs[1]];
        if (w.Data is null)
        {
            throw new InvalidDataException("convolution weights must be constant");
        }

        bool depthwise = op.Op == TfliteOp.DepthwiseConv2D;
        // TFLite: conv OHWI, depthwise 1HWC. ONNX: OIHW, depthwise C1HW with group = C.
        int o = depthwise ? w.Shape[3] : w.Shape[0];
        int kh = w.Shape[1], kw = w.Shape[2];
        int i = depthwise ? 1 : w.Shape[3];
        if (depthwise && op.DepthMultiplier != 1)
        {
            throw new NotSupportedException("depthwise convolution with depth_multiplier != 1 is not supported");
        }

        var (okh, okw) = transposed ? (kw, kh) : (kh, kw);
        var data = new float[w.Data.Length];
        for (int oc = 0; oc < o; oc++)
        {
            for (int ic = 0; ic < i; ic++)
            {
                for (int a = 0; a < okh; a++)
                {
                    for (int b = 0; b < okw; b++)
                    {
                        // (ty, tx) = position in the TFLite kernel.
                        var (ty, tx) = transposed ? (b, a) : (a, b);
                        int src = depthwise
                            ? (((ty * kw) + tx) * o) + oc
                            : (((((oc * kh) + ty) * kw) + tx) * i) + ic;
                        data[(((((oc * i) + ic) * okh) + a) * okw) + b] = w.Data[src];
                    }
                }
            }
        }

        var inputs = new List<string> { x, g.Constant("conv_w", data, o, i, okh, okw) };
        if (op.Inputs.Length > 2 && op.Inputs[2] >= 0)
        {
            var bias = model.Tensors[op.Inputs[2]];
            inputs.Add(g.Constant("conv_b", bias.Data!, bias.Shape[0]));
        }

        var (sh, sw) = transposed ? (op.StrideW, op.StrideH) : (op.StrideH, op.StrideW);
        var (dh, dw) = transposed ? (op.DilationW, op.DilationH) : (op.DilationH, op.DilationW);
        var attrs = new List<(string, object)>
        {
            ("kernel_shape", new long[] { okh, okw }),
            ("strides", new long[] { sh, sw }),
            ("dilations", new long[] { dh, dw }),
            ("auto_pad", op.Padding == "SAME" ? "SAME_UPPER" : "VALID"),
        };
        if (depthwise)
        {
            attrs.Add(("group", (long)o));
        }

        channels = o;
        bool hasAct = op.Activation != TfliteActivation.None;
        string conv = hasAct || outName is null
            ? g.Op("Conv", inputs.ToArray(), attrs.ToArray())
            : g.OpNamed(outName, "Conv", inputs.ToArray(), attrs.ToArray());
        return hasAct ? EmitActivation(g, op.Activation, conv, outName) : conv;
    }

    /// <summary>
    /// Recognises relu(x) + a·(−relu(−x)) (MTCNN) and relu(x) + a·(x − |x|) (MobileFaceNet) and emits PRelu.
    /// </summary>
    private static string? TryFusePrelu(TfliteModel model, Dictionary<int, TfliteOperator> producers, TfliteOperator add,
        Dictionary<int, Value> values, OnnxGraphBuilder g, string? outName)
    {
        TfliteOperator? P(int t) => producers.GetValueOrDefault(t);
        foreach (var (reluSide, mulSide) in new[] { (add.Inputs[0], add.Inputs[1]), (add.Inputs[1], add.Inputs[0]) })
        {
            var relu = P(reluSide);
            var mul = P(mulSide);
            if (relu?.Op != TfliteOp.Relu || mul?.Op != TfliteOp.Mul)
            {
                continue;
            }

            int x = relu.Inputs[0];
            int alphaIdx = -1, branch = -1;
            foreach (var (a, b) in new[] { (mul.Inputs[0], mul.Inputs[1]), (mul.Inputs[1], mul.Inputs[0]) })
            {
                if (model.Tensors[a].Data is { } && model.Tensors[a].Shape.Length == 1)
                {
                    alphaIdx = a;
                    branch = b;
                }
            }

            if (alphaIdx < 0)
            {
                continue;
            }

            float factor;
            var bOp = P(branch);
            // Pattern 1: Neg(Relu(Neg(x))) == min(x, 0).
            if (bOp?.Op == TfliteOp.Neg && P(bOp.Inputs[0]) is { Op: TfliteOp.Relu } r2 && P(r2.Inputs[0]) is { Op: TfliteOp.Neg } n1 && n1.Inputs[0] == x)
            {
                factor = 1f;
            }
            // Pattern 2: x − |x| == 2·min(x, 0).
            else if (bOp?.Op == TfliteOp.Sub && bOp.Inputs[0] == x && P(bOp.Inputs[1]) is { Op: TfliteOp.Abs } abs && abs.Inputs[0] == x)
            {
                factor = 2f;
            }
            else
            {
                continue;
            }

            var alpha = model.Tensors[alphaIdx];
            float[] slope = alpha.Data!.Select(v => v * factor).ToArray();
            var xv = values[x];
            long[] dims = xv.Rank == 4 ? [slope.Length, 1, 1] : [slope.Length];
            string s = g.Constant("prelu_slope", slope, dims);
            return outName is null ? g.Op("PRelu", [xv.Name, s]) : g.OpNamed(outName, "PRelu", [xv.Name, s]);
        }

        return null;
    }
}
