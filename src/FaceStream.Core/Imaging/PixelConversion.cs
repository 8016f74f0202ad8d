namespace FaceStream.Core.Imaging;

/// <summary>Converts frames to packed BGRA, the detector's native layout (decoders deliver it directly).</summary>
public static class PixelConversion
{
    /// <summary>Bytes a packed BGRA copy of the frame needs.</summary>
    public static int BgraSize(ImageFrame f) => f.Width * f.Height * 4;

    public static void ToBgra(ImageFrame src, Span<byte> dst)
    {
        var s = src.Pixels.Span;
        int bpp = src.Format.BytesPerPixel();
        var (r, g, b) = src.Format.ChannelOffsets();
        int w = src.Width;
        for (int y = 0; y < src.Height; y++)
        {
            var row = s.Slice(y * src.Stride, w * bpp);
            var o = dst.Slice(y * w * 4, w * 4);
            if (src.Format == PixelFormat.Bgra32)
            {
                row.CopyTo(o);
                continue;
            }

            for (int x = 0; x < w; x++)
            {
                o[(4 * x) + 0] = row[(bpp * x) + b];
                o[(4 * x) + 1] = row[(bpp * x) + g];
                o[(4 * x) + 2] = row[(bpp * x) + r];
                o[(4 * x) + 3] = 255;
            }
        }
    }
}

/// <summary>Colour removal, for evaluating how recognition holds up on night (IR, monochrome) camera frames.</summary>
public static class Greyscale
{
    /// <summary>A copy of <paramref name="src"/> in the same pixel format whose colour channels all hold the BT.601 luma.</summary>
    public static ImageFrame Of(ImageFrame src)
    {
        int bpp = src.Format.BytesPerPixel();
        var (r, g, b) = src.Format.ChannelOffsets();
        var dst = new byte[src.Stride * src.Height];
        src.Pixels.Span[..Math.Min(dst.Length, src.Pixels.Length)].CopyTo(dst);
        for (int y = 0; y < src.Height; y++)
        {
            var row = dst.AsSpan(y * src.Stride, src.Width * bpp);
            for (int x = 0; x < src.Width; x++)
            {
                int o = x * bpp;
                byte luma = (byte)(((299 * row[o + r]) + (587 * row[o + g]) + (114 * row[o + b]) + 500) / 1000);
                row[o + r] = row[o + g] = row[o + b] = luma;
            }
        }

        return src with { Pixels = dst };
    }
}
