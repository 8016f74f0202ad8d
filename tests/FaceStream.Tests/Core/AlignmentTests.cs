using FaceStream.Core.Alignment;
using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;
using Xunit;

namespace FaceStream.Tests.Core;

public class AlignmentTests
{
    [Fact]
    public void Estimate_recovers_a_known_similarity_exactly()
    {
        // Rotation 30°, scale 2, translation (5, −3): a = 2·cos30 = 1.7320508, b = 2·sin30 = 1.
        var truth = new SimilarityTransform(1.7320508f, 1f, 5f, -3f);
        PointF[] src = [new(0, 0), new(10, 0), new(0, 10), new(7, 3), new(-4, 6)];
        var dst = src.Select(truth.Apply).ToArray();
        var t = SimilarityTransform.Estimate(src, dst);
        Assert.Equal(1.7320508f, t.A, 4);
        Assert.Equal(1f, t.B, 4);
        Assert.Equal(5f, t.Tx, 3);
        Assert.Equal(-3f, t.Ty, 3);
        Assert.Equal(2f, t.Scale, 4);
        Assert.Equal(30f, t.RotationDegrees, 2);
    }

    [Fact]
    public void Estimate_is_the_least_squares_fit_for_noisy_points()
    {
        // Two points mapped by pure translation (1, 1) plus symmetric noise: the fit is the translation.
        PointF[] src = [new(0, 0), new(2, 0)];
        PointF[] dst = [new(1, 1.1f), new(3, 0.9f)];
        var t = SimilarityTransform.Estimate(src, dst);
        // Hand solution: centred src (−1,0),(1,0); dst (−1,0.1),(1,−0.1): a = 2/2 = 1, b = (−0.1 − 0.1)/2 = −0.1.
        Assert.Equal(1f, t.A, 4);
        Assert.Equal(-0.1f, t.B, 4);
    }

    [Fact]
    public void Inverse_round_trips()
    {
        var t = new SimilarityTransform(0.8f, -0.3f, 12f, 7f);
        var p = new PointF(3.5f, -2f);
        var back = t.Inverse().Apply(t.Apply(p));
        Assert.Equal(p.X, back.X, 4);
        Assert.Equal(p.Y, back.Y, 4);
    }

    private static ImageFrame Gradient(int w, int h)
    {
        // RGB24 where R = 10·x, G = 10·y, B = 7.
        var px = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                px[((y * w) + x) * 3] = (byte)(10 * x);
                px[(((y * w) + x) * 3) + 1] = (byte)(10 * y);
                px[(((y * w) + x) * 3) + 2] = 7;
            }
        }

        return new ImageFrame(w, h, w * 3, PixelFormat.Rgb24, px);
    }

    [Fact]
    public void Warp_with_a_half_pixel_shift_interpolates_bilinearly_and_normalises()
    {
        var img = Gradient(8, 8);
        // chip(u, v) samples image(u + 0.5, v + 0.25): R = 10·(u + 0.5), G = 10·(v + 0.25).
        var t = new SimilarityTransform(1, 0, -0.5f, -0.25f);
        var dst = new float[3 * 4 * 4];
        AffineWarp.ToTensor(img, t, new ChipFormat(4, Bgr: false, Mean: 5f, Scale: 0.5f), dst);
        // u = 2, v = 1: R = 25 → (25 − 5)·0.5 = 10; G = 12.5 → 3.75; B = 7 → 1.
        Assert.Equal(10f, dst[(1 * 4) + 2], 3);
        Assert.Equal(3.75f, dst[16 + (1 * 4) + 2], 3);
        Assert.Equal(1f, dst[32 + (1 * 4) + 2], 3);
    }

    [Fact]
    public void Warp_writes_black_outside_the_image_and_can_swap_to_bgr()
    {
        var img = Gradient(4, 4);
        var t = new SimilarityTransform(1, 0, 10, 10); // chip pixel (0,0) looks at image (−10, −10)
        var dst = new float[3 * 2 * 2];
        AffineWarp.ToTensor(img, t, new ChipFormat(2, Bgr: true, Mean: 0f, Scale: 1f), dst);
        Assert.All(dst, v => Assert.Equal(0f, v));

        AffineWarp.ToTensor(img, new SimilarityTransform(1, 0, 0, 0), new ChipFormat(2, Bgr: true, Mean: 0f, Scale: 1f), dst);
        Assert.Equal(7f, dst[0]);        // plane 0 = B
        Assert.Equal(10f, dst[8 + 1]);   // plane 2 = R at (1, 0) = 10
    }
}
