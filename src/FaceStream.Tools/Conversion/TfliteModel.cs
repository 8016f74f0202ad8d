using System.Runtime.InteropServices;

namespace FaceStream.Tools.Conversion;

/// <summary>TFLite builtin operator codes that the face models use (values from the public TFLite schema).</summary>
public enum TfliteOp
{
    Add = 0,
    AveragePool2D = 1,
    Concatenation = 2,
    Conv2D = 3,
    DepthwiseConv2D = 4,
    FullyConnected = 9,
    Logistic = 14,
    MaxPool2D = 17,
    Mul = 18,
    Relu = 19,
    Relu6 = 21,
    Reshape = 22,
    Softmax = 25,
    Pad = 34,
    Transpose = 39,
    Mean = 40,
    Sub = 41,
    Div = 42,
    Exp = 47,
    Prelu = 54,
    Neg = 59,
    Sum = 74,
    Sqrt = 75,
    Rsqrt = 76,
    ReduceMax = 82,
    Abs = 101,
}

/// <summary>TFLite fused activation (ActivationFunctionType).</summary>
public enum TfliteActivation : byte
{
    None = 0,
    Relu = 1,
    ReluN1To1 = 2,
    Relu6 = 3,
    Tanh = 4,
}

/// <summary>One tensor of a TFLite graph; <see cref="Data"/> is set for constants (weights).</summary>
public sealed record TfliteTensor(int Index, string Name, int[] Shape, int Type, float[]? Data)
{
    /// <summary>TFLite TensorType.FLOAT32.</summary>
    public const int Float32 = 0;

    /// <summary>TFLite TensorType.INT32.</summary>
    public const int Int32 = 2;

    /// <summary>Constant data read as int32 (shapes, axes).</summary>
    public int[]? IntData { get; init; }

    public bool IsConstant => Data is not null || IntData is not null;
}

/// <summary>One operator with its decoded options (only the fields the converter needs).</summary>
public sealed record TfliteOperator(
    TfliteOp Op,
    int[] Inputs,
    int[] Outputs,
    string Padding,
    int StrideH,
    int StrideW,
    int FilterH,
    int FilterW,
    int DilationH,
    int DilationW,
    int DepthMultiplier,
    TfliteActivation Activation,
    bool KeepDims,
    int[]? NewShape);

/// <summary>A parsed TFLite model (first subgraph).</summary>
public sealed class TfliteModel
{
    public required IReadOnlyList<TfliteTensor> Tensors { get; init; }
    public required IReadOnlyList<TfliteOperator> Operators { get; init; }
    public required int[] Inputs { get; init; }
    public required int[] Outputs { get; init; }

    public static TfliteModel Load(string path) => Parse(File.ReadAllBytes(path), path);

    public static TfliteModel Parse(byte[] bytes, string what = "model")
    {
        if (bytes.Length < 8 || bytes[4] != (byte)'T' || bytes[5] != (byte)'F' || bytes[6] != (byte)'L')
        {
            throw new InvalidDataException($"{what}: not a TFLite file (missing TFL3 identifier)");
        }

        var model = FlatBufferTable.Root(bytes);
        // Model: 0 version, 1 operator_codes, 2 subgraphs, 3 description, 4 buffers.
        int codeCount = model.VectorLength(1);
        var codes = new int[codeCount];
        for (int i = 0; i < codeCount; i++)
        {
            var oc = model.GetTableElement(1, i);
            // OperatorCode: 0 deprecated_builtin_code (byte), 1 custom_code, 2 version, 3 builtin_code (int).
            int deprecated = (sbyte)oc.GetByte(0);
            int builtin = oc.GetInt(3);
            codes[i] = Math.Max(deprecated, builtin);
        }

        if (model.VectorLength(2) < 1)
        {
            throw new InvalidDataException($"{what}: no subgraph");
        }

        var subgraph = model.GetTableElement(2, 0);
        // SubGraph: 0 tensors, 1 inputs, 2 outputs, 3 operators, 4 name.
        int tensorCount = subgraph.VectorLength(0);
        var tensors = new TfliteTensor[tensorCount];
        for (int i = 0; i < tensorCount; i++)
        {
            var t = subgraph.GetTableElement(0, i);
            // Tensor: 0 shape, 1 type, 2 buffer, 3 name, 4 quantization.
            int[] shape = t.GetIntVector(0);
            int type = t.GetByte(1);
            uint buffer = t.GetUInt(2);
            string name = t.GetString(3) ?? $"t{i}";
            float[]? data = null;
            int[]? ints = null;
            if (buffer != 0)
            {
                // Buffer: 0 data.
                var raw = model.GetTableElement(4, (int)buffer).GetByteVector(0);
                if (raw.Length > 0)
                {
                    if (type == TfliteTensor.Float32)
                    {
                        data = MemoryMarshal.Cast<byte, float>(raw.Span).ToArray();
                    }
                    else if (type == TfliteTensor.Int32)
                    {
                        ints = MemoryMarshal.Cast<byte, int>(raw.Span).ToArray();
                    }
                    else
                    {
                        throw new NotSupportedException($"{what}: tensor '{name}' has type {type}; only float32 and int32 constants are supported (the face models are not quantised)");
                    }
                }
            }

            tensors[i] = new TfliteTensor(i, name, shape, type, data) { IntData = ints };
        }

        int opCount = subgraph.VectorLength(3);
        var ops = new TfliteOperator[opCount];
        for (int i = 0; i < opCount; i++)
        {
            var o = subgraph.GetTableElement(3, i);
            // Operator: 0 opcode_index, 1 inputs, 2 outputs, 3 builtin_options_type, 4 builtin_options.
            int code = codes[o.GetUInt(0)];
            if (!Enum.IsDefined(typeof(TfliteOp), code))
            {
                throw new NotSupportedException($"{what}: TFLite builtin operator {code} is not supported by the converter");
            }

            var op = (TfliteOp)code;
            var opt = o.GetTable(4);
            ops[i] = DecodeOptions(op, o.GetIntVector(1), o.GetIntVector(2), opt);
        }

        return new TfliteModel
        {
            Tensors = tensors,
            Operators = ops,
            Inputs = subgraph.GetIntVector(1),
            Outputs = subgraph.GetIntVector(2),
        };
    }

