using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;

namespace FaceStream.Core.Alignment;

/// <summary>How a warped face chip is written into a network input tensor.</summary>
/// <param name="Size">Output side in pixels (square).</param>
/// <param name="Bgr">Write channels in B, G, R order instead of R, G, B.</param>
/// <param name="Mean">Subtracted from every 0–255 value.</param>
/// <param name="Scale">Multiplied after the mean is subtracted.</param>
/// <param name="Antialias">Average several samples per chip pixel when the face is larger than the chip (see <see cref="AffineWarp"/>).</param>
public readonly record struct ChipFormat(int Size, bool Bgr, float Mean, float Scale, bool Antialias = false);

/// <summary>Bilinear warp of an image region into a planar, normalised float tensor (one face chip).</summary>
public static class AffineWarp
{
    /// <summary>
    /// Fills <paramref name="destination"/> (3 × size × size, planar) with the image sampled at
    /// <c>imageToChip⁻¹(u, v)</c> for each chip pixel. Pixels that fall outside the image are black, as in
    /// OpenCV's warpAffine with a constant border.
    /// </summary>
    public static void ToTensor(ImageFrame image, SimilarityTransform imageToChip, ChipFormat format, Span<float> destination)
    {
        int size = format.Size;
        int plane = size * size;
        if (destination.Length < 3 * plane)
        {
            throw new ArgumentException($"destination needs {3 * plane} floats");
        }

        var inv = imageToChip.Inverse();
        var (ro, go, bo) = image.Format.ChannelOffsets();
        // Planes in the model's channel order.
        var src = new Source(image, format.Bgr ? bo : ro, go, format.Bgr ? ro : bo);
        // A face of 400 px squeezed into a 112 px chip by plain bilinear sampling aliases (hair and skin texture
        // turn into noise the embedder was never trained on). Averaging k×k samples over each chip pixel's
        // footprint in the image is a box prefilter; measured on real photos in docs/benchmarks.md.
        int k = format.Antialias ? Math.Clamp((int)MathF.Ceiling(inv.Scale - 0.05f), 1, MaxSupersampling) : 1;
        float step = 1f / k, first = (step / 2) - 0.5f, norm = 1f / (k * k);
        float mean = format.Mean, scale = format.Scale;
        var c0 = destination[..plane];
        var c1 = destination.Slice(plane, plane);
        var c2 = destination.Slice(2 * plane, plane);
        for (int v = 0; v < size; v++)
        {
            for (int u = 0; u < size; u++)
            {
                float a0 = 0, a1 = 0, a2 = 0;
                for (int j = 0; j < k; j++)
                {
                    float cv = v + first + (j * step);
                    for (int i = 0; i < k; i++)
                    {
                        float cu = u + first + (i * step);
                        src.Bilinear((inv.A * cu) - (inv.B * cv) + inv.Tx, (inv.B * cu) + (inv.A * cv) + inv.Ty, ref a0, ref a1, ref a2);
                    }
                }

                int idx = (v * size) + u;
                c0[idx] = ((a0 * norm) - mean) * scale;
                c1[idx] = ((a1 * norm) - mean) * scale;
                c2[idx] = ((a2 * norm) - mean) * scale;
            }
        }
    }

    /// <summary>Mirrors a planar 3 × size × size chip left to right, in place (for flip-fused embeddings).</summary>
    public static void MirrorChip(Span<float> chip, int size)
    {
        for (int row = 0; row < 3 * size; row++)
        {
            chip.Slice(row * size, size).Reverse();
        }
    }

    /// <summary>The most samples per axis the antialiasing takes (16 per chip pixel): enough for faces 4× the chip.</summary>
    public const int MaxSupersampling = 4;

    private readonly ref struct Source(ImageFrame image, int p0, int p1, int p2)
    {
        private readonly ReadOnlySpan<byte> _px = image.Pixels.Span;
        private readonly int _w = image.Width, _h = image.Height, _stride = image.Stride, _bpp = image.Format.BytesPerPixel();

        /// <summary>Adds the bilinear sample at (x, y) to the accumulators; outside the image is black (OpenCV's constant border).</summary>
        public void Bilinear(float x, float y, ref float a0, ref float a1, ref float a2)
        {
            int x0 = (int)MathF.Floor(x), y0 = (int)MathF.Floor(y);
            float fx = x - x0, fy = y - y0;
            for (int k = 0; k < 4; k++)
            {
                int xx = x0 + (k & 1), yy = y0 + (k >> 1);
                if ((uint)xx >= (uint)_w || (uint)yy >= (uint)_h)
                {
                    continue;
                }

                float wt = ((k & 1) == 1 ? fx : 1 - fx) * ((k >> 1) == 1 ? fy : 1 - fy);
                int o = (yy * _stride) + (xx * _bpp);
                a0 += wt * _px[o + p0];
                a1 += wt * _px[o + p1];
                a2 += wt * _px[o + p2];
            }
        }
    }

    /// <summary>Luma (BT.601 weights, 0–255) of the warped chip, for quality measures.</summary>
    /// <param name="destination">size × size floats.</param>
    public static void ToGrey(ImageFrame image, SimilarityTransform imageToChip, int size, Span<float> destination)
    {
        int plane = size * size;
        float[] rgb = System.Buffers.ArrayPool<float>.Shared.Rent(3 * plane);
        try
        {
            ToTensor(image, imageToChip, new ChipFormat(size, Bgr: false, Mean: 0, Scale: 1), rgb);
            var r = rgb.AsSpan(0, plane);
            var g = rgb.AsSpan(plane, plane);
            var b = rgb.AsSpan(2 * plane, plane);
            var grey = destination[..plane];
            System.Numerics.Tensors.TensorPrimitives.Multiply(r, 0.299f, grey);
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(g, 0.587f, grey, grey);
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(b, 0.114f, grey, grey);
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(rgb);
        }
    }
}
