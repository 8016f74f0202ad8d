using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using SkiaSharp;

namespace FaceStream.Media.Images;

/// <summary>Draws boxes, scores and landmarks on a copy of an image and writes it as JPEG.</summary>
public static class FaceAnnotator
{
    private static readonly SKColor[] LandmarkColors =
    [
        new(0, 255, 0), new(0, 200, 255), new(255, 0, 255), new(255, 160, 0), new(255, 255, 0),
    ];

    public static void WriteJpeg(ImageFrame image, IReadOnlyList<DetectedFace> faces, string path, IReadOnlyList<string>? labels = null, int quality = 90)
    {
        using var bitmap = ToBitmap(image);
        using (var canvas = new SKCanvas(bitmap))
        {
            float stroke = Math.Max(2f, image.Width / 640f);
            using var box = new SKPaint { Color = new SKColor(255, 40, 40), Style = SKPaintStyle.Stroke, StrokeWidth = stroke, IsAntialias = true };
            using var dot = new SKPaint { Style = SKPaintStyle.Fill, IsAntialias = true };
            using var text = new SKPaint { Color = SKColors.White, IsAntialias = true };
            using var font = new SKFont { Size = 7 * stroke };
            using var textBg = new SKPaint { Color = new SKColor(255, 40, 40), Style = SKPaintStyle.Fill };
            for (int i = 0; i < faces.Count; i++)
            {
                var f = faces[i];
                canvas.DrawRect(f.Box.X1, f.Box.Y1, f.Box.Width, f.Box.Height, box);
                int k = 0;
                foreach (var p in f.Landmarks.Points)
                {
                    dot.Color = LandmarkColors[k++];
                    canvas.DrawCircle(p.X, p.Y, stroke * 1.5f, dot);
                }

                string label = labels is not null && i < labels.Count ? labels[i] : f.Score.ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
                float tw = font.MeasureText(label);
                canvas.DrawRect(f.Box.X1, f.Box.Y1 - font.Size - 2, tw + 4, font.Size + 2, textBg);
                canvas.DrawText(label, f.Box.X1 + 2, f.Box.Y1 - 3, font, text);
            }
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var img = SKImage.FromBitmap(bitmap);
        using var data = img.Encode(SKEncodedImageFormat.Jpeg, quality);
        using var f2 = File.Create(path);
        data.SaveTo(f2);
    }

    /// <summary>Encodes an image as JPEG bytes (used by tests to make re-encoded variants).</summary>
    public static byte[] EncodeJpeg(ImageFrame image, int quality)
    {
        using var bitmap = ToBitmap(image);
        using var img = SKImage.FromBitmap(bitmap);
        using var data = img.Encode(SKEncodedImageFormat.Jpeg, quality);
        return data.ToArray();
    }

    private static SKBitmap ToBitmap(ImageFrame image)
    {
        var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var dst = bitmap.GetPixelSpan();
        var src = image.Pixels.Span;
        var (ro, go, bo) = image.Format.ChannelOffsets();
        int bpp = image.Format.BytesPerPixel();
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                int s = (y * image.Stride) + (x * bpp), d = ((y * image.Width) + x) * 4;
                dst[d] = src[s + ro];
                dst[d + 1] = src[s + go];
                dst[d + 2] = src[s + bo];
                dst[d + 3] = 255;
            }
        }

        return bitmap;
    }
}
