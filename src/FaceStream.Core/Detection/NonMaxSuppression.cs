namespace FaceStream.Core.Detection;

/// <summary>Greedy non-maximum suppression with MTCNN's inclusive-pixel areas ((x2 − x1 + 1)·(y2 − y1 + 1)).</summary>
public static class NonMaxSuppression
{
    /// <summary>
    /// Keeps the highest-scoring windows and drops any whose overlap with a kept one exceeds <paramref name="threshold"/>.
    /// Candidates from different frames never suppress each other. Returns the kept count; the kept windows are moved
    /// to the front of <paramref name="items"/>, highest score first.
    /// </summary>
    public static int Apply(Span<Candidate> items, float threshold, NmsMode mode)
    {
        if (items.Length <= 1)
        {
            return items.Length;
        }

        // Sort descending by score; stable ordering for equal scores keeps results deterministic.
        items.Sort(static (a, b) => b.Score.CompareTo(a.Score));
        int kept = 0;
        for (int i = 0; i < items.Length; i++)
        {
            ref readonly var c = ref items[i];
            float areaC = (c.X2 - c.X1 + 1) * (c.Y2 - c.Y1 + 1);
            bool suppressed = false;
            for (int k = 0; k < kept; k++)
            {
                ref readonly var p = ref items[k];
                if (p.Frame != c.Frame)
                {
                    continue;
                }

                float w = Math.Max(0f, Math.Min(p.X2, c.X2) - Math.Max(p.X1, c.X1) + 1);
                float h = Math.Max(0f, Math.Min(p.Y2, c.Y2) - Math.Max(p.Y1, c.Y1) + 1);
                float inter = w * h;
                float areaP = (p.X2 - p.X1 + 1) * (p.Y2 - p.Y1 + 1);
                float o = mode == NmsMode.Min ? inter / Math.Min(areaP, areaC) : inter / (areaP + areaC - inter);
                if (o > threshold)
                {
                    suppressed = true;
                    break;
                }
            }

            if (!suppressed)
            {
                items[kept++] = c;
            }
        }

        return kept;
    }
}
