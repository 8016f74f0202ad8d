using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;

namespace FaceStream.Media.Images;

/// <summary>Copies of image regions (enrollment crops, snapshots).</summary>
public static class ImageCrop
{
    /// <summary>The box grown by <paramref name="margin"/> box sizes on each side, clipped to the image, as a new tightly packed image.</summary>
    public static ImageFrame Around(ImageFrame image, BoxF box, float margin)
    {
        int x1 = Math.Clamp((int)(box.X1 - (box.Width * margin)), 0, image.Width - 1), y1 = Math.Clamp((int)(box.Y1 - (box.Height * margin)), 0, image.Height - 1);
        int x2 = Math.Clamp((int)MathF.Ceiling(box.X2 + (box.Width * margin)), x1 + 1, image.Width), y2 = Math.Clamp((int)MathF.Ceiling(box.Y2 + (box.Height * margin)), y1 + 1, image.Height);
        int bpp = image.Format.BytesPerPixel(), w = x2 - x1, h = y2 - y1;
        var pixels = new byte[w * h * bpp];
        var src = image.Pixels.Span;
        for (int y = 0; y < h; y++)
        {
            src.Slice(((y1 + y) * image.Stride) + (x1 * bpp), w * bpp).CopyTo(pixels.AsSpan(y * w * bpp));
        }

        return new ImageFrame(w, h, w * bpp, image.Format, pixels);
    }
}
