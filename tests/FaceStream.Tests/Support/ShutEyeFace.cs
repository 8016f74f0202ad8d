using FaceStream.Core.Faces;
using FaceStream.Inference;
using FaceStream.Media.Images;
using SkiaSharp;

namespace FaceStream.Tests.Support;

/// <summary>
/// A face with both eyes shut, made from a sample photo (no photo in the repository has closed eyes, and the tests
/// take no data from outside it): a 640 × 640 portrait of sample3's right-hand woman, and over each of MTCNN's eye
/// points a closed eye painted in: an ellipse 0.8 × 0.45 eye distances filled with the skin sampled just above and
/// below it (an eyelid, shaded from the upper colour to the lower), a dark arc 0.07 eye distances thick for the lash
/// line, the edges blurred into the face. Variants tried on nine faces of samples 1, 3 and 6: smaller lids
/// (0.6 × 0.32) leave the face mesh reading all nine open; without the lash line MTCNN stops finding this face, or
/// (sample3's middle woman) the mesh and iris models read it open. This one is read closed by all three eye models at
/// MinFaceSize 20 and 40 and on a 0.8× copy (mesh openness ≤ 0.124 against enrollment's 0.18; the open portrait
/// 0.23–0.31): docs/attributes.md.
/// </summary>
public static class ShutEyeFace
{
    private const float LidWidth = 0.8f, LidHeight = 0.45f, Lash = 0.07f;

    // sample3's right-hand face (labelled at (1592, 432)), its eyes a little above the portrait's centre.
    private static readonly SKRectI Region = new(1342, 162, 1842, 662);

    /// <summary>The portrait as it is, eyes open: <paramref name="scale"/> × 640 px square, PNG.</summary>
    public static byte[] OpenPortrait(float scale = 1f)
    {
        using var bitmap = Portrait(scale);
        return Encode(bitmap);
    }

    /// <summary>The same portrait with both eyes painted shut at the eye points <paramref name="engine"/>'s detector finds.</summary>
    public static byte[] ShutPortrait(FaceEngine engine, float scale = 1f)
    {
        using var bitmap = Portrait(scale);
        var face = SubjectFace.Pick(engine.Detector.Detect(StillImageDecoder.Decode(Encode(bitmap), "portrait.png")))
            ?? throw new InvalidOperationException("no face found in the open portrait");
        PaintShut(bitmap, face.Landmarks);
        return Encode(bitmap);
    }

    private static SKBitmap Portrait(float scale)
    {
        int side = (int)MathF.Round(640 * scale);
        var portrait = new SKBitmap(side, side);
        using var canvas = new SKCanvas(portrait);
        using var photo = SKBitmap.Decode(TestAssets.Sample(3));
        canvas.DrawBitmap(photo, Region, new SKRect(0, 0, side, side));
        return portrait;
    }

    private static byte[] Encode(SKBitmap bitmap)
    {
        using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    private static void PaintShut(SKBitmap bitmap, Landmarks5 landmarks)
    {
        var (l, r) = (landmarks.LeftEye, landmarks.RightEye);
        float d = MathF.Sqrt(((r.X - l.X) * (r.X - l.X)) + ((r.Y - l.Y) * (r.Y - l.Y)));
        float degrees = MathF.Atan2(r.Y - l.Y, r.X - l.X) * 180f / MathF.PI;
        float w = LidWidth * d, h = LidHeight * d;
        // Skin colours read before painting, so the second eye is not coloured by the first's patch.
        var colours = new[] { l, r }.Select(e => (Upper: Mean(bitmap, e.X, e.Y - (0.75f * h), 0.4f * w, 0.1f * h), Lower: Mean(bitmap, e.X, e.Y + (0.75f * h), 0.4f * w, 0.1f * h))).ToList();
        using var canvas = new SKCanvas(bitmap);
        for (int i = 0; i < 2; i++)
        {
            var e = i == 0 ? l : r;
            canvas.Save();
            canvas.Translate(e.X, e.Y);
            canvas.RotateDegrees(degrees);
            using (var lid = new SKPaint
            {
                IsAntialias = true,
                Shader = SKShader.CreateLinearGradient(new SKPoint(0, -h / 2), new SKPoint(0, h / 2), [colours[i].Upper, colours[i].Lower], SKShaderTileMode.Clamp),
                MaskFilter = SKMaskFilter.CreateBlur(SKBlurStyle.Normal, (0.08f * h) + 0.5f),
            })
            {
                canvas.DrawOval(new SKRect(-w / 2, -h / 2, w / 2, h / 2), lid);
            }

            // The lash line: the lower half of a flat ellipse from corner to corner, just below the eye point.
            using (var lash = new SKPaint
            {
                IsAntialias = true,
                Style = SKPaintStyle.Stroke,
                StrokeWidth = Lash * d,
                StrokeCap = SKStrokeCap.Round,
                Color = Darker(colours[i].Lower, 0.35f),
                MaskFilter = SKMaskFilter.CreateBlur(SKBlurStyle.Normal, (0.3f * Lash * d) + 0.3f),
            })
            using (var path = new SKPath())
            {
                path.AddArc(new SKRect(-0.42f * w, -0.12f * h, 0.42f * w, 0.22f * h), 10, 160);
                canvas.DrawPath(path, lash);
            }

            canvas.Restore();
        }
    }

    private static SKColor Darker(SKColor c, float f) => new((byte)(c.Red * f), (byte)(c.Green * f), (byte)(c.Blue * f));

    /// <summary>Mean colour of the <paramref name="w"/> × <paramref name="h"/> box centred on (<paramref name="cx"/>, <paramref name="cy"/>).</summary>
    private static SKColor Mean(SKBitmap bitmap, float cx, float cy, float w, float h)
    {
        long r = 0, g = 0, b = 0, n = 0;
        for (int y = (int)(cy - (h / 2)); y <= (int)(cy + (h / 2)); y++)
        {
            for (int x = (int)(cx - (w / 2)); x <= (int)(cx + (w / 2)); x++)
            {
                var p = bitmap.GetPixel(Math.Clamp(x, 0, bitmap.Width - 1), Math.Clamp(y, 0, bitmap.Height - 1));
                (r, g, b, n) = (r + p.Red, g + p.Green, b + p.Blue, n + 1);
            }
        }

        return new SKColor((byte)(r / n), (byte)(g / n), (byte)(b / n));
    }
}
