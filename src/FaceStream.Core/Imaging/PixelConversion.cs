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
