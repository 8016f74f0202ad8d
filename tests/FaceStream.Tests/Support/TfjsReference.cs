using FaceStream.Tools.Conversion;

namespace FaceStream.Tests.Support;

/// <summary>
/// A deliberately naive TF.js graph interpreter (NHWC, nested loops, TF's own SAME-padding arithmetic) used as an
/// independent path to check the ONNX graphs the TF.js importer writes. Shares only the model.json/weights reader.
/// </summary>
public static class TfjsReference
{
    public sealed record Tensor(int[] Shape, float[] Data);

    public static Dictionary<string, Tensor> Run(TfjsGraphModel model, Tensor input)
    {
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        Tensor Get(TfjsNode n, int i) => values.TryGetValue(n.Inputs[i], out var t) ? t
            : new Tensor(model.Weights[n.Inputs[i]].Shape, model.Weights[n.Inputs[i]].Values);

        foreach (var n in model.Nodes)
        {
            if (n.Op == "Const")
            {
                continue;
            }

            Tensor r = n.Op switch
            {
                "Placeholder" => input,
                "Identity" => Get(n, 0),
                "Conv2D" or "_FusedConv2D" => Fused(n, Conv(Get(n, 0), Get(n, 1), n, depthwise: false), n.Op.StartsWith('_') ? Get : null),
                "DepthwiseConv2dNative" or "FusedDepthwiseConv2dNative" => Fused(n, Conv(Get(n, 0), Get(n, 1), n, depthwise: true), n.Op.StartsWith('F') ? Get : null),
                "MatMul" or "_FusedMatMul" => Fused(n, MatMul(Get(n, 0), Get(n, 1), n.Bool("transpose_b")), n.Op.StartsWith('_') ? Get : null),
                "Add" or "AddV2" => Binary(Get(n, 0), Get(n, 1), (a, b) => a + b),
                "Sub" => Binary(Get(n, 0), Get(n, 1), (a, b) => a - b),
                "Mul" => Binary(Get(n, 0), Get(n, 1), (a, b) => a * b),
                "RealDiv" => Binary(Get(n, 0), Get(n, 1), (a, b) => a / b),
                "Minimum" => Binary(Get(n, 0), Get(n, 1), MathF.Min),
                "Maximum" => Binary(Get(n, 0), Get(n, 1), MathF.Max),
                "Relu" or "Relu6" or "Sigmoid" or "Tanh" => Activate(Get(n, 0), n.Op),
                "Prelu" => Prelu(Get(n, 0), Get(n, 1)),
                "MaxPool" => MaxPool(Get(n, 0), n),
                "Pad" => Pad(Get(n, 0), model.Weights[n.Inputs[1]].Ints!),
                "ConcatV2" => Concat(Enumerable.Range(0, n.Inputs.Count - 1).Select(i => Get(n, i)).ToList(), model.Weights[n.Inputs[^1]].Ints![0]),
                "Softmax" => Softmax(Get(n, 0)),
                "Reshape" => Reshape(Get(n, 0), model.Weights[n.Inputs[1]].Ints!),
                "Mean" => Mean(Get(n, 0), model.Weights[n.Inputs[1]].Ints!, n.Bool("keep_dims")),
                _ => throw new NotSupportedException(n.Op),
            };
            values[n.Name] = r;
        }

        return values;
    }

    private static Tensor Fused(TfjsNode n, Tensor x, Func<TfjsNode, int, Tensor>? get)
    {
        if (get is null)
        {
            return x;
        }

        var ops = n.Strs("fused_ops");
        if (ops.Length > 0 && ops[0] == "BiasAdd")
        {
            x = Binary(x, get(n, 2), (a, b) => a + b);
        }

        return ops.Length > 1 && ops[1] == "Prelu" ? Prelu(x, get(n, 3)) : ops.Length > 1 ? Activate(x, ops[1]) : x;
    }

    private static Tensor Activate(Tensor x, string kind) => new(x.Shape, x.Data.Select(v => kind switch
    {
        "Relu" => MathF.Max(0, v),
        "Relu6" => Math.Clamp(v, 0, 6),
        "Sigmoid" => 1 / (1 + MathF.Exp(-v)),
        "Tanh" => MathF.Tanh(v),
        _ => throw new NotSupportedException(kind),
    }).ToArray());

    /// <summary>x where x ≥ 0, else slope × x; the slope broadcast over the trailing (channel) axis.</summary>
    private static Tensor Prelu(Tensor x, Tensor slope) => Binary(x, slope, (v, a) => v >= 0 ? v : a * v);

