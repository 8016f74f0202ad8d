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
/// <remarks>
/// Large galleries also keep 4-bit and int8 codes of every template (<see cref="NibbleCodes"/>, <see cref="ByteCodes"/>).
/// A search scans the 4-bit codes for a guaranteed upper bound of every similarity, scores the best few identities
/// exactly, and computes the exact similarity only of templates whose 4-bit and then int8 bounds reach the k-th best
/// exact score. The answer is the exhaustive scan's, bit for bit; only the bytes read shrink (a 100k × 512 float
/// matrix is 205 MB, its 4-bit codes 26 MB).
/// </remarks>
public sealed class GalleryIndex
{
    /// <summary>Below this many templates the exact scan alone is well under a millisecond; codes would not pay off.</summary>
    public const int PrefilterFromTemplates = 4096;

    /// <summary>Candidates whose int8 rows are requested ahead of use (measured: 8 rows, ≈ 4 KB in flight, is enough).</summary>
    private const int PrefetchDistance = 8;

    private readonly float[] _matrix;
    private readonly int[] _owner;
    private readonly int[] _start;
    private readonly Identity[] _identities;
    private readonly NibbleCodes? _codes;
    private readonly ByteCodes? _fineCodes;
    private readonly bool _prefilter;

    /// <param name="prefilter">Build the 4-bit codes for large galleries (the answer is the same either way; off for comparisons).</param>
    public GalleryIndex(string modelId, int dimension, IReadOnlyList<(Identity Identity, float[] Template)> templates, bool prefilter = true)
    {
        ModelId = modelId;
        Dimension = dimension;
        _prefilter = prefilter;
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var identities = new List<Identity>();
        var owners = new int[templates.Count];
        var perIdentity = new List<int>();
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
                perIdentity.Add(0);
            }

