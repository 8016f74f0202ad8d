using FaceStream.Core.Matching;

namespace FaceStream.Core.Evaluation;

/// <summary>
/// What the worker's pre-screen (Pipeline:PreScreen) saves and costs on labelled photos, per margin: the share of
/// strangers it spares the full embedder, and the known faces it would hide from a match the full rule makes.
/// </summary>
public static class PreScreenEvaluation
{
    /// <param name="Cut">Member threshold − margin: a probe whose best member score is below it is screened out.</param>
    /// <param name="GenuinePairsAccepted">Same-person photo pairs (gallery photo, probe photo) the full model accepts at the operating threshold.</param>
    /// <param name="GenuinePairsLost">Of those, pairs whose probe the screen would drop against that one photo (the hardest case: one template per person).</param>
    /// <param name="KnownNamed">Known probes of the watchlist simulation the full rule names correctly.</param>
    /// <param name="KnownNamedLost">Of those, probes the screen drops.</param>
    /// <param name="StrangersScreened">Stranger probes the screen drops (the full embedder's work saved).</param>
    public sealed record Result(float Margin, float Cut, int GenuinePairsAccepted, int GenuinePairsLost, int KnownNamed, int KnownNamedLost, int Strangers, int StrangersScreened);

    /// <param name="data">Faces with their <see cref="LabelledFace.ScreenProbe"/> measured.</param>
    /// <param name="offset">Where the screen's member starts in a full template.</param>
    /// <param name="scale">Turns a dot product with the member's part into the member's cosine (√members for an ensemble).</param>
    /// <param name="memberThreshold">The member's known-person threshold (the cut is this minus the margin).</param>
    public static IReadOnlyList<Result> Run(IReadOnlyList<LabelledFace> data, int templatesPerIdentity, string modelId, OpenSetEvaluation.OperatingPoint op,
        int offset, float scale, float memberThreshold, IReadOnlyList<float> margins)
    {
        if (data.Any(d => d.ScreenProbe is null))
        {
            throw new ArgumentException("every face needs its screen probe");
        }

        float Screen(float[] template, float[] screenProbe) =>
            scale * System.Numerics.Tensors.TensorPrimitives.Dot(screenProbe, template.AsSpan(offset, screenProbe.Length));

        // Pairs: every same-person (gallery photo, probe photo) the full model accepts, and its screen score.
        var accepted = new List<float>();
        for (int i = 0; i < data.Count; i++)
        {
            for (int j = 0; j < data.Count; j++)
            {
                if (i != j && data[i].Label == data[j].Label
                    && System.Numerics.Tensors.TensorPrimitives.Dot(data[i].Gallery, data[j].Probe) >= op.Threshold)
                {
                    accepted.Add(Screen(data[i].Gallery, data[j].ScreenProbe!));
                }
            }
        }

        // The watchlist simulation's halves: each probe's best screen score against the enrolled templates.
        var named = new List<float>();
        var strangers = new List<float>();
        foreach (int parity in new[] { 0, 1 })
        {
            if (OpenSetEvaluation.SplitFaces(data, templatesPerIdentity, parity) is not { } split)
            {
                continue;
            }

            var index = new GalleryIndex(modelId, split.Templates[0].Face.Gallery.Length, [.. split.Templates.Select(t => (t.Identity, t.Face.Gallery))], prefilter: false);
            float Best(LabelledFace f) => scale * index.BestPartialSimilarity(f.ScreenProbe, offset);
            named.AddRange(split.Known.Where(k => OpenSetRule.Judge(index.Search(k.Face.Probe, 2), op.Threshold, op.Margin, 1).Identity?.Id == k.Id).Select(k => Best(k.Face)));
            strangers.AddRange(split.Strangers.Select(Best));
        }

        return [.. margins.Select(m =>
        {
            float cut = memberThreshold - m;
            return new Result(m, cut, accepted.Count, accepted.Count(s => s < cut), named.Count, named.Count(s => s < cut), strangers.Count, strangers.Count(s => s < cut));
        })];
    }
}