    /// <summary>The same NHWC-ordered values under a new shape; one -1 takes what the others leave.</summary>
    private static Tensor Reshape(Tensor x, int[] shape)
    {
        int known = shape.Where(d => d != -1).Aggregate(1, (a, d) => a * d);
        return new Tensor([.. shape.Select(d => d == -1 ? x.Data.Length / known : d)], x.Data);
    }

    /// <summary>Max over ksize windows (NHWC); SAME pads with -∞, the smaller half top/left, as TF does.</summary>
    private static Tensor MaxPool(Tensor x, TfjsNode n)
    {
        int N = x.Shape[0], H = x.Shape[1], W = x.Shape[2], C = x.Shape[3];
        var k = n.Ints("ksize");
        var s = n.Ints("strides");
        int kh = (int)k[1], kw = (int)k[2], sy = (int)s[1], sx = (int)s[2];
        bool same = n.Str("padding") == "SAME";
        int oh = same ? (H + sy - 1) / sy : ((H - kh) / sy) + 1, ow = same ? (W + sx - 1) / sx : ((W - kw) / sx) + 1;
        int padTop = same ? Math.Max(((oh - 1) * sy) + kh - H, 0) / 2 : 0, padLeft = same ? Math.Max(((ow - 1) * sx) + kw - W, 0) / 2 : 0;
        var o = new float[N * oh * ow * C];
        for (int b = 0; b < N; b++)
        {
            for (int y = 0; y < oh; y++)
            {
                for (int xx = 0; xx < ow; xx++)
                {
                    for (int c = 0; c < C; c++)
                    {
                        float m = float.NegativeInfinity;
                        for (int ky = 0; ky < kh; ky++)
                        {
                            for (int kx = 0; kx < kw; kx++)
                            {
                                int iy = (y * sy) + ky - padTop, ix = (xx * sx) + kx - padLeft;
                                if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                                {
                                    m = MathF.Max(m, x.Data[((((b * H) + iy) * W + ix) * C) + c]);
                                }
                            }
                        }

                        o[((((b * oh) + y) * ow) + xx) * C + c] = m;
                    }
                }
            }
        }

        return new Tensor([N, oh, ow, C], o);
    }

    /// <summary>Zero padding of a 4-D tensor by [[before, after] per axis].</summary>
    private static Tensor Pad(Tensor x, int[] p)
    {
        int[] shape = [.. Enumerable.Range(0, 4).Select(a => x.Shape[a] + p[2 * a] + p[(2 * a) + 1])];
        var o = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (int b = 0; b < x.Shape[0]; b++)
        {
            for (int y = 0; y < x.Shape[1]; y++)
            {
                for (int xx = 0; xx < x.Shape[2]; xx++)
                {
                    for (int c = 0; c < x.Shape[3]; c++)
                    {
                        int to = ((((((b + p[0]) * shape[1]) + y + p[2]) * shape[2]) + xx + p[4]) * shape[3]) + c + p[6];
                        o[to] = x.Data[((((((b * x.Shape[1]) + y) * x.Shape[2]) + xx) * x.Shape[3])) + c];
                    }
                }
            }
        }

        return new Tensor(shape, o);
    }

    /// <summary>Concatenation along one axis (negative counts from the end).</summary>
    private static Tensor Concat(IReadOnlyList<Tensor> parts, int axis)
    {
        int rank = parts[0].Shape.Length, a = (axis + rank) % rank;
        int outer = parts[0].Shape.Take(a).Aggregate(1, (x, y) => x * y);
        var o = new List<float>();
        for (int i = 0; i < outer; i++)
        {
            foreach (var t in parts)
            {
                int inner = t.Shape.Skip(a).Aggregate(1, (x, y) => x * y);
                o.AddRange(t.Data.AsSpan(i * inner, inner).ToArray());
            }
        }

        int[] shape = [.. parts[0].Shape];
        shape[a] = parts.Sum(t => t.Shape[a]);
        return new Tensor(shape, [.. o]);
    }

    /// <summary>Element-wise with numpy broadcasting of the smaller operand over the trailing axes.</summary>
    private static Tensor Binary(Tensor a, Tensor b, Func<float, float, float> f)
    {
        if (a.Data.Length < b.Data.Length)
        {
            return Binary(b, a, (x, y) => f(y, x));
        }

        int m = b.Data.Length;
        return new Tensor(a.Shape, a.Data.Select((v, i) => f(v, b.Data[i % m])).ToArray());
    }

