using System.Numerics.Tensors;

namespace FaceStream.Core.Matching;

/// <summary>
/// Cohort normalisation as per-identity thresholds. A cohort is a set of faces known not to be on the watchlist
/// (a deployment's own anonymous unknown faces, or the faces in the sample photos). An identity that some cohort
/// face already resembles at similarity c (its templates were taken from odd photos: greyscale, low resolution, a
/// look-alike's) gets its bar raised to c + <see cref="Delta"/> when that is above the global threshold, so it cannot
/// swallow strangers who resemble it; every other identity keeps the global threshold. Expressed as a score
/// adjustment (score − raise) so that the open-set rule and its threshold stay unchanged.
/// </summary>
public sealed class CohortThresholds : IFittedNormaliser
{
    private readonly Dictionary<string, float> _raise;

    private CohortThresholds(Dictionary<string, float> raise) => _raise = raise;

    /// <summary>Added to an identity's best cohort similarity to form its own threshold.</summary>
    public const float Delta = 0.02f;

    /// <summary>How much each identity's threshold is raised above <paramref name="threshold"/> by the cohort.</summary>
    public static CohortThresholds Fit(IReadOnlyList<(Identity Identity, float[] Template)> templates, IReadOnlyList<float[]> cohort, float threshold)
    {
        var best = new Dictionary<string, float>();
        foreach (var (identity, template) in templates)
        {
            float top = best.GetValueOrDefault(identity.Id, float.NegativeInfinity);
            foreach (var face in cohort)
            {
                top = Math.Max(top, TensorPrimitives.Dot(template, face));
            }

            best[identity.Id] = top;
        }

        return new CohortThresholds(best.ToDictionary(kv => kv.Key, kv => Math.Max(0, kv.Value + Delta - threshold)));
    }

    /// <summary>The raise of one identity's threshold (0 when the cohort does not come near it).</summary>
    public float Raise(string identityId) => _raise.GetValueOrDefault(identityId);

    public float Normalise(Identity identity, float[] probe, float score) => score - Raise(identity.Id);

    /// <summary>Hits re-scored and re-ranked.</summary>
    public IReadOnlyList<SearchHit> Apply(IReadOnlyList<SearchHit> hits) =>
        hits.Select(h => h with { Similarity = h.Similarity - Raise(h.Identity.Id) }).OrderByDescending(h => h.Similarity).ToList();
}

/// <summary>Fits <see cref="CohortThresholds"/> to each watchlist from a fixed cohort (for the evaluation's simulation).</summary>
public sealed class CohortNormaliser(IReadOnlyList<float[]> cohort, float threshold) : IScoreNormaliser
{
    public IFittedNormaliser Fit(IReadOnlyList<(Identity Identity, float[] Template)> templates) => CohortThresholds.Fit(templates, cohort, threshold);
}
