namespace FaceStream.Core.Geometry;

/// <summary>An axis-aligned box in image pixel coordinates (x1, y1) – (x2, y2).</summary>
public readonly record struct BoxF(float X1, float Y1, float X2, float Y2)
{
    public float Width => X2 - X1;
    public float Height => Y2 - Y1;
    public float Area => Math.Max(0, Width) * Math.Max(0, Height);
    public PointF Center => new((X1 + X2) / 2, (Y1 + Y2) / 2);

    /// <summary>Intersection over union (continuous coordinates).</summary>
    public float IoU(BoxF other)
    {
        float iw = Math.Min(X2, other.X2) - Math.Max(X1, other.X1);
        float ih = Math.Min(Y2, other.Y2) - Math.Max(Y1, other.Y1);
        if (iw <= 0 || ih <= 0)
        {
            return 0;
        }

        float inter = iw * ih;
        return inter / (Area + other.Area - inter);
    }

    public bool Contains(PointF p) => p.X >= X1 && p.X <= X2 && p.Y >= Y1 && p.Y <= Y2;
}

/// <summary>A point in image pixel coordinates.</summary>
public readonly record struct PointF(float X, float Y);
