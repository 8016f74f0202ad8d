using FaceStream.Core.Detection;
using Xunit;

namespace FaceStream.Tests.Core;

public class BoxRegressionTests
{
    [Fact]
    public void Inclusive_regression_scales_offsets_by_width_plus_one()
    {
        // w = h = 100 − 0 + 1 = 101: x1 = 0 + 0.1·101 = 10.1, x2 = 100 − 0.2·101 = 79.8.
        Candidate[] c = [new(0, 0, 100, 100, 1) { Dx1 = 0.1f, Dy1 = -0.1f, Dx2 = -0.2f, Dy2 = 0.05f }];
        BoxRegression.Apply(c, inclusive: true);
        Assert.Equal(10.1f, c[0].X1, 3);
        Assert.Equal(-10.1f, c[0].Y1, 3);
        Assert.Equal(79.8f, c[0].X2, 3);
        Assert.Equal(105.05f, c[0].Y2, 3);
    }

    [Fact]
    public void PNet_regression_uses_plain_width()
    {
        Candidate[] c = [new(0, 0, 100, 50, 1) { Dx1 = 0.1f, Dy1 = 0.1f }];
        BoxRegression.Apply(c, inclusive: false);
        Assert.Equal(10f, c[0].X1, 4);
        Assert.Equal(5f, c[0].Y1, 4);
    }

    [Fact]
    public void Square_keeps_the_centre_and_uses_the_longer_side()
    {
        Candidate[] c = [new(10, 20, 30, 60, 1)]; // w 20, h 40, centre (20, 40)
        BoxRegression.Square(c);
        Assert.Equal((0f, 20f, 40f, 60f), (c[0].X1, c[0].Y1, c[0].X2, c[0].Y2));
    }

    [Fact]
    public void Truncate_rounds_toward_zero_like_numpy_fix()
    {
        Candidate[] c = [new(1.7f, -1.7f, 2.2f, -0.2f, 1)];
        BoxRegression.Truncate(c);
        Assert.Equal((1f, -1f, 2f, 0f), (c[0].X1, c[0].Y1, c[0].X2, c[0].Y2 + 0f));
    }
}
