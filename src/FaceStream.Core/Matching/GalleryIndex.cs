using System.Buffers;
using System.Numerics.Tensors;

namespace FaceStream.Core.Matching;

/// <summary>An identity in the gallery (watchlist entry).</summary>
public sealed record Identity(string Id, string Name);

/// <summary>One candidate of a 1:N search: the identity's best template similarity.</summary>
public readonly record struct SearchHit(Identity Identity, float Similarity);

/// <summary>
/// Exact cosine search over L2-normalised templates kept in one contiguous matrix (dot product = cosine).
/// Immutable: build a new index when the gallery changes, swap the reference; searches need no locks.
/// </summary>
public sealed class GalleryIndex
{
    private readonly float[] _matrix;
    private readonly int[] _owner;
    private readonly Identity[] _identities;

    public GalleryIndex(string modelId, int dimension, IReadOnlyList<(Identity Identity, float[] Template)> templates)
    {
        ModelId = modelId;
        Dimension = dimension;
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var identities = new List<Identity>();
        _matrix = new float[templates.Count * dimension];
        _owner = new int[templates.Count];
        for (int i = 0; i < templates.Count; i++)
        {
            var (identity, template) = templates[i];
            if (template.Length != dimension)
            {
                throw new ArgumentException($"template {i} of '{identity.Id}' has dimension {template.Length}, the index {dimension}");
            }

            if (!ids.TryGetValue(identity.Id, out int owner))
            {
                owner = identities.Count;
                ids[identity.Id] = owner;
                identities.Add(identity);
            }

            _owner[i] = owner;
            template.CopyTo(_matrix, i * dimension);
        }

        _identities = identities.ToArray();
    }

    public static GalleryIndex Empty(string modelId, int dimension) => new(modelId, dimension, []);

    public string ModelId { get; }

    public int Dimension { get; }

    public int Templates => _owner.Length;

    public int Identities => _identities.Length;

    /// <summary>The best <paramref name="k"/> identities, best first, each scored over its templates by <paramref name="aggregation"/>.</summary>
    public IReadOnlyList<SearchHit> Search(ReadOnlySpan<float> query, int k, Aggregation aggregation = Aggregation.Max)
    {
        if (query.Length != Dimension)
        {
            throw new ArgumentException($"query has dimension {query.Length}, the index {Dimension}");
        }

        if (_identities.Length == 0 || k <= 0)
        {
            return [];
        }

        int n = _identities.Length;
        float[] score = ArrayPool<float>.Shared.Rent(n);
        int[] count = ArrayPool<int>.Shared.Rent(aggregation == Aggregation.Mean ? n : 0);
        try
        {
            var scores = score.AsSpan(0, n);
            scores.Fill(aggregation == Aggregation.Max ? float.NegativeInfinity : 0);
            if (aggregation == Aggregation.Mean)
            {
                count.AsSpan(0, n).Clear();
            }

            // The hot loop: one SIMD dot product per template over the contiguous matrix.
            var matrix = _matrix.AsSpan();
            for (int i = 0; i < _owner.Length; i++)
            {
                float s = TensorPrimitives.Dot(query, matrix.Slice(i * Dimension, Dimension));
                int o = _owner[i];
                if (aggregation == Aggregation.Max)
                {
                    if (s > scores[o])
                    {
                        scores[o] = s;
                    }
                }
                else
                {
                    scores[o] += s;
                    count[o]++;
                }
            }

            if (aggregation == Aggregation.Mean)
            {
                for (int i = 0; i < n; i++)
                {
                    scores[i] /= Math.Max(1, count[i]);
                }
            }

            return TopK(scores, Math.Min(k, n));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(score);
            ArrayPool<int>.Shared.Return(count);
        }
    }

    /// <summary>Partial selection: one pass keeping the k best in a small sorted buffer (k is 1–10 in practice).</summary>
    private SearchHit[] TopK(ReadOnlySpan<float> scores, int k)
    {
        Span<int> best = k <= 64 ? stackalloc int[k] : new int[k];
        int filled = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            float s = scores[i];
            if (filled == k && s <= scores[best[k - 1]])
            {
                continue;
            }

            int pos = filled < k ? filled++ : k - 1;
            while (pos > 0 && scores[best[pos - 1]] < s)
            {
                best[pos] = best[pos - 1];
                pos--;
            }

            best[pos] = i;
        }

        var hits = new SearchHit[filled];
        for (int i = 0; i < filled; i++)
        {
            hits[i] = new SearchHit(_identities[best[i]], scores[best[i]]);
        }

        return hits;
    }
}

/// <summary>How an identity's templates are combined into one score.</summary>
public enum Aggregation
{
    /// <summary>The best template (default: measured better on ORL, see README).</summary>
    Max,

    /// <summary>The mean over the identity's templates.</summary>
    Mean,
}
