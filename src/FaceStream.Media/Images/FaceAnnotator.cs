using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
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
            DrawFaces(canvas, image.Width, faces, labels);
        }

        Save(bitmap, path, quality);
    }

    /// <summary>
    /// A small annotated copy as JPEG bytes (the console's camera preview): the image scaled down to at most
    /// <paramref name="maxWidth"/> pixels wide, then the faces drawn on it (boxes and <paramref name="labels"/>, in the
    /// image's coordinates) at that size, so the lines and labels stay readable.
    /// </summary>
    /// <remarks>
    /// Scaled in one pass over the frame: each output pixel is the mean of the k × k block under it, k the whole factor
    /// the size allows (3 for 1920 → 640), converted to Skia's layout as it goes; Skia's bilinear filter takes the rest
    /// (under 2×) when the factor is not whole. No full-size copy is made and no mipmaps are built.
    /// </remarks>
    public static (byte[] Jpeg, int Width, int Height) EncodePreviewJpeg(ImageFrame image, IReadOnlyList<DetectedFace> faces, IReadOnlyList<string> labels, int maxWidth, int quality)
    {
        float scale = Math.Min(1f, (float)maxWidth / image.Width);
        int width = Math.Max(1, (int)MathF.Round(image.Width * scale)), height = Math.Max(1, (int)MathF.Round(image.Height * scale));
        using var reduced = ToBitmap(image, Math.Max(1, Math.Min(image.Width / width, image.Height / height)));
        using var rest = reduced.Width == width && reduced.Height == height ? null : new SKBitmap(new SKImageInfo(width, height, reduced.ColorType, SKAlphaType.Opaque));
        if (rest is not null)
        {
            reduced.ScalePixels(rest, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None));
        }

        var bitmap = rest ?? reduced;
        using (var canvas = new SKCanvas(bitmap))
        {
            DrawFaces(canvas, width, faces.Select(f => f.Scaled(scale)).ToList(), labels);
        }

        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, quality);
        return (data.ToArray(), width, height);
    }

    /// <summary>
    /// The detect stage's view of one frame (the <c>watch --annotate</c> overlay): the windows searched (yellow), the
    /// motion regions (cyan), the faces found (red), and a banner saying how the frame was searched; a whole-frame pass
    /// gets an orange border.
    /// </summary>
    public static void WriteScanJpeg(ImageFrame image, IReadOnlyList<DetectedFace> faces, IReadOnlyList<BoxF> windows, IReadOnlyList<BoxF> motion, bool wholeFrame,
        string banner, string path, int quality = 80)
    {
        using var bitmap = ToBitmap(image);
        using (var canvas = new SKCanvas(bitmap))
        {
            float stroke = Stroke(image);
            using var motionPaint = new SKPaint { Color = new SKColor(0, 220, 255), Style = SKPaintStyle.Stroke, StrokeWidth = stroke / 2, IsAntialias = true };
            using var windowPaint = new SKPaint { Color = new SKColor(255, 230, 0), Style = SKPaintStyle.Stroke, StrokeWidth = stroke, IsAntialias = true };
            foreach (var b in motion)
            {
                canvas.DrawRect(b.X1, b.Y1, b.Width, b.Height, motionPaint);
            }

            foreach (var b in windows)
            {
                canvas.DrawRect(b.X1, b.Y1, b.Width, b.Height, windowPaint);
            }

            if (wholeFrame)
            {
                using var border = new SKPaint { Color = new SKColor(255, 140, 0), Style = SKPaintStyle.Stroke, StrokeWidth = 3 * stroke };
                canvas.DrawRect(0, 0, image.Width, image.Height, border);
            }

            DrawFaces(canvas, image.Width, faces, null);
            using var font = new SKFont { Size = 9 * stroke };
            // Shrunk to fit a narrow frame, so the reason at the end of the banner stays readable.
            font.Size *= Math.Min(1f, (image.Width - (4 * stroke)) / Math.Max(1f, font.MeasureText(banner)));
            using var text = new SKPaint { Color = SKColors.White, IsAntialias = true };
            using var background = new SKPaint { Color = new SKColor(0, 0, 0, 170), Style = SKPaintStyle.Fill };
            canvas.DrawRect(0, 0, font.MeasureText(banner) + (4 * stroke), font.Size + (3 * stroke), background);
            canvas.DrawText(banner, 2 * stroke, font.Size + stroke, font, text);
        }

        Save(bitmap, path, quality);
    }

    /// <summary>
    /// Face boxes and landmark points (e.g. a face mesh) drawn on a copy of the image: every point a small green dot,
    /// the points listed in <paramref name="marked"/> (e.g. the eyelid points) larger and red.
    /// </summary>
    public static void WritePointsJpeg(ImageFrame image, IReadOnlyList<DetectedFace> faces, IReadOnlyList<IReadOnlyList<PointF>> points, IReadOnlySet<int> marked, string path, int quality = 90)
    {
        using var bitmap = ToBitmap(image);
        using (var canvas = new SKCanvas(bitmap))
        {
            DrawFaces(canvas, image.Width, faces, null);
            float r = Math.Max(1f, Stroke(image) / 2);
            using var plain = new SKPaint { Color = new SKColor(0, 230, 0), Style = SKPaintStyle.Fill, IsAntialias = true };
            using var mark = new SKPaint { Color = new SKColor(255, 30, 30), Style = SKPaintStyle.Fill, IsAntialias = true };
            foreach (var face in points)
            {
                for (int i = 0; i < face.Count; i++)
                {
                    canvas.DrawCircle(face[i].X, face[i].Y, marked.Contains(i) ? r * 1.5f : r * 0.6f, marked.Contains(i) ? mark : plain);
                }
            }
        }

        Save(bitmap, path, quality);
    }

    private static float Stroke(ImageFrame image) => Stroke(image.Width);

    private static float Stroke(int width) => Math.Max(2f, width / 640f);

    private static void DrawFaces(SKCanvas canvas, int width, IReadOnlyList<DetectedFace> faces, IReadOnlyList<string>? labels)
    {
        float stroke = Stroke(width);
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

    private static void Save(SKBitmap bitmap, string path, int quality)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var img = SKImage.FromBitmap(bitmap);
        using var data = img.Encode(SKEncodedImageFormat.Jpeg, quality);
        using var file = File.Create(path);
        data.SaveTo(file);
    }

    /// <summary>Encodes an image as JPEG bytes (used by tests to make re-encoded variants).</summary>
    public static byte[] EncodeJpeg(ImageFrame image, int quality)
    {
        using var bitmap = ToBitmap(image);
        using var img = SKImage.FromBitmap(bitmap);
        using var data = img.Encode(SKEncodedImageFormat.Jpeg, quality);
        return data.ToArray();
    }

    private static SKBitmap ToBitmap(ImageFrame image) => ToBitmap(image, 1);

    /// <summary>
    /// The image as an opaque Skia bitmap 1/<paramref name="k"/> its size, each pixel the rounded mean of the k × k block
    /// under it (k = 1: a plain copy). The channels keep their order (BGR sources become Bgra8888, RGB ones Rgba8888), so
    /// no pixel is reordered.
    /// </summary>
    private static SKBitmap ToBitmap(ImageFrame image, int k)
    {
        int w = image.Width / k, h = image.Height / k, bpp = image.Format.BytesPerPixel(), area = k * k;
        var order = image.Format is PixelFormat.Bgr24 or PixelFormat.Bgra32 ? SKColorType.Bgra8888 : SKColorType.Rgba8888;
        var bitmap = new SKBitmap(new SKImageInfo(w, h, order, SKAlphaType.Opaque));
        var dst = bitmap.GetPixelSpan();
        var src = image.Pixels.Span;
        var sums = new int[w * 3];
        for (int y = 0; y < h; y++)
        {
            Array.Clear(sums);
            for (int dy = 0; dy < k; dy++)
            {
                var row = src.Slice(((y * k) + dy) * image.Stride, w * k * bpp);
                for (int x = 0, s = 0; x < sums.Length; x += 3)
                {
                    for (int dx = 0; dx < k; dx++, s += bpp)
                    {
                        sums[x] += row[s];
                        sums[x + 1] += row[s + 1];
                        sums[x + 2] += row[s + 2];
                    }
                }
            }

            var o = dst.Slice(y * bitmap.RowBytes, w * 4);
            for (int x = 0, d = 0; x < sums.Length; x += 3, d += 4)
            {
                o[d] = (byte)((sums[x] + (area / 2)) / area);
                o[d + 1] = (byte)((sums[x + 1] + (area / 2)) / area);
                o[d + 2] = (byte)((sums[x + 2] + (area / 2)) / area);
                o[d + 3] = 255;
            }
        }

        return bitmap;
    }
}
