using System.Numerics.Tensors;
using FaceStream.Core.Matching;
using Xunit;

namespace FaceStream.Tests.Core;

/// <summary>The bound scan of large galleries: its bounds (4-bit and int8) must hold for every template, and its answers must be the exhaustive scan's.</summary>
public class GalleryIndexTests
{
    [Theory]
    [InlineData(512, true)]
    [InlineData(512, false)]
    [InlineData(192, true)]
    [InlineData(100, false)]
    [InlineData(640, true)]
    public void The_4_bit_and_int8_bounds_are_never_below_the_exact_similarity(int dimension, bool wide)
    {
        if (wide && !System.Runtime.Intrinsics.X86.Avx512BW.IsSupported)
        {
            wide = false;
        }

        var random = new Random(dimension);
        var rows = Enumerable.Range(0, 3000).Select(i => i % 500 == 0 ? Spiky(random, dimension) : Unit(random, dimension)).ToList();
        rows.Add(new float[dimension]);
        var matrix = rows.SelectMany(r => r).ToArray();
        var codes = NibbleCodes.Encode(matrix, dimension, wide);
        var fine = ByteCodes.Encode(matrix, dimension, codes.Norms);
        var upper = new float[rows.Count];
        var dots = new int[rows.Count];
        double slackSum = 0, fineSlackSum = 0;
        for (int q = 0; q < 20; q++)
        {
            // Queries at every distance: strangers, noisy copies, exact copies.
            var query = q % 3 == 0 ? Unit(random, dimension) : Near(random, rows[random.Next(rows.Count - 1)], q % 3 == 1 ? 0.05f : 0.8f);
            var quantised = codes.Prepare(query);
            codes.UpperBounds(quantised, upper, dots);
            for (int r = 0; r < rows.Count; r++)
            {
                float exact = TensorPrimitives.Dot(query, rows[r]);
                Assert.True(upper[r] >= exact, $"row {r}: 4-bit bound {upper[r]} < exact {exact}");
                slackSum += upper[r] - exact;
                float fineBound = fine.UpperBound(quantised, r);
                Assert.True(fineBound >= exact, $"row {r}: int8 bound {fineBound} < exact {exact}");
                fineSlackSum += fineBound - exact;
            }
        }

        // A bound that holds by being useless would also pass the loop above: it must be tight enough to prune.
        double meanSlack = slackSum / (20.0 * rows.Count);
        Assert.True(meanSlack < 0.25, $"4-bit mean slack {meanSlack:0.000}");
        double fineSlack = fineSlackSum / (20.0 * rows.Count);
        Assert.True(fineSlack < 0.05, $"int8 mean slack {fineSlack:0.000}");
    }

