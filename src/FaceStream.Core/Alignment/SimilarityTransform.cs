using FaceStream.Core.Geometry;

namespace FaceStream.Core.Alignment;

/// <summary>A 2-D similarity (rotation, uniform scale, translation): x' = a·x − b·y + tx, y' = b·x + a·y + ty.</summary>
public readonly record struct SimilarityTransform(float A, float B, float Tx, float Ty)
{
    public float Scale => MathF.Sqrt((A * A) + (B * B));

    /// <summary>Rotation in degrees (counter-clockwise in image coordinates, y down).</summary>
    public float RotationDegrees => MathF.Atan2(B, A) * 180f / MathF.PI;

    public PointF Apply(PointF p) => new((A * p.X) - (B * p.Y) + Tx, (B * p.X) + (A * p.Y) + Ty);

    public SimilarityTransform Inverse()
    {
        float d = (A * A) + (B * B);
        float ia = A / d, ib = -B / d;
        // t' = −R⁻¹·t
        return new SimilarityTransform(ia, ib, -((ia * Tx) - (ib * Ty)), -((ib * Tx) + (ia * Ty)));
    }

    /// <summary>
    /// Least-squares similarity mapping <paramref name="src"/> onto <paramref name="dst"/> (Umeyama 1991, reflection
    /// excluded). In 2-D the SVD solution reduces to a complex-number regression: z = Σ conj(s)·d / Σ |s|².
    /// </summary>
    public static SimilarityTransform Estimate(ReadOnlySpan<PointF> src, ReadOnlySpan<PointF> dst)
    {
        if (src.Length != dst.Length || src.Length < 2)
        {
            throw new ArgumentException("need at least two matching point pairs");
        }

        double msx = 0, msy = 0, mdx = 0, mdy = 0;
        for (int i = 0; i < src.Length; i++)
        {
            msx += src[i].X; msy += src[i].Y; mdx += dst[i].X; mdy += dst[i].Y;
        }

        int n = src.Length;
        msx /= n; msy /= n; mdx /= n; mdy /= n;
        double num_a = 0, num_b = 0, den = 0;
        for (int i = 0; i < n; i++)
        {
            double sx = src[i].X - msx, sy = src[i].Y - msy;
            double dx = dst[i].X - mdx, dy = dst[i].Y - mdy;
            num_a += (sx * dx) + (sy * dy);
            num_b += (sx * dy) - (sy * dx);
            den += (sx * sx) + (sy * sy);
        }

        if (den <= 1e-12)
        {
            throw new ArgumentException("source points coincide; no transform exists");
        }

        double a = num_a / den, b = num_b / den;
        double tx = mdx - ((a * msx) - (b * msy));
        double ty = mdy - ((b * msx) + (a * msy));
        return new SimilarityTransform((float)a, (float)b, (float)tx, (float)ty);
    }
}
