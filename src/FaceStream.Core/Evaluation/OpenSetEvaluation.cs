using FaceStream.Core.Matching;

namespace FaceStream.Core.Evaluation;

/// <summary>Watchlist simulation on labelled embeddings: some people enrolled, the rest strangers.</summary>
public static class OpenSetEvaluation
{
    /// <summary>Open-set identification quality of one aggregation rule.</summary>
    /// <param name="Rank1">Known probes whose best identity is theirs.</param>
    /// <param name="DirAtFar1">Detection-and-identification rate (right identity and above the threshold) where 1 % of strangers would be accepted.</param>
    /// <param name="DirAtFar01">The same at 0.1 %.</param>
    public sealed record Result(Aggregation Aggregation, int Identities, int KnownProbes, int StrangerProbes, double Rank1, double DirAtFar1, double DirAtFar01, float ThresholdFar1);

    /// <summary>
    /// Enrols the first <paramref name="templatesPerIdentity"/> embeddings of every other label (even labels), probes with
    /// their remaining embeddings (known) and with every embedding of the odd labels (strangers).
    /// </summary>
    public static IReadOnlyList<Result> Run(IReadOnlyList<(float[] Vector, int Label)> data, int templatesPerIdentity, string modelId)
    {
        var byLabel = data.GroupBy(d => d.Label).OrderBy(g => g.Key).ToList();
        var templates = new List<(Identity, float[])>();
        var known = new List<(float[] Vector, string Id)>();
        var strangers = new List<float[]>();
        foreach (var g in byLabel)
        {
            var items = g.ToList();
            if (g.Key % 2 == 0 && items.Count > templatesPerIdentity)
            {
                var identity = new Identity(g.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), $"person {g.Key}");
                templates.AddRange(items.Take(templatesPerIdentity).Select(i => (identity, i.Vector)));
                known.AddRange(items.Skip(templatesPerIdentity).Select(i => (i.Vector, identity.Id)));
            }
            else if (g.Key % 2 == 1)
            {
                strangers.AddRange(items.Select(i => i.Vector));
            }
        }

        if (templates.Count == 0 || known.Count == 0 || strangers.Count == 0)
        {
            return [];
        }

        var index = new GalleryIndex(modelId, templates[0].Item2.Length, templates);
        return [Evaluate(index, known, strangers, Aggregation.Max), Evaluate(index, known, strangers, Aggregation.Mean)];
    }

    private static Result Evaluate(GalleryIndex index, List<(float[] Vector, string Id)> known, List<float[]> strangers, Aggregation aggregation)
    {
        var strangerTop = strangers.Select(s => index.Search(s, 1, aggregation)[0].Similarity).OrderDescending().ToList();
        var knownTop = known.Select(k => (Hit: index.Search(k.Vector, 1, aggregation)[0], k.Id)).ToList();
        float Threshold(double far) => strangerTop[Math.Min(strangerTop.Count - 1, (int)Math.Floor(far * strangerTop.Count))] + 1e-6f;
        double Dir(float t) => knownTop.Count(k => k.Hit.Identity.Id == k.Id && k.Hit.Similarity >= t) / (double)knownTop.Count;
        float t1 = Threshold(0.01), t01 = Threshold(0.001);
        return new Result(aggregation, index.Identities, known.Count, strangers.Count,
            knownTop.Count(k => k.Hit.Identity.Id == k.Id) / (double)knownTop.Count, Dir(t1), Dir(t01), t1);
    }
}
