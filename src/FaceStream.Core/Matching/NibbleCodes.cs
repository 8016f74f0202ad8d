using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FaceStream.Core.Matching;

/// <summary>
/// 4-bit codes of every template plus a per-template error norm: a scan over an eighth of the float matrix's bytes that
/// yields, for every template, a guaranteed upper bound of its true similarity with the query.
/// </summary>
/// <remarks>
/// Template x is stored as x̂ = scale·(c − 7.5) with c in 0..15, and ‖x − x̂‖ is kept. The query is rounded to int8,
/// q̂ = qScale·c_q. Since q·x = q̂·x̂ + q̂·(x − x̂) + (q − q̂)·x, Cauchy–Schwarz gives
/// |q·x − q̂·x̂| ≤ ‖q̂‖·‖x − x̂‖ + ‖q − q̂‖·‖x‖: a bound, not an estimate, so skipping a template whose bound is below the
/// k-th best exact similarity never changes the answer.
/// Layout: every 128 dimensions take 64 bytes; byte j holds dimension j in its low nibble and 64 + j in its high one, so
/// one load feeds two u8 × s8 multiply-adds without shuffles, in 512-bit or 256-bit registers alike.
/// </remarks>
internal sealed class NibbleCodes
{
    /// <summary>Float rounding in the bound arithmetic is ~1e-6 for unit vectors; this slack is far above it.</summary>
    public const float RoundingSlack = 1e-4f;

    private const int BlockDims = 128;
    private const int BlockBytes = 64;
    private const float Offset = 7.5f;
    private const int Levels = 15;

    /// <summary>A u8 × s8 multiply-add gives at most 2·15·127 = 3810 per 16-bit lane, two per block: the 512-bit path sums four
    /// blocks in 16 bits (below 32767).</summary>
    private const int BlocksPerInt16Sum = 4;

    /// <summary>Candidate clipping points (fractions of the row's largest component): clipping the rare large components buys a
    /// finer step for all the others; each row keeps the one with the smallest error.</summary>
    private static readonly float[] ClipCandidates = [1.0f, 0.8f, 0.65f, 0.55f];

    private readonly byte[] _codes;
    private readonly float[] _scale;
    private readonly float[] _errorNorm;
    private readonly float[] _norm;
    private readonly int _stride;
    private readonly bool _wide;

    private NibbleCodes(int rows, int dimension, bool wide)
    {
        Rows = rows;
        _wide = wide;
        Blocks = (dimension + BlockDims - 1) / BlockDims;
        _stride = Blocks * BlockBytes;
        _codes = new byte[rows * _stride];
        _scale = new float[rows];
        _errorNorm = new float[rows];
        _norm = new float[rows];
    }

    /// <summary>Whether this CPU has the integer SIMD the scan needs (AVX2; AVX-512BW is used when present).</summary>
    public static bool IsSupported => Avx2.IsSupported;

    public int Rows { get; }

    /// <summary>Each row's norm (slightly rounded up), which both bounds need.</summary>
    public float[] Norms => _norm;

    private int Blocks { get; }

    /// <summary>Encodes every row of a row-major matrix.</summary>
    /// <param name="wide">Scan with AVX-512BW (the default where present); tests turn it off to check the AVX2 path.</param>
    public static NibbleCodes Encode(ReadOnlySpan<float> matrix, int dimension, bool? wide = null) => Encode(matrix, dimension, null, [], wide);

    /// <summary>Encodes a matrix whose rows <paramref name="keep"/> are rows of <paramref name="old"/>'s matrix: those
    /// rows' codes are copied (the same row gives the same code), the others encoded.</summary>
    /// <param name="keep">Copied row ranges in increasing order of their new row.</param>
    public static NibbleCodes Encode(ReadOnlySpan<float> matrix, int dimension, NibbleCodes? old, IReadOnlyList<RowCopy> keep, bool? wide = null)
    {
        int rows = matrix.Length / dimension;
        var codes = new NibbleCodes(rows, dimension, wide ?? Avx512BW.IsSupported);
        var scratch = new float[codes.Blocks * BlockDims];
        // Padded to whole blocks; the padding stays 0 (the query's padding is 0 too).
        var best = new float[codes.Blocks * BlockDims];
        foreach (var copy in keep)
        {
            Array.Copy(old!._codes, copy.From * codes._stride, codes._codes, copy.To * codes._stride, copy.Count * codes._stride);
            Array.Copy(old._scale, copy.From, codes._scale, copy.To, copy.Count);
            Array.Copy(old._errorNorm, copy.From, codes._errorNorm, copy.To, copy.Count);
            Array.Copy(old._norm, copy.From, codes._norm, copy.To, copy.Count);
        }

        foreach (int r in RowCopy.Uncovered(rows, keep))
        {
            codes.EncodeRow(r, matrix.Slice(r * dimension, dimension), scratch, best);
        }

        return codes;
    }

    /// <summary>Rounds a query to int8 and keeps what the bound needs about that rounding.</summary>
    public Query Prepare(ReadOnlySpan<float> query) => new(query, Blocks);

