namespace FaceStream.Core.Matching;

/// <summary>Config section "Decision": open-set identification per track, from several agreeing views.</summary>
public sealed class DecisionOptions
{
    public const string Section = "Decision";

    /// <summary>Known-person cosine threshold; 0 = the embedder's measured threshold from the model manifest.</summary>
    public float KnownThreshold { get; set; }

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
