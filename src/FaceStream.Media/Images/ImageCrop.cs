using FaceStream.Core.Imaging;
using FaceStream.Core.Geometry;

namespace FaceStream.Media.Images;

/// <summary>Copies of image regions (enrollment crops, snapshots, face crops for the embedder).</summary>
public static class ImageCrop
{
    /// <summary>Pixel rectangle of the box grown by <paramref name="margin"/> box sizes on each side, clipped to the image (never empty).</summary>
    public static (int X, int Y, int Width, int Height) Bounds(ImageFrame image, BoxF box, float margin)
    {
        float mx = box.Width * margin, my = box.Height * margin;
        int x1 = Math.Clamp((int)MathF.Floor(box.X1 - mx), 0, image.Width - 1), y1 = Math.Clamp((int)MathF.Floor(box.Y1 - my), 0, image.Height - 1);
        int x2 = Math.Clamp((int)MathF.Ceiling(box.X2 + mx), x1 + 1, image.Width), y2 = Math.Clamp((int)MathF.Ceiling(box.Y2 + my), y1 + 1, image.Height);
        return (x1, y1, x2 - x1, y2 - y1);
    }

    /// <summary>Copies the rectangle into <paramref name="destination"/> as a tightly packed image (rows of width × bytes per pixel).</summary>
    public static ImageFrame Copy(ImageFrame image, (int X, int Y, int Width, int Height) r, Memory<byte> destination)
    {
        int bpp = image.Format.BytesPerPixel(), stride = r.Width * bpp;
        var src = image.Pixels.Span;
        var dst = destination.Span;
        for (int y = 0; y < r.Height; y++)
        {
            src.Slice(((r.Y + y) * image.Stride) + (r.X * bpp), stride).CopyTo(dst.Slice(y * stride, stride));
        }

        return new ImageFrame(r.Width, r.Height, stride, image.Format, destination[..(stride * r.Height)]);
    }

    /// <summary>The box grown by <paramref name="margin"/> box sizes on each side, clipped to the image, as a new image.</summary>
    public static ImageFrame Around(ImageFrame image, BoxF box, float margin)
    {
        var r = Bounds(image, box, margin);
        return Copy(image, r, new byte[r.Width * r.Height * image.Format.BytesPerPixel()]);
    }
}
