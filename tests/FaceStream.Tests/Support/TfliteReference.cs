using FaceStream.Inference.Graphs;
using FaceStream.Tools.Conversion;

namespace FaceStream.Tests.Support;

/// <summary>
/// A deliberately naive TFLite interpreter (NHWC, nested loops, no fusion) used as an independent path to check the
/// ONNX graphs our importer writes. Shares only the file reader with production code.
/// </summary>
public static class TfliteReference
{
    public sealed record Tensor(int[] Shape, float[] Data)
    {
        public int Size => Data.Length;
    }

    public static Dictionary<int, Tensor> Run(TfliteModel model, Tensor input)
    {
        var values = new Dictionary<int, Tensor> { [model.Inputs[0]] = input };
        Tensor Get(int i) => values.TryGetValue(i, out var t) ? t
            : new Tensor(model.Tensors[i].Shape, model.Tensors[i].Data ?? model.Tensors[i].IntData!.Select(x => (float)x).ToArray());

        foreach (var op in model.Operators)
        {
            Tensor result = op.Op switch
            {
                TfliteOp.Conv2D => Conv(Get(op.Inputs[0]), model.Tensors[op.Inputs[1]], model.Tensors[op.Inputs[2]], op, false),
                TfliteOp.DepthwiseConv2D => Conv(Get(op.Inputs[0]), model.Tensors[op.Inputs[1]], model.Tensors[op.Inputs[2]], op, true),
                TfliteOp.MaxPool2D => MaxPool(Get(op.Inputs[0]), op),
                TfliteOp.FullyConnected => Dense(Get(op.Inputs[0]), model.Tensors[op.Inputs[1]], model.Tensors[op.Inputs[2]]),
                TfliteOp.Relu => Map(Get(op.Inputs[0]), v => Math.Max(0, v)),
                TfliteOp.Neg => Map(Get(op.Inputs[0]), v => -v),
                TfliteOp.Abs => Map(Get(op.Inputs[0]), Math.Abs),
                TfliteOp.Exp => Map(Get(op.Inputs[0]), MathF.Exp),
                TfliteOp.Add => Binary(Get(op.Inputs[0]), Get(op.Inputs[1]), (a, b) => a + b),
                TfliteOp.Sub => Binary(Get(op.Inputs[0]), Get(op.Inputs[1]), (a, b) => a - b),
                TfliteOp.Mul => Binary(Get(op.Inputs[0]), Get(op.Inputs[1]), (a, b) => a * b),
                TfliteOp.Div => Binary(Get(op.Inputs[0]), Get(op.Inputs[1]), (a, b) => a / b),
                TfliteOp.ReduceMax => ReduceLast(Get(op.Inputs[0]), float.NegativeInfinity, Math.Max),
                TfliteOp.Sum => ReduceLast(Get(op.Inputs[0]), 0f, (a, b) => a + b),
                TfliteOp.Reshape => new Tensor([Get(op.Inputs[0]).Shape[0], Get(op.Inputs[0]).Size / Get(op.Inputs[0]).Shape[0]], Get(op.Inputs[0]).Data),
                _ => throw new NotSupportedException(op.Op.ToString()),
            };
            values[op.Outputs[0]] = result;
        }

        return values;
    }

    private static Tensor Map(Tensor x, Func<float, float> f) => new(x.Shape, x.Data.Select(f).ToArray());

    /// <summary>Elementwise with broadcasting of a per-channel vector or of a tensor whose last axis is 1.</summary>
    private static Tensor Binary(Tensor a, Tensor b, Func<float, float, float> f)
    {
        if (a.Size < b.Size)
        {
            return Binary(b, a, (x, y) => f(y, x));
        }

        var r = new float[a.Size];
        int last = a.Shape[^1];
        for (int i = 0; i < a.Size; i++)
        {
            float bv = b.Size == a.Size ? b.Data[i]
                : b.Size == last ? b.Data[i % last]
                : b.Data[i / last]; // keep-dims reduction result [.., 1]
            r[i] = f(a.Data[i], bv);
        }

        return new Tensor(a.Shape, r);
    }

    private static Tensor ReduceLast(Tensor x, float seed, Func<float, float, float> f)
    {
        int last = x.Shape[^1], outer = x.Size / last;
        var r = new float[outer];
        for (int o = 0; o < outer; o++)
        {
            float acc = seed;
            for (int k = 0; k < last; k++)
            {
                acc = f(acc, x.Data[(o * last) + k]);
            }

            r[o] = acc;
        }

        var shape = x.Shape.ToArray();
        shape[^1] = 1;
        return new Tensor(shape, r);
    }

