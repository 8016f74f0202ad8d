namespace FaceStream.Core.Matching;

/// <summary>Config section "Decision": open-set identification per track, from several agreeing views.</summary>
public sealed class DecisionOptions
{
    public const string Section = "Decision";

    /// <summary>Known-person cosine threshold for every model; 0 = per model (<see cref="ModelThresholds"/>, else the manifest's measured one).</summary>
    public float KnownThreshold { get; set; }

    /// <summary>Known-person threshold per embedder id, e.g. { "mobilefacenet-192": 0.52 }; used when KnownThreshold is 0.</summary>
    public Dictionary<string, float> ModelThresholds { get; set; } = [];

    /// <summary>The threshold for <paramref name="modelId"/>: KnownThreshold, else ModelThresholds, else the model's own.</summary>
    public float ThresholdFor(string modelId, float manifestThreshold) =>
        KnownThreshold > 0 ? KnownThreshold : ModelThresholds.TryGetValue(modelId, out var t) && t > 0 ? t : manifestThreshold;

    /// <summary>Top-1 must beat the best other identity by at least this much.</summary>
    public float Margin { get; set; } = 0.05f;

    /// <summary>Agreeing views needed (k of the last n).</summary>
    public int VotesNeeded { get; set; } = 2;

    /// <summary>Views considered (n).</summary>
    public int VoteWindow { get; set; } = 3;

    /// <summary>Report a face nobody on the watchlist matches, once per track, after n views.</summary>
    public bool ReportUnknown { get; set; }

    public IEnumerable<string> Validate()
    {
        if (KnownThreshold is < 0 or > 1)
        {
            yield return $"{Section}:KnownThreshold = {KnownThreshold} must be in [0, 1] (0 = the model's own)";
        }

        foreach (var (model, t) in ModelThresholds)
        {
            if (t is <= 0 or > 1)
            {
                yield return $"{Section}:ModelThresholds:{model} = {t} must be in (0, 1]";
            }
        }

        if (Margin is < 0 or > 1)
        {
            yield return $"{Section}:Margin = {Margin} must be in [0, 1]";
        }

        if (VotesNeeded < 1 || VoteWindow < VotesNeeded || VoteWindow > 50)
        {
            yield return $"{Section}:VotesNeeded ({VotesNeeded}) must be ≥ 1 and ≤ {Section}:VoteWindow ({VoteWindow}) ≤ 50";
        }
    }
}
