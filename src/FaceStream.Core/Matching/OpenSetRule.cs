namespace FaceStream.Core.Matching;

/// <summary>One embedded view's verdict: the best identity if it passed threshold and margin, else null.</summary>
public readonly record struct Vote(Identity? Identity, float Similarity, float Margin, float Quality);

/// <summary>What a track's votes add up to.</summary>
public enum Verdict
{
    Undecided,
    Known,
    Unknown,
}

/// <summary>The open-set rule shared by CLI, API and worker: top-1 ≥ threshold and ahead of the next identity by the margin.</summary>
public static class OpenSetRule
{
    public static Vote Judge(IReadOnlyList<SearchHit> top, float threshold, float margin, float quality)
    {
        if (top.Count == 0)
        {
            return new Vote(null, 0, 0, quality);
        }

        float second = top.Count > 1 ? top[1].Similarity : 0;
        float gap = top[0].Similarity - Math.Max(0, second);
        bool known = top[0].Similarity >= threshold && gap >= margin;
        return new Vote(known ? top[0].Identity : null, top[0].Similarity, gap, quality);
    }
}