    private static (int Out, int PadBefore) SamePadding(int input, int kernel, int stride, bool same)
    {
        if (!same)
        {
            return (((input - kernel) / stride) + 1, 0);
        }

        int output = (input + stride - 1) / stride;
        int total = Math.Max(0, ((output - 1) * stride) + kernel - input);
        return (output, total / 2);
    }

    private static Tensor Conv(Tensor x, TfliteTensor weights, TfliteTensor bias, TfliteOperator op, bool depthwise)
    {
        int n = x.Shape[0], h = x.Shape[1], w = x.Shape[2], c = x.Shape[3];
        var wd = weights.Data!;
        int oc = depthwise ? weights.Shape[3] : weights.Shape[0];
        int kh = weights.Shape[1], kw = weights.Shape[2];
        var (oh, pt) = SamePadding(h, kh, op.StrideH, op.Padding == "SAME");
        var (ow, pl) = SamePadding(w, kw, op.StrideW, op.Padding == "SAME");
        var r = new float[n * oh * ow * oc];
        for (int b = 0; b < n; b++)
        {
            for (int y = 0; y < oh; y++)
            {
                for (int xx = 0; xx < ow; xx++)
                {
                    for (int o = 0; o < oc; o++)
                    {
                        float acc = bias.Data![o];
                        for (int ky = 0; ky < kh; ky++)
                        {
                            int iy = (y * op.StrideH) + ky - pt;
                            if (iy < 0 || iy >= h)
                            {
                                continue;
                            }

                            for (int kx = 0; kx < kw; kx++)
                            {
                                int ix = (xx * op.StrideW) + kx - pl;
                                if (ix < 0 || ix >= w)
                                {
                                    continue;
                                }

                                int inBase = (((b * h) + iy) * w + ix) * c;
                                if (depthwise)
                                {
                                    acc += x.Data[inBase + o] * wd[(((ky * kw) + kx) * oc) + o];
                                }
                                else
                                {
                                    for (int i = 0; i < c; i++)
                                    {
                                        acc += x.Data[inBase + i] * wd[((((o * kh) + ky) * kw + kx) * c) + i];
                                    }
                                }
                            }
                        }

                        if (op.Activation == TfliteActivation.Relu)
                        {
                            acc = Math.Max(0, acc);
                        }

                        r[((((b * oh) + y) * ow) + xx) * oc + o] = acc;
                    }
                }
            }
        }

        return new Tensor([n, oh, ow, oc], r);
    }

    private static Tensor MaxPool(Tensor x, TfliteOperator op)
    {
        int n = x.Shape[0], h = x.Shape[1], w = x.Shape[2], c = x.Shape[3];
        var (oh, pt) = SamePadding(h, op.FilterH, op.StrideH, op.Padding == "SAME");
        var (ow, pl) = SamePadding(w, op.FilterW, op.StrideW, op.Padding == "SAME");
        var r = new float[n * oh * ow * c];
        for (int b = 0; b < n; b++)
        {
            for (int y = 0; y < oh; y++)
            {
                for (int xx = 0; xx < ow; xx++)
                {
                    for (int i = 0; i < c; i++)
                    {
                        float m = float.NegativeInfinity;
                        for (int ky = 0; ky < op.FilterH; ky++)
                        {
                            for (int kx = 0; kx < op.FilterW; kx++)
                            {
                                int iy = (y * op.StrideH) + ky - pt, ix = (xx * op.StrideW) + kx - pl;
                                if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                                {
                                    m = Math.Max(m, x.Data[((((b * h) + iy) * w) + ix) * c + i]);
                                }
                            }
                        }

                        r[((((b * oh) + y) * ow) + xx) * c + i] = m;
                    }
                }
            }
        }

        return new Tensor([n, oh, ow, c], r);
    }

    /// <summary>TFLite's fully-connected flattens its input in NHWC order.</summary>
    private static Tensor Dense(Tensor x, TfliteTensor weights, TfliteTensor bias)
    {
        int outF = weights.Shape[0], inF = weights.Shape[1], n = x.Size / inF;
        var r = new float[n * outF];
        for (int b = 0; b < n; b++)
        {
            for (int o = 0; o < outF; o++)
            {
                float acc = bias.Data![o];
                for (int i = 0; i < inF; i++)
                {
                    acc += x.Data[(b * inF) + i] * weights.Data![(o * inF) + i];
                }

                r[(b * outF) + o] = acc;
            }
        }

        return new Tensor([n, outF], r);
    }
}
