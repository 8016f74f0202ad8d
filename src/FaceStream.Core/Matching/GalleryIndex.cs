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

    /// <summary>The best <paramref name="k"/> identities, each scored by its best template (max aggregation), best first.</summary>
    public IReadOnlyList<SearchHit> Search(ReadOnlySpan<float> query, int k)
    {
        if (query.Length != Dimension)
        {
            throw new ArgumentException($"query has dimension {query.Length}, the index {Dimension}");
        }

        if (_identities.Length == 0 || k <= 0)
        {
            return [];
        }

        var best = new float[_identities.Length];
        best.AsSpan().Fill(float.NegativeInfinity);
        for (int i = 0; i < _owner.Length; i++)
        {
            float s = TensorPrimitives.Dot(query, _matrix.AsSpan(i * Dimension, Dimension));
            ref float b = ref best[_owner[i]];
            if (s > b)
            {
                b = s;
            }
        }

        int take = Math.Min(k, best.Length);
        var order = Enumerable.Range(0, best.Length).OrderByDescending(i => best[i]).Take(take);
        return order.Select(i => new SearchHit(_identities[i], best[i])).ToList();
    }
}
