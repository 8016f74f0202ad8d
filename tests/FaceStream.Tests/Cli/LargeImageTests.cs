using System.Text.Json;
using FaceStream.Core.Geometry;
using FaceStream.Inference.Detection;
using FaceStream.Media.Images;
using FaceStream.Tests.Support;
using SkiaSharp;
using Xunit;

namespace FaceStream.Tests.Cli;

/// <summary>
/// A legal but huge photo (8000×8000, a few MB of JPEG) costs bounded memory and time: the detector raises its
/// smallest face so that P-Net's largest level stays within Detector:Mtcnn:MaxPyramidPixels, and still finds the
/// faces at their place in the original pixels, and P-Net runs its large levels in strips within Detector:Mtcnn:PNetArenaPixels.
/// Peak: 5.5 GB and minutes before the cap; 1.5 GiB with whole levels; 850 MiB with strips of 250 000 pixels (2026-12-02).
/// </summary>
[Trait("Category", "Live")]
public class LargeImageTests
{
    /// <summary>Peak resident memory allowed for `facestream detect` on the 8000×8000 photo with two detector threads (whole levels: 1520 MiB; strips of 1 000 000 pixels: 1340).</summary>
    private const long PeakBytesBound = 1100L * 1024 * 1024;

    [Fact]
    public void Detect_on_an_8000px_photo_finds_the_faces_at_their_place_within_a_memory_bound()
    {
        var dir = TestAssets.TempDirectory();
        string big = Path.Combine(dir, "big8000.jpg");
        float k = MakeScaledUp(TestAssets.Sample(1), big, 8000);

        IReadOnlyList<BoxF> expected;
        using (var engine = TestAssets.Engine())
        {
            expected = engine.Detector.Detect(StillImageDecoder.DecodeFile(TestAssets.Sample(1)))
                .Select(f => new BoxF(f.Box.X1 * k, f.Box.Y1 * k, f.Box.X2 * k, f.Box.Y2 * k)).ToList();
        }

        float minFace = new MtcnnOptions().EffectiveMinFace(8000, 8000);
        Assert.InRange(minFace, 47f, 49f); // the documented rule: 12·√(64 MP / 4 MP) = 48 px
        var (exit, stdout, peak) = CliRunner.RunMeasured(TimeSpan.FromMinutes(5), "detect", big, "--json", "--threads", "2");
        Assert.Equal(0, exit);
        var line = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.Equal(8000, line.GetProperty("width").GetInt32());
        var found = line.GetProperty("faces").EnumerateArray().Select(f =>
        {
            var b = f.GetProperty("box").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            return new BoxF(b[0], b[1], b[2], b[3]);
        }).ToList();

        // Every face of the original photo larger than the raised minimum is found where it is, scaled up; nothing else
        // (a face just under the minimum may still be found: P-Net's windows are not sharp at their size).
        var large = expected.Where(b => b.Width >= minFace * 1.2f).ToList();
        Assert.NotEmpty(large);
        Assert.InRange(found.Count, large.Count, expected.Count);
        foreach (var e in large)
        {
            Assert.Contains(found, f => f.IoU(e) >= 0.6f);
        }

        foreach (var f in found)
        {
            Assert.Contains(expected, e => e.IoU(f) >= 0.5f);
        }

        Assert.True(peak < PeakBytesBound, $"peak working set {peak / (1024 * 1024)} MiB, bound {PeakBytesBound / (1024 * 1024)} MiB");
    }

    /// <summary>Writes <paramref name="source"/> scaled up to <paramref name="side"/> px wide on a black square; returns the factor.</summary>
    internal static float MakeScaledUp(string source, string destination, int side)
    {
        using var photo = SKBitmap.Decode(source);
        float k = (float)side / photo.Width;
        using var surface = SKSurface.Create(new SKImageInfo(side, side, SKColorType.Bgra8888, SKAlphaType.Opaque));
        surface.Canvas.Clear(SKColors.Black);
        using (var image = SKImage.FromBitmap(photo))
        {
            surface.Canvas.DrawImage(image, SKRect.Create(0, 0, side, photo.Height * k), new SKSamplingOptions(SKCubicResampler.Mitchell));
        }

        using var snapshot = surface.Snapshot();
        using var jpeg = snapshot.Encode(SKEncodedImageFormat.Jpeg, 90);
        File.WriteAllBytes(destination, jpeg.ToArray());
        return k;
    }
}
