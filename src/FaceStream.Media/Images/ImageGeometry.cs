using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;
using SkiaSharp;

namespace FaceStream.Media.Images;

/// <summary>Turned and mirrored copies of an image (for checking head-pose and other attribute estimates).</summary>
public static class ImageGeometry
{
    /// <summary>
    /// A BGRA copy of the same size turned by <paramref name="degrees"/> about the image centre, clockwise as seen on
    /// screen for positive angles; corners that leave the frame are cut, uncovered areas are black.
    /// </summary>
    public static ImageFrame Rotate(ImageFrame src, float degrees)
    {
        using var bitmap = ToBitmap(src);
        using var turned = new SKBitmap(new SKImageInfo(src.Width, src.Height, SKColorType.Bgra8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(turned))
        {
            canvas.Clear(SKColors.Black);
            canvas.Translate(src.Width / 2f, src.Height / 2f);
            canvas.RotateDegrees(degrees);
            canvas.Translate(-src.Width / 2f, -src.Height / 2f);
            using var image = SKImage.FromBitmap(bitmap);
            canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKFilterMode.Linear));
        }

        return new ImageFrame(src.Width, src.Height, turned.RowBytes, PixelFormat.Bgra32, turned.GetPixelSpan().ToArray());
    }

    /// <summary>Where point <paramref name="p"/> lands when the image is turned as <see cref="Rotate"/> turns it.</summary>
    public static PointF Turned(PointF p, float degrees, int width, int height)
    {
        float a = degrees * MathF.PI / 180, cx = width / 2f, cy = height / 2f;
        float dx = p.X - cx, dy = p.Y - cy;
        return new PointF(cx + (dx * MathF.Cos(a)) - (dy * MathF.Sin(a)), cy + (dx * MathF.Sin(a)) + (dy * MathF.Cos(a)));
    }

    /// <summary>A copy mirrored left to right, in the same pixel format.</summary>
    public static ImageFrame Mirror(ImageFrame f)
    {
        int bpp = f.Format.BytesPerPixel();
        var src = f.Pixels.Span;
        var dst = new byte[f.Stride * f.Height];
        for (int y = 0; y < f.Height; y++)
        {
            for (int x = 0; x < f.Width; x++)
            {
                src.Slice((y * f.Stride) + (x * bpp), bpp).CopyTo(dst.AsSpan((y * f.Stride) + ((f.Width - 1 - x) * bpp), bpp));
            }
        }

        return f with { Pixels = dst };
    }

    private static SKBitmap ToBitmap(ImageFrame f)
    {
        var bitmap = new SKBitmap(new SKImageInfo(f.Width, f.Height, SKColorType.Bgra8888, SKAlphaType.Premul));
        var dst = bitmap.GetPixelSpan();
        PixelConversion.ToBgra(f, dst);
        return bitmap;
    }
}
