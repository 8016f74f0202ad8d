namespace FaceStream.Core.Matching;

/// <summary>Adjusts 1:N scores using what is known about each enrolled identity (e.g. its scores against a cohort of strangers).</summary>
public interface IScoreNormaliser
{
    /// <summary>Learns from the enrolled templates (and whatever cohort the normaliser holds).</summary>
    IFittedNormaliser Fit(IReadOnlyList<(Identity Identity, float[] Template)> templates);
}

/// <summary>A normaliser fitted to one watchlist.</summary>
public interface IFittedNormaliser
{
    float Normalise(Identity identity, float[] probe, float score);
}
