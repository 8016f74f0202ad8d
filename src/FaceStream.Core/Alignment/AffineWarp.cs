using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;

namespace FaceStream.Core.Alignment;

/// <summary>How a warped face chip is written into a network input tensor.</summary>
/// <param name="Size">Output side in pixels (square).</param>
/// <param name="Bgr">Write channels in B, G, R order instead of R, G, B.</param>
/// <param name="Mean">Subtracted from every 0–255 value.</param>
/// <param name="Scale">Multiplied after the mean is subtracted.</param>
public readonly record struct ChipFormat(int Size, bool Bgr, float Mean, float Scale);

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
        int bpp = image.Format.BytesPerPixel();
        // Planes in the model's channel order.
        int p0 = format.Bgr ? bo : ro, p1 = go, p2 = format.Bgr ? ro : bo;
        var px = image.Pixels.Span;
        int w = image.Width, h = image.Height, stride = image.Stride;
        float mean = format.Mean, scale = format.Scale;
        var c0 = destination[..plane];
        var c1 = destination.Slice(plane, plane);
        var c2 = destination.Slice(2 * plane, plane);
        for (int v = 0; v < size; v++)
        {
            // Source coordinates advance linearly along a row: start + u·(a, b).
            float sx = (-inv.B * v) + inv.Tx;
            float sy = (inv.A * v) + inv.Ty;
            for (int u = 0; u < size; u++, sx += inv.A, sy += inv.B)
            {
                int idx = (v * size) + u;
                int x0 = (int)MathF.Floor(sx), y0 = (int)MathF.Floor(sy);
                float fx = sx - x0, fy = sy - y0;
                float a0 = 0, a1 = 0, a2 = 0;
                for (int k = 0; k < 4; k++)
                {
                    int xx = x0 + (k & 1), yy = y0 + (k >> 1);
                    if ((uint)xx >= (uint)w || (uint)yy >= (uint)h)
                    {
                        continue;
                    }

                    float wt = ((k & 1) == 1 ? fx : 1 - fx) * ((k >> 1) == 1 ? fy : 1 - fy);
                    int o = (yy * stride) + (xx * bpp);
                    a0 += wt * px[o + p0];
                    a1 += wt * px[o + p1];
                    a2 += wt * px[o + p2];
                }

                c0[idx] = (a0 - mean) * scale;
                c1[idx] = (a1 - mean) * scale;
                c2[idx] = (a2 - mean) * scale;
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
