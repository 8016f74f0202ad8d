using FaceStream.Core.Imaging;
using SkiaSharp;

namespace FaceStream.Media.Images;

/// <summary>Produces camera-sized frames from stills (centre crop to the target aspect, then high-quality scaling).</summary>
public static class FrameResizer
{
    public static ImageFrame CoverTo(ImageFrame src, int width, int height)
    {
        if (src.Format != PixelFormat.Bgra32)
        {
            throw new ArgumentException("FrameResizer expects BGRA frames (as the still decoder delivers)");
        }

        float scale = Math.Max((float)width / src.Width, (float)height / src.Height);
        float cw = width / scale, ch = height / scale;
        var srcRect = new SKRect((src.Width - cw) / 2, (src.Height - ch) / 2, (src.Width + cw) / 2, (src.Height + ch) / 2);
        using var bmp = new SKBitmap(new SKImageInfo(src.Width, src.Height, SKColorType.Bgra8888, SKAlphaType.Premul));
        src.Pixels.Span[..(src.Stride * src.Height)].CopyTo(bmp.GetPixelSpan());
        using var image = SKImage.FromBitmap(bmp);
        var info = new SKImageInfo(width, height, SKColorType.Bgra8888, SKAlphaType.Premul);
        using var dst = new SKBitmap(info);
        using (var canvas = new SKCanvas(dst))
        {
            canvas.DrawImage(image, srcRect, new SKRect(0, 0, width, height), new SKSamplingOptions(SKCubicResampler.Mitchell), null);
        }

        return new ImageFrame(width, height, dst.RowBytes, PixelFormat.Bgra32, dst.GetPixelSpan().ToArray());
    }
}
