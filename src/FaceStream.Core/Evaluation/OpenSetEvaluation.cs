using FaceStream.Core.Matching;

namespace FaceStream.Core.Evaluation;

/// <summary>One labelled photo's embeddings: as enrolled (gallery) and as seen by a camera (probe; greyscale in the night condition).</summary>
/// <param name="ScreenProbe">The probe as the worker's pre-screen sees it (one member, no flip fusion), when measured.</param>
public sealed record LabelledFace(int Label, float[] Gallery, float[] Probe, float[]? ScreenProbe = null);

/// <summary>Watchlist simulation on labelled embeddings: half the people enrolled, the other half strangers.</summary>
public static class OpenSetEvaluation
{
    /// <summary>Open-set identification quality of one aggregation rule, pooled over both halves.</summary>
    /// <param name="Rank1">Known probes whose best identity is theirs.</param>
    /// <param name="StrangerAlarmRate">Stranger probes named as someone by the operating rule (threshold and margin).</param>
    /// <param name="KnownNamedRate">Known probes named correctly by the operating rule (detection and identification rate).</param>
    /// <param name="KnownMisnamedRate">Known probes named as somebody else by the operating rule.</param>
    /// <param name="DirAtFar">Detection and identification rate where 1e-2 and 1e-3 of strangers would be accepted (threshold only).</param>
    /// <param name="ThresholdForTarget">The threshold at which the target share of strangers is accepted.</param>
    public sealed record Result(
        Aggregation Aggregation, int Identities, int KnownProbes, int StrangerProbes, double Rank1,
        double StrangerAlarmRate, double KnownNamedRate, double KnownMisnamedRate,
        double DirAtFar1e2, double DirAtFar1e3, float ThresholdForTarget);

    /// <summary>The operating rule measured: the open-set rule's threshold and margin.</summary>
    public sealed record OperatingPoint(float Threshold, float Margin, double TargetFar);

    /// <summary>
    /// Runs the simulation twice, with the even labels enrolled and the odd ones as strangers, then the other way
    /// round, and pools the probes: with ~20 people one split alone swings by points. Each enrolled person gives
    /// their first <paramref name="templatesPerIdentity"/> photos as templates and the rest as known probes.
    /// </summary>
    public static IReadOnlyList<Result> Run(IReadOnlyList<LabelledFace> data, int templatesPerIdentity, string modelId, OperatingPoint op, IScoreNormaliser? normaliser = null)
    {
        var results = new List<Result>();
        foreach (var aggregation in new[] { Aggregation.Max, Aggregation.Mean })
        {
            var knownTop = new List<(SearchHit[] Hits, string Id)>();
            var strangerTop = new List<SearchHit[]>();
            int identities = 0;
            foreach (int enrolledParity in new[] { 0, 1 })
            {
                var split = Split(data, templatesPerIdentity, enrolledParity);
                if (split is null)
                {
                    continue;
                }

                var (templates, known, strangers) = split.Value;
                identities += templates.Select(t => t.Item1.Id).Distinct().Count();
                var index = new GalleryIndex(modelId, templates[0].Item2.Length, templates, prefilter: false);
                var norm = normaliser?.Fit(templates);
                SearchHit[] Search(float[] v) => Normalise(norm, v, index.Search(v, 2, aggregation));
                knownTop.AddRange(known.Select(k => (Search(k.Vector), k.Id)));
                strangerTop.AddRange(strangers.Select(Search));
            }

            if (knownTop.Count == 0 || strangerTop.Count == 0)
            {
                continue;
            }

            results.Add(Evaluate(aggregation, identities, knownTop, strangerTop, op));
        }

        return results;
    }

    private static SearchHit[] Normalise(IFittedNormaliser? norm, float[] probe, IReadOnlyList<SearchHit> hits) =>
        norm is null ? [.. hits] : [.. hits.Select(h => h with { Similarity = norm.Normalise(h.Identity, probe, h.Similarity) }).OrderByDescending(h => h.Similarity)];

    private static ((Identity, float[])[] Templates, (float[] Vector, string Id)[] Known, float[][] Strangers)? Split(IReadOnlyList<LabelledFace> data, int k, int enrolledParity) =>
        SplitFaces(data, k, enrolledParity) is not { } s ? null
            : ([.. s.Templates.Select(t => (t.Identity, t.Face.Gallery))], [.. s.Known.Select(f => (f.Face.Probe, f.Id))], [.. s.Strangers.Select(f => f.Probe)]);

    /// <summary>One half of the people enrolled (their first <paramref name="k"/> photos), their other photos as known probes, the rest as strangers.</summary>
    internal static (List<(Identity Identity, LabelledFace Face)> Templates, List<(LabelledFace Face, string Id)> Known, List<LabelledFace> Strangers)? SplitFaces(
        IReadOnlyList<LabelledFace> data, int k, int enrolledParity)
    {
        var templates = new List<(Identity, LabelledFace)>();
        var known = new List<(LabelledFace, string)>();
        var strangers = new List<LabelledFace>();
        foreach (var g in data.GroupBy(d => d.Label).OrderBy(g => g.Key))
        {
            var items = g.ToList();
            if (g.Key % 2 == enrolledParity)
            {
                if (items.Count <= k)
                {
                    continue;
                }

                var identity = new Identity(g.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), $"person {g.Key}");
                templates.AddRange(items.Take(k).Select(i => (identity, i)));
                known.AddRange(items.Skip(k).Select(i => (i, identity.Id)));
            }
            else
            {
                strangers.AddRange(items);
            }
        }

