using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FaceStream.Core.Matching;

/// <summary>
/// int8 codes of every template with a per-template error norm: the second, tighter bound of the search. Only the ≈ 1 %
/// of templates that pass the 4-bit bound are looked at, so a quarter of their float bytes are read instead of all.
/// </summary>
/// <remarks>Same argument as <see cref="NibbleCodes"/>: x̂ = scale·c with c in −127..127 and ‖x − x̂‖ kept, so
/// q·x ≤ q̂·x̂ + ‖q̂‖·‖x − x̂‖ + ‖q − q̂‖·‖x‖ with the same int8 query. The bound is ≈ 0.015 for unit vectors (4-bit: ≈ 0.1).</remarks>
internal sealed class ByteCodes
{
    private const int CacheLine = 64;

    private readonly sbyte[] _codes;
    private readonly float[] _scale;
    private readonly float[] _errorNorm;
    private readonly float[] _norm;
    private readonly int _stride;

    private ByteCodes(int rows, int dimension, float[] norms)
    {
        // Rows padded to whole 256-bit loads; the padding stays 0.
        _stride = (dimension + Vector256<sbyte>.Count - 1) / Vector256<sbyte>.Count * Vector256<sbyte>.Count;
        _codes = new sbyte[rows * _stride];
        _scale = new float[rows];
        _errorNorm = new float[rows];
        _norm = norms;
    }

    /// <param name="norms">The rows' norms as <see cref="NibbleCodes.Norms"/> keeps them.</param>
    public static ByteCodes Encode(ReadOnlySpan<float> matrix, int dimension, float[] norms) => Encode(matrix, dimension, norms, null, []);

    /// <summary>As <see cref="NibbleCodes.Encode(ReadOnlySpan{float}, int, NibbleCodes?, IReadOnlyList{RowCopy}, bool?)"/>:
    /// the rows <paramref name="keep"/> take <paramref name="old"/>'s codes, the others are encoded.</summary>
    public static ByteCodes Encode(ReadOnlySpan<float> matrix, int dimension, float[] norms, ByteCodes? old, IReadOnlyList<RowCopy> keep)
    {
        int rows = matrix.Length / dimension;
        var codes = new ByteCodes(rows, dimension, norms);
        var level = new float[dimension];
        var error = new float[dimension];
        foreach (var copy in keep)
        {
            Array.Copy(old!._codes, copy.From * codes._stride, codes._codes, copy.To * codes._stride, copy.Count * codes._stride);
            Array.Copy(old._scale, copy.From, codes._scale, copy.To, copy.Count);
            Array.Copy(old._errorNorm, copy.From, codes._errorNorm, copy.To, copy.Count);
        }

        foreach (int r in RowCopy.Uncovered(rows, keep))
        {
            codes.EncodeRow(r, matrix.Slice(r * dimension, dimension), level, error);
        }

        return codes;
    }

    private void EncodeRow(int r, ReadOnlySpan<float> x, Span<float> level, Span<float> error)
    {
        float max = TensorPrimitives.MaxMagnitude(x);
        float scale = max / sbyte.MaxValue;
        _scale[r] = scale;
        if (max == 0)
        {
            return;
        }

        float squaredError = NibbleCodes.Quantise(x, scale, 0, -sbyte.MaxValue, sbyte.MaxValue, level, error);
        _errorNorm[r] = MathF.Sqrt(squaredError) * (1 + NibbleCodes.RoundingSlack);
        var row = _codes.AsSpan(r * _stride, x.Length);
        for (int i = 0; i < row.Length; i++)
        {
            row[i] = (sbyte)level[i];
        }
    }

    /// <summary>An upper bound of the template's true dot product with the query (always ≥ the exact value).</summary>
    public float UpperBound(NibbleCodes.Query query, int row)
    {
        int dot = Dot(query.Codes, row);
        return (query.Scale * _scale[row] * dot) + (query.HatNorm * _errorNorm[row]) + (query.ErrorNorm * _norm[row]) + NibbleCodes.RoundingSlack;
    }

    /// <summary>Asks for a row's cache lines ahead of <see cref="UpperBound"/>: candidates are scattered over the whole
    /// matrix, so without it each one waits a full memory (and TLB) miss; with it several are in flight at once.</summary>
    public unsafe void Prefetch(int row)
    {
        if (!Sse.IsSupported)
        {
            return;
        }

        fixed (sbyte* p = &_codes[row * _stride])
        {
            for (int i = 0; i < _stride; i += CacheLine)
            {
                Sse.Prefetch0(p + i);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Dot(ReadOnlySpan<sbyte> query, int row)
    {
        ref sbyte q = ref MemoryMarshal.GetReference(query);
        ref sbyte x = ref _codes[row * _stride];
        var acc = Vector256<int>.Zero;
        for (int i = 0; i < _stride; i += Vector256<sbyte>.Count)
        {
            var (qLo, qHi) = Vector256.Widen(Vector256.LoadUnsafe(ref q, (nuint)i));
            var (xLo, xHi) = Vector256.Widen(Vector256.LoadUnsafe(ref x, (nuint)i));
            acc += Avx2.MultiplyAddAdjacent(qLo, xLo) + Avx2.MultiplyAddAdjacent(qHi, xHi);
        }

        return Vector256.Sum(acc);
    }
}