    private static Tensor Conv(Tensor x, Tensor w, TfjsNode n, bool depthwise)
    {
        int N = x.Shape[0], H = x.Shape[1], W = x.Shape[2], C = x.Shape[3];
        int kh = w.Shape[0], kw = w.Shape[1];
        int outC = depthwise ? w.Shape[2] * w.Shape[3] : w.Shape[3], mult = depthwise ? w.Shape[3] : 1;
        var s = n.Ints("strides");
        int sy = (int)s[1], sx = (int)s[2];
        bool same = n.Str("padding") == "SAME";
        int oh = same ? (H + sy - 1) / sy : ((H - kh) / sy) + 1, ow = same ? (W + sx - 1) / sx : ((W - kw) / sx) + 1;
        // TF: total padding split with the smaller half on top/left.
        int padTop = same ? Math.Max(((oh - 1) * sy) + kh - H, 0) / 2 : 0, padLeft = same ? Math.Max(((ow - 1) * sx) + kw - W, 0) / 2 : 0;
        var o = new float[N * oh * ow * outC];
        for (int b = 0; b < N; b++)
        {
            for (int y = 0; y < oh; y++)
            {
                for (int xx = 0; xx < ow; xx++)
                {
                    for (int oc = 0; oc < outC; oc++)
                    {
                        double acc = 0;
                        for (int ky = 0; ky < kh; ky++)
                        {
                            int iy = (y * sy) + ky - padTop;
                            if (iy < 0 || iy >= H)
                            {
                                continue;
                            }

                            for (int kx = 0; kx < kw; kx++)
                            {
                                int ix = (xx * sx) + kx - padLeft;
                                if (ix < 0 || ix >= W)
                                {
                                    continue;
                                }

                                int pixel = (((b * H) + iy) * W + ix) * C;
                                if (depthwise)
                                {
                                    int ic = oc / mult;
                                    acc += x.Data[pixel + ic] * w.Data[((((ky * kw) + kx) * C) + ic) * mult + (oc % mult)];
                                }
                                else
                                {
                                    for (int ic = 0; ic < C; ic++)
                                    {
                                        acc += x.Data[pixel + ic] * w.Data[((((ky * kw) + kx) * C) + ic) * outC + oc];
                                    }
                                }
                            }
                        }

                        o[((((b * oh) + y) * ow) + xx) * outC + oc] = (float)acc;
                    }
                }
            }
        }

        return new Tensor([N, oh, ow, outC], o);
    }

    private static Tensor MatMul(Tensor x, Tensor w, bool transposeB)
    {
        int n = x.Shape[0], k = x.Shape[1], m = transposeB ? w.Shape[0] : w.Shape[1];
        var o = new float[n * m];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++)
            {
                double acc = 0;
                for (int t = 0; t < k; t++)
                {
                    acc += x.Data[(i * k) + t] * (transposeB ? w.Data[(j * k) + t] : w.Data[(t * m) + j]);
                }

                o[(i * m) + j] = (float)acc;
            }
        }

        return new Tensor([n, m], o);
    }

    private static Tensor Softmax(Tensor x)
    {
        int m = x.Shape[^1];
        var o = new float[x.Data.Length];
        for (int r = 0; r < x.Data.Length / m; r++)
        {
            var row = x.Data.AsSpan(r * m, m);
            float max = row.ToArray().Max();
            double sum = 0;
            for (int j = 0; j < m; j++)
            {
                sum += Math.Exp(row[j] - max);
            }

            for (int j = 0; j < m; j++)
            {
                o[(r * m) + j] = (float)(Math.Exp(row[j] - max) / sum);
            }
        }

        return new Tensor(x.Shape, o);
    }

    /// <summary>Mean over NHWC axes 1 and 2 (global average pooling), the only reduction the models use.</summary>
    private static Tensor Mean(Tensor x, int[] axes, bool keep)
    {
        if (!(axes.Length == 2 && axes.Contains(1) && axes.Contains(2)))
        {
            throw new NotSupportedException($"Mean over [{string.Join(",", axes)}]");
        }

        int N = x.Shape[0], H = x.Shape[1], W = x.Shape[2], C = x.Shape[3];
        var o = new float[N * C];
        for (int b = 0; b < N; b++)
        {
            for (int c = 0; c < C; c++)
            {
                double acc = 0;
                for (int p = 0; p < H * W; p++)
                {
                    acc += x.Data[(((b * H * W) + p) * C) + c];
                }

                o[(b * C) + c] = (float)(acc / (H * W));
            }
        }

        return new Tensor(keep ? [N, 1, 1, C] : [N, C], o);
    }
}
