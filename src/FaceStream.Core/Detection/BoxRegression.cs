namespace FaceStream.Core.Detection;

/// <summary>MTCNN's box calibration and squaring, with the reference implementation's exact conventions.</summary>
public static class BoxRegression
{
    /// <summary>
    /// Applies the regression offsets. P-Net's output is calibrated with width x2 − x1 (no +1) in the reference
    /// cascade, R-Net's and O-Net's with x2 − x1 + 1; <paramref name="inclusive"/> selects which.
    /// </summary>
    public static void Apply(Span<Candidate> items, bool inclusive)
    {
        float plus = inclusive ? 1f : 0f;
        for (int i = 0; i < items.Length; i++)
        {
            ref var c = ref items[i];
            float w = c.X2 - c.X1 + plus;
            float h = c.Y2 - c.Y1 + plus;
            float x1 = c.X1 + (c.Dx1 * w);
            float y1 = c.Y1 + (c.Dy1 * h);
            float x2 = c.X2 + (c.Dx2 * w);
            float y2 = c.Y2 + (c.Dy2 * h);
            c.X1 = x1; c.Y1 = y1; c.X2 = x2; c.Y2 = y2;
        }
    }

    /// <summary>Turns each box into the square on its longer side, keeping the centre ("rerec").</summary>
    public static void Square(Span<Candidate> items)
    {
        for (int i = 0; i < items.Length; i++)
        {
            ref var c = ref items[i];
            float w = c.X2 - c.X1;
            float h = c.Y2 - c.Y1;
            float l = Math.Max(w, h);
            c.X1 = c.X1 + (w * 0.5f) - (l * 0.5f);
            c.Y1 = c.Y1 + (h * 0.5f) - (l * 0.5f);
            c.X2 = c.X1 + l;
            c.Y2 = c.Y1 + l;
        }
    }

    /// <summary>Truncates coordinates toward zero (numpy's fix), as the reference does before cropping.</summary>
    public static void Truncate(Span<Candidate> items)
    {
        for (int i = 0; i < items.Length; i++)
        {
            ref var c = ref items[i];
            c.X1 = MathF.Truncate(c.X1); c.Y1 = MathF.Truncate(c.Y1);
            c.X2 = MathF.Truncate(c.X2); c.Y2 = MathF.Truncate(c.Y2);
        }
    }
}