            owners[i] = owner;
            perIdentity[owner]++;
        }

        // Rows grouped by identity (in order of first appearance), so an identity's templates are one slice.
        _identities = identities.ToArray();
        _start = new int[_identities.Length + 1];
        for (int o = 0; o < _identities.Length; o++)
        {
            _start[o + 1] = _start[o] + perIdentity[o];
        }

        var next = _start[..^1];
        _matrix = new float[templates.Count * dimension];
        _owner = new int[templates.Count];
        for (int i = 0; i < templates.Count; i++)
        {
            int row = next[owners[i]]++;
            _owner[row] = owners[i];
            templates[i].Template.CopyTo(_matrix, row * dimension);
        }

        if (UsesCodes(prefilter, templates.Count))
        {
            _codes = NibbleCodes.Encode(_matrix, dimension);
            _fineCodes = ByteCodes.Encode(_matrix, dimension, _codes.Norms);
        }
    }

    private GalleryIndex(GalleryIndex from, Identity[] identities, int[] start, float[] matrix, IReadOnlyList<RowCopy> copies)
    {
        ModelId = from.ModelId;
        Dimension = from.Dimension;
        _prefilter = from._prefilter;
        _identities = identities;
        _start = start;
        _matrix = matrix;
        _owner = new int[start[^1]];
        for (int o = 0; o < identities.Length; o++)
        {
            _owner.AsSpan(start[o], start[o + 1] - start[o]).Fill(o);
        }

        if (UsesCodes(_prefilter, _owner.Length))
        {
            // Rows kept from the old index keep their codes (encoding is most of a build); only new rows are encoded.
            var keep = from._codes is null ? [] : copies;
            _codes = NibbleCodes.Encode(_matrix, Dimension, from._codes, keep);
            _fineCodes = ByteCodes.Encode(_matrix, Dimension, _codes.Norms, from._fineCodes, keep);
        }
    }

    public static GalleryIndex Empty(string modelId, int dimension) => new(modelId, dimension, []);

    public string ModelId { get; }

    public int Dimension { get; }

    public int Templates => _owner.Length;

    public int Identities => _identities.Length;

    /// <summary>Whether searches use the 4-bit bound scan (large galleries on x64 with AVX2).</summary>
    public bool Prefiltered => _codes is not null;

    /// <summary>
    /// A new index with the given identities' templates replaced (an empty list removes the identity; an identity not
    /// in this index is added at the end). This index is unchanged, so searches running on it are unaffected; swap the
    /// reference to publish. Unchanged rows are copied with their 4-bit and int8 codes; only the new rows are encoded.
    /// </summary>
    public GalleryIndex With(IReadOnlyList<(Identity Identity, IReadOnlyList<float[]> Templates)> changes)
    {
        var changed = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int c = 0; c < changes.Count; c++)
        {
            foreach (var template in changes[c].Templates)
            {
                if (template.Length != Dimension)
                {
                    throw new ArgumentException($"a template of '{changes[c].Identity.Id}' has dimension {template.Length}, the index {Dimension}");
                }
            }

            // The last change of an identity wins.
            changed[changes[c].Identity.Id] = c;
        }

        // Removing identities it does not hold (a new identity without templates yet) leaves the index as it is.
        if (changed.Values.All(c => changes[c].Templates.Count == 0) && !_identities.Any(i => changed.ContainsKey(i.Id)))
        {
            return this;
        }

        // The new row order: every kept identity where it was (its rows one slice of the old matrix), changed ones
        // in place with their new rows, new identities at the end.
        var identities = new List<Identity>(_identities.Length + changes.Count);
        var sources = new List<(int OldIdentity, IReadOnlyList<float[]>? Templates)>(_identities.Length + changes.Count);
        for (int o = 0; o < _identities.Length; o++)
        {
            if (!changed.Remove(_identities[o].Id, out int c))
            {
                identities.Add(_identities[o]);
                sources.Add((o, null));
            }
            else if (changes[c].Templates.Count > 0)
            {
                identities.Add(changes[c].Identity);
                sources.Add((-1, changes[c].Templates));
            }
        }

        foreach (int c in changed.Values.Order())
        {
            if (changes[c].Templates.Count > 0)
            {
                identities.Add(changes[c].Identity);
                sources.Add((-1, changes[c].Templates));
            }
        }

        var start = new int[identities.Count + 1];
        for (int o = 0; o < sources.Count; o++)
        {
            var (old, templates) = sources[o];
            start[o + 1] = start[o] + (templates?.Count ?? (_start[old + 1] - _start[old]));
        }

        var matrix = GC.AllocateUninitializedArray<float>(start[^1] * Dimension);
        var copies = new List<RowCopy>();
        for (int o = 0; o < sources.Count; o++)
        {
            var (old, templates) = sources[o];
            if (templates is not null)
            {
                for (int t = 0; t < templates.Count; t++)
                {
                    templates[t].CopyTo(matrix, (start[o] + t) * Dimension);
                }
            }
            else if (copies.Count > 0 && copies[^1].To + copies[^1].Count == start[o] && copies[^1].From + copies[^1].Count == _start[old])
            {
                copies[^1] = copies[^1] with { Count = copies[^1].Count + (_start[old + 1] - _start[old]) };
            }
            else
            {
                copies.Add(new RowCopy(_start[old], start[o], _start[old + 1] - _start[old]));
            }
        }

        foreach (var copy in copies)
        {
            Array.Copy(_matrix, copy.From * Dimension, matrix, copy.To * Dimension, copy.Count * Dimension);
        }

        return new GalleryIndex(this, identities.ToArray(), start, matrix, copies);
    }

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

        k = Math.Min(k, _identities.Length);
        float[] score = ArrayPool<float>.Shared.Rent(_identities.Length);
        try
        {
            var scores = score.AsSpan(0, _identities.Length);
            if (aggregation == Aggregation.Max && _codes is not null && k < _identities.Length)
            {
                SearchBounded(query, k, scores);
            }
            else
            {
                ScoreAll(query, aggregation, scores);
            }

            return Hits(scores, k);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(score);
        }
    }

    /// <summary>
    /// The best dot product of <paramref name="query"/> with one part of every template: columns
    /// <paramref name="offset"/> to offset + query length. An ensemble's templates are its members' vectors side by
    /// side, so this scores a probe embedded by one member alone (the pre-screen) against the whole gallery.
    /// −∞ for an empty gallery. An exact scan: the pre-screen serves watchlists, not million-face galleries.
    /// </summary>
    public float BestPartialSimilarity(ReadOnlySpan<float> query, int offset)
    {
        if (offset < 0 || query.Length == 0 || offset + query.Length > Dimension)
        {
            throw new ArgumentException($"columns {offset}..{offset + query.Length} are not within the index's {Dimension}");
        }

        float best = float.NegativeInfinity;
        var matrix = _matrix.AsSpan();
        for (int row = 0; row < _owner.Length; row++)
        {
            best = Math.Max(best, TensorPrimitives.Dot(query, matrix.Slice((row * Dimension) + offset, query.Length)));
        }

        return best;
    }

    /// <summary>The exhaustive scan: every template's exact similarity, aggregated per identity.</summary>
    private void ScoreAll(ReadOnlySpan<float> query, Aggregation aggregation, Span<float> scores)
    {
        for (int o = 0; o < scores.Length; o++)
        {
            scores[o] = aggregation == Aggregation.Max ? ExactMax(query, o) : ExactMean(query, o);
        }
    }

    /// <summary>
    /// Max aggregation through the bound scan: the k identities with the highest bounds are scored exactly; the k-th of
    /// those exact scores (τ) is a floor for the answer, so only templates whose bound reaches τ can change it. Identities
    /// left at −∞ have every template below τ and cannot be among the k best.
    /// </summary>
    private void SearchBounded(ReadOnlySpan<float> query, int k, Span<float> scores)
    {
        var codes = _codes!;
        int n = _owner.Length;
        float[] upperArray = ArrayPool<float>.Shared.Rent(n);
        int[] dotArray = ArrayPool<int>.Shared.Rent(n);
        int[] candidateArray = ArrayPool<int>.Shared.Rent(n);
        try
        {
            var upper = upperArray.AsSpan(0, n);
            var quantised = codes.Prepare(query);
            codes.UpperBounds(quantised, upper, dotArray);

            // Each identity's bound is its templates' best bound.
            for (int o = 0; o < scores.Length; o++)
            {
                float best = upper[_start[o]];
                for (int row = _start[o] + 1; row < _start[o + 1]; row++)
                {
                    best = Math.Max(best, upper[row]);
                }

                scores[o] = best;
            }

            Span<int> seeds = k <= 64 ? stackalloc int[k] : new int[k];
            int seeded = TopK(scores, seeds);
            scores.Fill(float.NegativeInfinity);
            float tau = float.PositiveInfinity;
            foreach (int o in seeds[..seeded])
            {
                scores[o] = ExactMax(query, o);
                tau = Math.Min(tau, scores[o]);
            }

            // Templates the 4-bit bound lets through (≈ 1 % for a stranger), then the int8 bound (rows prefetched a few
            // candidates ahead), then the exact similarity for the handful left.
            int count = 0;
            for (int row = 0; row < n; row++)
            {
                if (upper[row] >= tau)
                {
                    candidateArray[count++] = row;
                }
            }

            var fine = _fineCodes!;
            for (int i = 0; i < count; i++)
            {
                if (i + PrefetchDistance < count)
                {
                    fine.Prefetch(candidateArray[i + PrefetchDistance]);
                }

                int row = candidateArray[i];
                if (fine.UpperBound(quantised, row) >= tau)
                {
                    int o = _owner[row];
                    float s = TensorPrimitives.Dot(query, _matrix.AsSpan(row * Dimension, Dimension));
                    if (s > scores[o])
                    {
                        scores[o] = s;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(upperArray);
            ArrayPool<int>.Shared.Return(dotArray);
            ArrayPool<int>.Shared.Return(candidateArray);
        }
    }

    private static bool UsesCodes(bool prefilter, int templates) => prefilter && templates >= PrefilterFromTemplates && NibbleCodes.IsSupported;

    private float ExactMax(ReadOnlySpan<float> query, int identity)
    {
        float best = float.NegativeInfinity;
        for (int row = _start[identity]; row < _start[identity + 1]; row++)
        {
            best = Math.Max(best, TensorPrimitives.Dot(query, _matrix.AsSpan(row * Dimension, Dimension)));
        }

        return best;
    }

    private float ExactMean(ReadOnlySpan<float> query, int identity)
    {
        float sum = 0;
        for (int row = _start[identity]; row < _start[identity + 1]; row++)
        {
            sum += TensorPrimitives.Dot(query, _matrix.AsSpan(row * Dimension, Dimension));
        }

        return sum / (_start[identity + 1] - _start[identity]);
    }

    private SearchHit[] Hits(ReadOnlySpan<float> scores, int k)
    {
        Span<int> best = k <= 64 ? stackalloc int[k] : new int[k];
        int filled = TopK(scores, best);
        var hits = new SearchHit[filled];
        for (int i = 0; i < filled; i++)
        {
            hits[i] = new SearchHit(_identities[best[i]], scores[best[i]]);
        }

        return hits;
    }

    /// <summary>Partial selection: one pass keeping the best indices in a small sorted buffer (k is 1–10 in practice);
    /// on ties the lower index wins.</summary>
    private static int TopK(ReadOnlySpan<float> scores, Span<int> best)
    {
        int k = best.Length;
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

        return filled;
    }
}

/// <summary><paramref name="Count"/> rows that move from row <paramref name="From"/> of an old index to row <paramref name="To"/> of a new one.</summary>
internal readonly record struct RowCopy(int From, int To, int Count)
{
    /// <summary>The rows of a <paramref name="rows"/>-row index that no copy fills (copies in increasing order of <see cref="To"/>).</summary>
    public static IEnumerable<int> Uncovered(int rows, IReadOnlyList<RowCopy> copies)
    {
        int next = 0;
        foreach (var copy in copies)
        {
            for (; next < copy.To; next++)
            {
                yield return next;
            }

            next = copy.To + copy.Count;
        }

        for (; next < rows; next++)
        {
            yield return next;
        }
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
