using FaceStream.Tools.Conversion;

namespace FaceStream.Tests.Support;

/// <summary>
/// face-api.js's <c>FaceRecognitionNet.forwardInput</c> transcribed op by op, deliberately naive (NHWC, nested loops,
/// nothing folded, TF's padding arithmetic): conv + bias, then the scale layer, ReLU, max-pool, the residual blocks
/// with their average-pooled, zero-padded skips, the global mean and the fc. An independent path to check the ONNX
/// graph <see cref="FaceApiResNetConverter"/> writes; it shares only the weights reader.
/// </summary>
public static class FaceApiResNetReference
{
    private sealed record Tensor(int H, int W, int C, float[] Data)
    {
        public float this[int y, int x, int c] => Data[(((y * W) + x) * C) + c];
    }

    /// <summary>One face: <paramref name="hwc"/> is 150 × 150 × 3, already (RGB − mean) / 255. Returns the 128 raw values.</summary>
    public static float[] Run(IReadOnlyDictionary<string, TfjsTensor> w, float[] hwc, int size = 150)
    {
        var x = new Tensor(size, size, 3, hwc);
        x = ConvLayer(w, "conv32_down", x, 2, "valid", relu: true);
        x = MaxPool(x, 3, 2);
        foreach (var b in new[] { "conv32_1", "conv32_2", "conv32_3" })
        {
            x = Residual(w, b, x);
        }

        x = ResidualDown(w, "conv64_down", x);
        foreach (var b in new[] { "conv64_1", "conv64_2", "conv64_3" })
        {
            x = Residual(w, b, x);
        }

        x = ResidualDown(w, "conv128_down", x);
        x = Residual(w, "conv128_1", x);
        x = Residual(w, "conv128_2", x);
        x = ResidualDown(w, "conv256_down", x);
        x = Residual(w, "conv256_1", x);
        x = Residual(w, "conv256_2", x);
        x = ResidualDown(w, "conv256_down_out", x);

        var fc = w["fc"];
        int outDim = fc.Shape[1];
        var result = new float[outDim];
        for (int j = 0; j < outDim; j++)
        {
            double acc = 0;
            for (int c = 0; c < x.C; c++)
            {
                double mean = 0;
                for (int p = 0; p < x.H * x.W; p++)
                {
                    mean += x.Data[(p * x.C) + c];
                }

                acc += mean / (x.H * x.W) * fc.Values[(c * outDim) + j];
            }

            result[j] = (float)acc;
        }

        return result;
    }

    private static Tensor Residual(IReadOnlyDictionary<string, TfjsTensor> w, string p, Tensor x)
    {
        var o = ConvLayer(w, $"{p}/conv1", x, 1, "same", relu: true);
        o = ConvLayer(w, $"{p}/conv2", o, 1, "same", relu: false);
        return new Tensor(o.H, o.W, o.C, o.Data.Select((v, i) => MathF.Max(0, v + x.Data[i])).ToArray());
    }

    private static Tensor ResidualDown(IReadOnlyDictionary<string, TfjsTensor> w, string p, Tensor x)
    {
        var o = ConvLayer(w, $"{p}/conv1", x, 2, "valid", relu: true);
        o = ConvLayer(w, $"{p}/conv2", o, 1, "same", relu: false);
        int ph = x.H / 2, pw = x.W / 2;
        var sum = new float[ph * pw * o.C];
        for (int y = 0; y < ph; y++)
        {
            for (int xx = 0; xx < pw; xx++)
            {
                for (int c = 0; c < o.C; c++)
                {
                    // The pooled skip, zeros beyond x's channels; the conv path, zeros beyond its last row/column.
                    float pooled = c < x.C ? (x[2 * y, 2 * xx, c] + x[(2 * y) + 1, 2 * xx, c] + x[2 * y, (2 * xx) + 1, c] + x[(2 * y) + 1, (2 * xx) + 1, c]) / 4 : 0;
                    float conv = y < o.H && xx < o.W ? o[y, xx, c] : 0;
                    sum[(((y * pw) + xx) * o.C) + c] = MathF.Max(0, pooled + conv);
                }
            }
        }

        return new Tensor(ph, pw, o.C, sum);
    }

    private static Tensor MaxPool(Tensor x, int k, int s)
    {
        int oh = ((x.H - k) / s) + 1, ow = ((x.W - k) / s) + 1;
        var o = new float[oh * ow * x.C];
        for (int y = 0; y < oh; y++)
        {
            for (int xx = 0; xx < ow; xx++)
            {
                for (int c = 0; c < x.C; c++)
                {
                    float m = float.NegativeInfinity;
                    for (int i = 0; i < k * k; i++)
                    {
                        m = MathF.Max(m, x[(y * s) + (i / k), (xx * s) + (i % k), c]);
                    }

                    o[(((y * ow) + xx) * x.C) + c] = m;
                }
            }
        }

        return new Tensor(oh, ow, x.C, o);
    }

    private static Tensor ConvLayer(IReadOnlyDictionary<string, TfjsTensor> w, string p, Tensor x, int s, string padding, bool relu)
    {
        var f = w[$"{p}/conv/filters"];
        float[] bias = w[$"{p}/conv/bias"].Values, scale = w[$"{p}/scale/weights"].Values, shift = w[$"{p}/scale/biases"].Values;
        int k = f.Shape[0], co = f.Shape[3];
        bool same = padding == "same";
        int oh = same ? (x.H + s - 1) / s : ((x.H - k) / s) + 1, ow = same ? (x.W + s - 1) / s : ((x.W - k) / s) + 1;
        int padTop = same ? Math.Max(((oh - 1) * s) + k - x.H, 0) / 2 : 0, padLeft = same ? Math.Max(((ow - 1) * s) + k - x.W, 0) / 2 : 0;
        var o = new float[oh * ow * co];
        for (int y = 0; y < oh; y++)
        {
            for (int xx = 0; xx < ow; xx++)
            {
                for (int c = 0; c < co; c++)
                {
                    double acc = 0;
                    for (int ky = 0; ky < k; ky++)
                    {
                        int iy = (y * s) + ky - padTop;
                        for (int kx = 0; kx < k && iy >= 0 && iy < x.H; kx++)
                        {
                            int ix = (xx * s) + kx - padLeft;
                            if (ix < 0 || ix >= x.W)
                            {
                                continue;
                            }

                            for (int ic = 0; ic < x.C; ic++)
                            {
                                acc += x[iy, ix, ic] * f.Values[(((((ky * k) + kx) * x.C) + ic) * co) + c];
                            }
                        }
                    }

                    float v = (((float)acc + bias[c]) * scale[c]) + shift[c];
                    o[(((y * ow) + xx) * co) + c] = relu ? MathF.Max(0, v) : v;
                }
            }
        }

        return new Tensor(oh, ow, co, o);
    }
}