    /// <summary>For every row: an upper bound of its true dot product with the query (always ≥ the exact value).</summary>
    public void UpperBounds(Query query, Span<float> upper, Span<int> dots)
    {
        Scan(query.Codes, dots[..Rows]);
        var u = upper[..Rows];
        float offset = Offset * query.CodeSum;
        float hatNorm = query.HatNorm, errorNorm = query.ErrorNorm, qScale = query.Scale;
        int r = 0;

        // upper = qScale·scale·(dot − 7.5·Σc_q) + ‖q̂‖·‖e_x‖ + ‖e_q‖·‖x‖ + slack, one fused pass.
        if (Vector256.IsHardwareAccelerated)
        {
            ref float scale = ref MemoryMarshal.GetArrayDataReference(_scale);
            ref float err = ref MemoryMarshal.GetArrayDataReference(_errorNorm);
            ref float norm = ref MemoryMarshal.GetArrayDataReference(_norm);
            ref int dot = ref MemoryMarshal.GetReference(dots);
            ref float up = ref MemoryMarshal.GetReference(u);
            for (; r <= Rows - Vector256<float>.Count; r += Vector256<float>.Count)
            {
                var approx = (Vector256.ConvertToSingle(Vector256.LoadUnsafe(ref dot, (nuint)r)) - Vector256.Create(offset)) * Vector256.LoadUnsafe(ref scale, (nuint)r) * qScale;
                var bound = (Vector256.LoadUnsafe(ref err, (nuint)r) * hatNorm) + (Vector256.LoadUnsafe(ref norm, (nuint)r) * errorNorm);
                (approx + bound + Vector256.Create(RoundingSlack)).StoreUnsafe(ref up, (nuint)r);
            }
        }

        for (; r < Rows; r++)
        {
            u[r] = ((dots[r] - offset) * _scale[r] * qScale) + (_errorNorm[r] * hatNorm) + (_norm[r] * errorNorm) + RoundingSlack;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void EncodeRow(int r, ReadOnlySpan<float> x, Span<float> scratch, Span<float> best)
    {
        _norm[r] = TensorPrimitives.Norm(x) * (1 + RoundingSlack);
        float max = TensorPrimitives.MaxMagnitude(x);
        float bestError = float.PositiveInfinity;
        if (max == 0)
        {
            // Scale 0 reconstructs exactly zero whatever the code.
            best[..x.Length].Fill(Offset);
            bestError = 0;
        }
        else
        {
            foreach (float clip in ClipCandidates)
            {
                float scale = max * clip / Offset;
                float error = SquaredError(x, scale);
                if (error < bestError)
                {
                    bestError = error;
                    _scale[r] = scale;
                }
            }

            bestError = Quantise(x, _scale[r], Offset, 0, Levels, best[..x.Length], scratch[..x.Length]);
        }

        // Float sums of squares are off by a few ulps; the relative margin plus RoundingSlack keeps the bound a bound.
        _errorNorm[r] = MathF.Sqrt(bestError) * (1 + RoundingSlack);
        var packed = _codes.AsSpan(r * _stride, _stride);
        for (int b = 0; b < Blocks; b++)
        {
            // byte j = low nibble c[j] + 16 × high nibble c[64 + j]; exact in float (0..255).
            var block = best.Slice(b * BlockDims, BlockDims);
            var pair = scratch[..BlockBytes];
            TensorPrimitives.MultiplyAdd(block[BlockBytes..], 16f, block[..BlockBytes], pair);
            TensorPrimitives.ConvertTruncating<float, byte>(pair, packed.Slice(b * BlockBytes, BlockBytes));
        }
    }

    /// <summary>
    /// Uniform quantiser shared by both code widths: c = clamp(round(x/scale + offset), lowest, highest) per component,
    /// reconstruction scale·(c − offset); returns the squared reconstruction error.
    /// </summary>
    internal static float Quantise(ReadOnlySpan<float> x, float scale, float offset, float lowest, float highest, Span<float> level, Span<float> error)
    {
        TensorPrimitives.Multiply(x, 1 / scale, level);
        TensorPrimitives.Add(level, offset, level);
        TensorPrimitives.Round(level, level);
        TensorPrimitives.Max(level, lowest, level);
        TensorPrimitives.Min(level, highest, level);

        // error = x − scale·(c − offset)
        TensorPrimitives.Multiply(level, -scale, error);
        TensorPrimitives.Add(error, scale * offset, error);
        TensorPrimitives.Add(error, x, error);
        return TensorPrimitives.SumOfSquares(error);
    }

    /// <summary>What <see cref="Quantise"/> would return for 4-bit codes, in one fused pass without writing codes: for choosing the scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float SquaredError(ReadOnlySpan<float> x, float scale)
    {
        float inverse = 1 / scale;
        int i = 0;
        float sum = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.Create(x.Slice(i, Vector256<float>.Count));
                var c = Vector256.Clamp(Vector256.Round((v * inverse) + Vector256.Create(Offset)), Vector256<float>.Zero, Vector256.Create((float)Levels));
                var e = v - ((c - Vector256.Create(Offset)) * scale);
                acc += e * e;
            }

            sum = Vector256.Sum(acc);
        }

        for (; i < x.Length; i++)
        {
            float c = Math.Clamp(MathF.Round((x[i] * inverse) + Offset), 0, Levels);
            float e = x[i] - ((c - Offset) * scale);
            sum += e * e;
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Scan(ReadOnlySpan<sbyte> query, Span<int> dots)
    {
        ref byte codes = ref MemoryMarshal.GetArrayDataReference(_codes);
        ref sbyte q = ref MemoryMarshal.GetReference(query);
        if (_wide && Blocks <= BlocksPerInt16Sum)
        {
            // Embeddings of up to 512 dimensions: the whole query lives in registers. Longer ones take the 256-bit path.
            var mask = Vector512.Create((byte)0x0F);
            var ones = Vector512.Create((short)1);
            var q0 = Vector512.LoadUnsafe(ref q, 0);
            var q1 = Vector512.LoadUnsafe(ref q, 64);
            var q2 = Blocks > 1 ? Vector512.LoadUnsafe(ref q, 128) : default;
            var q3 = Blocks > 1 ? Vector512.LoadUnsafe(ref q, 192) : default;
            var q4 = Blocks > 2 ? Vector512.LoadUnsafe(ref q, 256) : default;
            var q5 = Blocks > 2 ? Vector512.LoadUnsafe(ref q, 320) : default;
            var q6 = Blocks > 3 ? Vector512.LoadUnsafe(ref q, 384) : default;
            var q7 = Blocks > 3 ? Vector512.LoadUnsafe(ref q, 448) : default;
            for (int r = 0; r < dots.Length; r++)
            {
                ref byte row = ref Unsafe.Add(ref codes, r * _stride);
                var v = Vector512.LoadUnsafe(ref row);
                var sum = Avx512BW.MultiplyAddAdjacent(v & mask, q0) + Avx512BW.MultiplyAddAdjacent(Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask, q1);
                if (Blocks > 1)
                {
                    v = Vector512.LoadUnsafe(ref row, 64);
                    sum += Avx512BW.MultiplyAddAdjacent(v & mask, q2) + Avx512BW.MultiplyAddAdjacent(Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask, q3);
                }

                if (Blocks > 2)
                {
                    v = Vector512.LoadUnsafe(ref row, 128);
                    sum += Avx512BW.MultiplyAddAdjacent(v & mask, q4) + Avx512BW.MultiplyAddAdjacent(Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask, q5);
                }

                if (Blocks > 3)
                {
                    v = Vector512.LoadUnsafe(ref row, 192);
                    sum += Avx512BW.MultiplyAddAdjacent(v & mask, q6) + Avx512BW.MultiplyAddAdjacent(Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask, q7);
                }

                dots[r] = Vector512.Sum(Avx512BW.MultiplyAddAdjacent(sum, ones));
            }
        }
        else
        {
            var mask = Vector256.Create((byte)0x0F);
            var ones = Vector256.Create((short)1);
            for (int r = 0; r < dots.Length; r++)
            {
                nuint row = (nuint)(r * _stride);
                var acc = Vector256<int>.Zero;
                for (int b = 0; b < Blocks; b++)
                {
                    for (int h = 0; h < BlockBytes; h += Vector256<byte>.Count)
                    {
                        var v = Vector256.LoadUnsafe(ref codes, row + (nuint)((b * BlockBytes) + h));
                        var lo = Avx2.MultiplyAddAdjacent(v & mask, Vector256.LoadUnsafe(ref q, (nuint)((b * BlockDims) + h)));
                        var hi = Avx2.MultiplyAddAdjacent(Vector256.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask,
                            Vector256.LoadUnsafe(ref q, (nuint)((b * BlockDims) + BlockBytes + h)));
                        acc += Avx2.MultiplyAddAdjacent(lo + hi, ones);
                    }
                }

                dots[r] = Vector256.Sum(acc);
            }
        }
    }

    /// <summary>A query rounded to int8 (padded to whole blocks with zeros), with the norms the bound needs.</summary>
    public sealed class Query
    {
        internal Query(ReadOnlySpan<float> q, int blocks)
        {
            Codes = new sbyte[blocks * BlockDims];
            float max = TensorPrimitives.MaxMagnitude(q);
            Scale = max / sbyte.MaxValue;
            double hatNorm = 0, errorNorm = 0;
            int sum = 0;
            for (int i = 0; i < q.Length; i++)
            {
                int c = max == 0 ? 0 : (int)Math.Clamp(MathF.Round(q[i] / Scale), -sbyte.MaxValue, sbyte.MaxValue);
                Codes[i] = (sbyte)c;
                sum += c;
                double hat = (double)Scale * c;
                hatNorm += hat * hat;
                errorNorm += (q[i] - hat) * (q[i] - hat);
            }

            CodeSum = sum;
            HatNorm = (float)Math.Sqrt(hatNorm) * (1 + RoundingSlack);
            ErrorNorm = (float)Math.Sqrt(errorNorm) * (1 + RoundingSlack);
        }

        internal sbyte[] Codes { get; }

        internal float Scale { get; }

        internal int CodeSum { get; }

        internal float HatNorm { get; }

        internal float ErrorNorm { get; }
    }
}
