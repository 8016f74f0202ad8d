using FaceStream.Core.Imaging;
using FaceStream.Core.Embeddings;
using FaceStream.Inference;
using FaceStream.Inference.Runtime;
using FaceStream.Media.Images;
using FaceStream.Tests.Support;
using SkiaSharp;
using Xunit;

namespace FaceStream.Tests.Inference;

/// <summary>A face stays itself under everyday image changes; other people stay other people.</summary>
[Trait("Category", "Live")]
public class EmbeddingIdentityTests
{
    internal static ImageFrame Mirror(ImageFrame f)
    {
        var src = f.Pixels.Span;
        var dst = new byte[f.Stride * f.Height];
        for (int y = 0; y < f.Height; y++)
        {
            for (int x = 0; x < f.Width; x++)
            {
                src.Slice((y * f.Stride) + (x * 4), 4).CopyTo(dst.AsSpan((y * f.Stride) + ((f.Width - 1 - x) * 4), 4));
            }
        }

        return f with { Pixels = dst };
    }

    private static ImageFrame Brightness(ImageFrame f, float gain, int offset) =>
        f with { Pixels = f.Pixels.ToArray().Select((v, i) => i % 4 == 3 ? v : (byte)Math.Clamp((v * gain) + offset, 0, 255)).ToArray() };

    private static ImageFrame Scale(ImageFrame f, float s)
    {
        int w = (int)(f.Width * s), h = (int)(f.Height * s);
        using var src = new SKBitmap(new SKImageInfo(f.Width, f.Height, SKColorType.Bgra8888, SKAlphaType.Premul));
        f.Pixels.Span.CopyTo(src.GetPixelSpan());
        using var dst = src.Resize(new SKImageInfo(w, h, SKColorType.Bgra8888, SKAlphaType.Premul), new SKSamplingOptions(SKCubicResampler.Mitchell));
        return new ImageFrame(w, h, dst.RowBytes, PixelFormat.Bgra32, dst.GetPixelSpan().ToArray());
    }

    private static ImageFrame Jpeg(ImageFrame f, int quality) => StillImageDecoder.Decode(FaceAnnotator.EncodeJpeg(f, quality), "reencoded.jpg");

    [Theory]
    [InlineData(InferenceOptions.DefaultEmbedder)]
    [InlineData("faceplugin-arcface-512")]
    [InlineData("mobilefacenet-192")]
    [InlineData("faceapi-resnet-128")]
    public void Transformed_copies_match_and_other_people_do_not(string embedder)
    {
        using var engine = TestAssets.Engine(embedder);
        var original = StillImageDecoder.DecodeFile(TestAssets.Sample(1));
        var reference = engine.SubjectFaceOf(original)!;
        float threshold = engine.Embedder.Threshold;
        var c = reference.Face.Box.Center;
        // Each variant with where the reference face's centre lands in it.
        var variants = new Dictionary<string, (ImageFrame Image, float X, float Y)>
        {
            ["mirror"] = (Mirror(original), original.Width - 1 - c.X, c.Y),
            ["brighter"] = (Brightness(original, 1.0f, 40), c.X, c.Y),
            ["darker"] = (Brightness(original, 0.6f, 0), c.X, c.Y),
            ["half size"] = (Scale(original, 0.5f), c.X / 2, c.Y / 2),
            ["jpeg q30"] = (Jpeg(original, 30), c.X, c.Y),
        };
        foreach (var (name, (image, x, y)) in variants)
        {
            // The same person, found at the same place (sample1's faces are near-equal in size, so "largest" may differ).
            var face = engine.DetectAndEmbed(image).SingleOrDefault(f => f.Face.Box.Contains(new FaceStream.Core.Geometry.PointF(x, y)));
            Assert.True(face is not null, $"{embedder}: no face at ({x:F0},{y:F0}) in the {name} copy");
            float s = reference.Embedding.Similarity(face!.Embedding);
            Assert.True(s >= threshold, $"{embedder}: {name} copy scored {s:F3} < threshold {threshold:F2}");
        }

        // The six photos show one group of friends, so some people appear twice. Labelled by looking at the crops:
        // one pair is certainly the same woman and must match; two look-alike pairs are uncertain and left out;
        // every other pair is two different people and must stay below the threshold.
        var all = new List<(int Sample, EmbeddedFace Face)>();
        for (int i = 1; i <= 6; i++)
        {
            var image = StillImageDecoder.DecodeFile(TestAssets.Sample(i));
            var labelled = MtcnnDetectorTests.LabelledFaces[i];
            all.AddRange(engine.DetectAndEmbed(image)
                .Where(f => labelled.Any(l => f.Face.Box.Contains(new FaceStream.Core.Geometry.PointF(l.X, l.Y))))
                .Select(f => (i, f)));
        }

        Assert.Equal(22, all.Count);
        for (int a = 0; a < all.Count; a++)
        {
            for (int b = a + 1; b < all.Count; b++)
            {
                float s = all[a].Face.Embedding.Similarity(all[b].Face.Embedding);
                if (Labelled(SamePerson, all[a], all[b]))
                {
                    Assert.True(s >= threshold, $"{embedder}: the same woman in sample{all[a].Sample} and sample{all[b].Sample} scored {s:F3} < {threshold:F2}");
                    continue;
                }

                if (Labelled(Uncertain, all[a], all[b]))
                {
                    continue;
                }

                Assert.True(s < threshold, $"{embedder}: different people (sample{all[a].Sample}, sample{all[b].Sample}) scored {s:F3} ≥ {threshold:F2}");
            }
        }
    }

    private static readonly ((int S, int X, int Y) A, (int S, int X, int Y) B)[] SamePerson =
    [
        ((1, 1581, 322), (3, 1171, 354)), // blonde woman, right in sample1, middle in sample3
    ];

    private static readonly ((int S, int X, int Y) A, (int S, int X, int Y) B)[] Uncertain =
    [
        ((1, 933, 542), (4, 345, 333)),   // dark hair, heavy make-up in sample1
        ((4, 741, 180), (6, 1266, 452)),
    ];

    private static bool Labelled(((int S, int X, int Y) A, (int S, int X, int Y) B)[] pairs, (int Sample, EmbeddedFace Face) a, (int Sample, EmbeddedFace Face) b)
    {
        static bool Is((int Sample, EmbeddedFace Face) f, (int S, int X, int Y) p) =>
            f.Sample == p.S && f.Face.Face.Box.Contains(new FaceStream.Core.Geometry.PointF(p.X, p.Y));
        return pairs.Any(p => (Is(a, p.A) && Is(b, p.B)) || (Is(a, p.B) && Is(b, p.A)));
    }

    [Fact]
    public void Embeddings_are_unit_length_and_models_never_compare_silently()
    {
        using var a = TestAssets.Engine("faceplugin-arcface-512");
        using var b = TestAssets.Engine("mobilefacenet-192");
        var image = StillImageDecoder.DecodeFile(TestAssets.Sample(2));
        var ea = a.SubjectFaceOf(image)!.Embedding;
        var eb = b.SubjectFaceOf(image)!.Embedding;
        Assert.Equal(512, ea.Dimension);
        Assert.Equal(192, eb.Dimension);
        Assert.Equal(1f, System.Numerics.Tensors.TensorPrimitives.Norm(ea.Vector), 4);
        Assert.Throws<InvalidOperationException>(() => ea.Similarity(eb));
    }
}