        return templates.Count == 0 || known.Count == 0 || strangers.Count == 0 ? null : (templates, known, strangers);
    }

    private static Result Evaluate(Aggregation aggregation, int identities, List<(SearchHit[] Hits, string Id)> knownTop, List<SearchHit[]> strangerTop, OperatingPoint op)
    {
        var strangerBest = strangerTop.Select(s => s[0].Similarity).OrderDescending().ToList();
        float ThresholdAt(double far) => MathF.BitIncrement(strangerBest[Math.Min(strangerBest.Count - 1, (int)Math.Floor(far * strangerBest.Count))]);
        double Dir(float t) => knownTop.Count(k => k.Hits[0].Identity.Id == k.Id && k.Hits[0].Similarity >= t) / (double)knownTop.Count;
        Identity? Named(SearchHit[] hits) => OpenSetRule.Judge(hits, op.Threshold, op.Margin, 1).Identity;
        double alarms = strangerTop.Count(s => Named(s) is not null) / (double)strangerTop.Count;
        double named = knownTop.Count(k => Named(k.Hits)?.Id == k.Id) / (double)knownTop.Count;
        double misnamed = knownTop.Count(k => Named(k.Hits) is { } n && n.Id != k.Id) / (double)knownTop.Count;
        double rank1 = knownTop.Count(k => k.Hits[0].Identity.Id == k.Id) / (double)knownTop.Count;
        return new Result(aggregation, identities, knownTop.Count, strangerTop.Count, rank1, alarms, named, misnamed,
            Dir(ThresholdAt(1e-2)), Dir(ThresholdAt(1e-3)), ThresholdAt(op.TargetFar));
    }
}

/// <summary>
/// How a track's decision rule fares when a track is several photos of one person: the worker's per-view votes
/// (k of n, <see cref="TrackVotes"/>) against one decision on the mean of the track's embeddings (the
/// FaceNet paper's video protocol). Photos stand in for a track's views, which makes the views less alike than
/// video frames: a hard case for both rules.
/// </summary>
public static class TrackSimulation
{
    /// <param name="KnownTracksNamed">Tracks of enrolled people named correctly.</param>
    /// <param name="StrangerTracksNamed">Tracks of strangers named as someone (false alarms).</param>
    public sealed record Result(string Rule, int KnownTracks, int StrangerTracks, double KnownTracksNamed, double StrangerTracksNamed);

    public static IReadOnlyList<Result> Run(IReadOnlyList<LabelledFace> data, int templatesPerIdentity, string modelId, DecisionOptions decision, float threshold)
    {
        int views = decision.VoteWindow;
        var votes = new List<(string? Named, string? Truth)>();
        var means = new List<(string? Named, string? Truth)>();
        foreach (int enrolledParity in new[] { 0, 1 })
        {
            var templates = new List<(Identity, float[])>();
            var tracks = new List<(float[][] Views, string? Truth)>();
            foreach (var g in data.GroupBy(d => d.Label).OrderBy(g => g.Key))
            {
                var items = g.ToList();
                bool enrolled = g.Key % 2 == enrolledParity;
                if (enrolled && items.Count <= templatesPerIdentity)
                {
                    continue;
                }

                var identity = new Identity(g.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), $"person {g.Key}");
                if (enrolled)
                {
                    templates.AddRange(items.Take(templatesPerIdentity).Select(i => (identity, i.Gallery)));
                }

                var probes = (enrolled ? items.Skip(templatesPerIdentity) : items).Select(i => i.Probe).ToList();
                for (int s = 0; s + views <= probes.Count; s += views)
                {
                    tracks.Add((probes.Skip(s).Take(views).ToArray(), enrolled ? identity.Id : null));
                }
            }

            if (templates.Count == 0)
            {
                continue;
            }

            var index = new GalleryIndex(modelId, templates[0].Item2.Length, templates, prefilter: false);
            foreach (var (trackViews, truth) in tracks)
            {
                var state = new TrackVotes();
                string? named = null;
                foreach (var v in trackViews)
                {
                    var (verdict, evidence) = state.Add(OpenSetRule.Judge(index.Search(v, 2), threshold, decision.Margin, 1), decision);
                    if (verdict == Verdict.Known)
                    {
                        named = evidence.Identity!.Id;
                    }
                }

                votes.Add((named, truth));
                var mean = new float[trackViews[0].Length];
                foreach (var v in trackViews)
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(mean, v, mean);
                }

                System.Numerics.Tensors.TensorPrimitives.Divide(mean, System.Numerics.Tensors.TensorPrimitives.Norm(mean), mean);
                means.Add((OpenSetRule.Judge(index.Search(mean, 2), threshold, decision.Margin, 1).Identity?.Id, truth));
            }
        }

        return [Summarise($"{decision.VotesNeeded} of {views} views agree", votes), Summarise($"mean of {views} views", means)];
    }

    private static Result Summarise(string rule, List<(string? Named, string? Truth)> outcomes)
    {
        var known = outcomes.Where(o => o.Truth is not null).ToList();
        var strangers = outcomes.Where(o => o.Truth is null).ToList();
        return new Result(rule, known.Count, strangers.Count,
            known.Count == 0 ? double.NaN : known.Count(o => o.Named == o.Truth) / (double)known.Count,
            strangers.Count == 0 ? double.NaN : strangers.Count(o => o.Named is not null) / (double)strangers.Count);
    }
}