    private static TfliteOperator DecodeOptions(TfliteOp op, int[] inputs, int[] outputs, FlatBufferTable opt)
    {
        string padding = "VALID";
        int sh = 1, sw = 1, fh = 1, fw = 1, dh = 1, dw = 1, mult = 1;
        var act = TfliteActivation.None;
        bool keep = false;
        int[]? newShape = null;
        bool has = !opt.IsNull;
        switch (op)
        {
            case TfliteOp.Conv2D when has:
                // Conv2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 activation, 4 dilation_w, 5 dilation_h.
                padding = opt.GetByte(0) == 0 ? "SAME" : "VALID";
                sw = opt.GetInt(1, 1); sh = opt.GetInt(2, 1);
                act = (TfliteActivation)opt.GetByte(3);
                dw = opt.GetInt(4, 1); dh = opt.GetInt(5, 1);
                break;
            case TfliteOp.DepthwiseConv2D when has:
                // DepthwiseConv2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 depth_multiplier, 4 activation,
                // 5 dilation_w, 6 dilation_h.
                padding = opt.GetByte(0) == 0 ? "SAME" : "VALID";
                sw = opt.GetInt(1, 1); sh = opt.GetInt(2, 1);
                mult = opt.GetInt(3, 1);
                act = (TfliteActivation)opt.GetByte(4);
                dw = opt.GetInt(5, 1); dh = opt.GetInt(6, 1);
                break;
            case TfliteOp.MaxPool2D or TfliteOp.AveragePool2D when has:
                // Pool2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 filter_width, 4 filter_height, 5 activation.
                padding = opt.GetByte(0) == 0 ? "SAME" : "VALID";
                sw = opt.GetInt(1, 1); sh = opt.GetInt(2, 1);
                fw = opt.GetInt(3, 1); fh = opt.GetInt(4, 1);
                act = (TfliteActivation)opt.GetByte(5);
                break;
            case TfliteOp.FullyConnected when has:
                // FullyConnectedOptions: 0 activation, 1 weights_format, 2 keep_num_dims.
                act = (TfliteActivation)opt.GetByte(0);
                if (opt.GetByte(1) != 0)
                {
                    throw new NotSupportedException("shuffled fully-connected weights are not supported");
                }

                keep = opt.GetBool(2);
                break;
            case TfliteOp.Add or TfliteOp.Mul or TfliteOp.Sub or TfliteOp.Div when has:
                // Add/Mul/Sub/DivOptions: 0 fused_activation_function.
                act = (TfliteActivation)opt.GetByte(0);
                break;
            case TfliteOp.Sum or TfliteOp.ReduceMax or TfliteOp.Mean when has:
                // ReducerOptions: 0 keep_dims.
                keep = opt.GetBool(0);
                break;
            case TfliteOp.Reshape when has:
                // ReshapeOptions: 0 new_shape.
                newShape = opt.GetIntVector(0);
                break;
        }

        return new TfliteOperator(op, inputs, outputs, padding, sh, sw, fh, fw, dh, dw, mult, act, keep, newShape);
    }
}