    [Theory]
    [InlineData(512, 1, 5)]
    [InlineData(512, 5, 5)]
    [InlineData(192, 3, 1)]
    [InlineData(192, 1, 10)]
    [InlineData(128, 4, 3)]
    public void Searches_through_the_bound_scan_answer_exactly_as_the_exhaustive_scan(int dimension, int perIdentity, int k)
    {
        var random = new Random((dimension * 31) + perIdentity);
        int n = GalleryIndex.PrefilterFromTemplates + 1000;
        var templates = new List<(Identity, float[])>(n);
        for (int i = 0; i < n; i++)
        {
            // Identities interleaved, not in blocks: the index groups them itself.
            int person = i % (n / perIdentity);
            var identity = new Identity($"p{person}", $"person {person}");
            templates.Add((identity, i % 97 == 0 && i > 0 ? Near(random, templates[i - 1].Item2, 0.01f) : Unit(random, dimension)));
        }

        var bounded = new GalleryIndex("m", dimension, templates);
        var exhaustive = new GalleryIndex("m", dimension, templates, prefilter: false);
        Assert.True(bounded.Prefiltered || !NibbleCodes.IsSupported);
        Assert.False(exhaustive.Prefiltered);
        for (int q = 0; q < 60; q++)
        {
            var query = (q % 4) switch
            {
                0 => Unit(random, dimension),
                1 => Near(random, templates[random.Next(n)].Item2, 0.3f),
                2 => Near(random, templates[random.Next(n)].Item2, 1.2f),
                _ => templates[random.Next(n)].Item2,
            };
            var expected = exhaustive.Search(query, k);
            var actual = bounded.Search(query, k);
            Assert.Equal(expected.Count, actual.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Identity.Id, actual[i].Identity.Id);
                Assert.Equal(expected[i].Similarity, actual[i].Similarity);
            }

            Assert.Equal(exhaustive.Search(query, k, Aggregation.Mean).Select(h => (h.Identity.Id, h.Similarity)),
                bounded.Search(query, k, Aggregation.Mean).Select(h => (h.Identity.Id, h.Similarity)));
        }
    }

    [Theory]
    [InlineData(512, 4200)]
    [InlineData(128, GalleryIndex.PrefilterFromTemplates - 60)]
    public void An_index_changed_in_place_answers_exactly_as_one_built_from_scratch(int dimension, int n)
    {
        // Before and after: every identity, changed, kept or new, must be found as a fresh exhaustive scan finds it;
        // new rows whose codes were wrong (or missing) would be pruned by the bound scan and answer differently.
        var random = new Random(n);
        var content = new Dictionary<string, List<float[]>>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            content.TryAdd($"p{i % (n / 3)}", []);
            content[$"p{i % (n / 3)}"].Add(Unit(random, dimension));
        }

        var index = new GalleryIndex("m", dimension, Rows(content, renamed: false));
        var changes = new List<(Identity, IReadOnlyList<float[]>)>
        {
            (new Identity("p0", "renamed"), [Unit(random, dimension), Unit(random, dimension), Unit(random, dimension), Unit(random, dimension)]),
            (new Identity("p1", "person 1"), []),
            (new Identity("p7", "person 7"), [content["p7"][0]]),
            (new Identity("new-a", "new a"), Enumerable.Range(0, 80).Select(_ => Unit(random, dimension)).ToList()),
            (new Identity("new-b", "new b"), [Unit(random, dimension)]),
            (new Identity("nobody", "never enrolled"), []),
            (new Identity("new-b", "new b"), [Unit(random, dimension), Unit(random, dimension)]),
        };
        Assert.Same(index, index.With([(new Identity("nobody", "no templates yet"), [])]));
        var changed = index.With(changes);
        foreach (var (identity, templates) in changes)
        {
            if (templates.Count == 0)
            {
                content.Remove(identity.Id);
            }
            else
            {
                content[identity.Id] = [.. templates];
            }
        }

        var fresh = new GalleryIndex("m", dimension, Rows(content, renamed: true), prefilter: false);
        Assert.Equal(fresh.Templates, changed.Templates);
        Assert.Equal(fresh.Identities, changed.Identities);
        Assert.Equal(NibbleCodes.IsSupported && changed.Templates >= GalleryIndex.PrefilterFromTemplates, changed.Prefiltered);
        Assert.Equal(n, index.Templates);
        Assert.Equal("renamed", changed.Search(content["p0"][2], 1)[0].Identity.Name);
        var everyRow = content.Values.SelectMany(t => t).ToList();
        for (int q = 0; q < 80; q++)
        {
            var query = (q % 3) switch
            {
                0 => Unit(random, dimension),
                1 => Near(random, everyRow[random.Next(everyRow.Count)], 0.3f),
                _ => q % 2 == 0 ? content["new-a"][q % 80] : everyRow[random.Next(everyRow.Count)],
            };
            Assert.Equal(fresh.Search(query, 5).Select(h => (h.Identity.Id, h.Similarity)), changed.Search(query, 5).Select(h => (h.Identity.Id, h.Similarity)));
        }

        static List<(Identity, float[])> Rows(Dictionary<string, List<float[]>> content, bool renamed) =>
            content.SelectMany(p => p.Value.Select(t => (new Identity(p.Key, renamed && p.Key == "p0" ? "renamed" : p.Key), t))).ToList();
    }

    [Fact]
    public void The_best_partial_similarity_scores_one_members_columns_of_every_template()
    {
        // Ensemble-shaped templates: a 3-d member then a 2-d member, each unit vector weighted 1/√2.
        float w = 1 / MathF.Sqrt(2);
        float[] Template(float[] first, float[] second) => [.. first.Select(v => v * w), .. second.Select(v => v * w)];
        var a = new Identity("a", "A");
        var b = new Identity("b", "B");
        var index = new GalleryIndex("m1+m2", 5, [(a, Template([1, 0, 0], [1, 0])), (b, Template([0, 0.6f, 0.8f], [0, 1])), (a, Template([0, 1, 0], [0, 1]))], prefilter: false);

        // The first member's columns only: the second member's part plays no role.
        Assert.Equal(0.8f * w, index.BestPartialSimilarity([0, 0, 1], 0), 5);
        Assert.Equal(w, index.BestPartialSimilarity([0, 1, 0], 0), 5);
        Assert.Equal(w, index.BestPartialSimilarity([0, 1], 3), 5);
        Assert.Equal(float.NegativeInfinity, GalleryIndex.Empty("m1+m2", 5).BestPartialSimilarity([1, 0, 0], 0));
        Assert.Throws<ArgumentException>(() => index.BestPartialSimilarity([1, 0, 0], 3));
    }

    [Fact]
    public void Asking_for_more_identities_than_there_are_returns_all_of_them_ranked()
    {
        var random = new Random(7);
        var templates = Enumerable.Range(0, GalleryIndex.PrefilterFromTemplates).Select(i => (new Identity($"p{i % 3}", "x"), Unit(random, 64))).ToList();
        var index = new GalleryIndex("m", 64, templates);
        var hits = index.Search(templates[4].Item2, 10);
        Assert.Equal(3, hits.Count);
        Assert.Equal("p1", hits[0].Identity.Id);
        Assert.Equal(1f, hits[0].Similarity, 5);
        Assert.True(hits[1].Similarity >= hits[2].Similarity);
    }

    private static float[] Unit(Random random, int dimension)
    {
        var v = new float[dimension];
        for (int i = 0; i < dimension; i++)
        {
            v[i] = (float)((random.NextDouble() * 2) - 1);
        }

        TensorPrimitives.Divide(v, TensorPrimitives.Norm(v), v);
        return v;
    }

    /// <summary>A unit vector with one dominant component: the case where clipping matters.</summary>
    private static float[] Spiky(Random random, int dimension)
    {
        var v = Unit(random, dimension);
        v[random.Next(dimension)] = 5;
        TensorPrimitives.Divide(v, TensorPrimitives.Norm(v), v);
        return v;
    }

    private static float[] Near(Random random, float[] of, float noise)
    {
        var n = Unit(random, of.Length);
        var v = new float[of.Length];
        TensorPrimitives.MultiplyAdd(n, noise, of, v);
        TensorPrimitives.Divide(v, TensorPrimitives.Norm(v), v);
        return v;
    }
}
