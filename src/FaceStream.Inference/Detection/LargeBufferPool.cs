using System.Buffers;

namespace FaceStream.Inference.Detection;

/// <summary>
/// ArrayPool.Shared for the usual frame-sized buffers, plain allocations for giant ones: the shared pool keeps every
/// array given back to it (per core, for good), so one huge image would otherwise pin hundreds of MB in a worker.
/// </summary>
internal static class LargeBufferPool
{
    /// <summary>Largest buffer pooled: a 2048×2048 BGRA level; above it the GC owns the array and can give the pages back.</summary>
    public const int MaxPooledBytes = 16 * 1024 * 1024;

    public static byte[] Rent(int size) =>
        size <= MaxPooledBytes ? ArrayPool<byte>.Shared.Rent(size) : GC.AllocateUninitializedArray<byte>(size);

    public static void Return(byte[] buffer)
    {
        // A rented array of a pooled size is at most MaxPooledBytes long (the pool rounds up to powers of two).
        if (buffer.Length <= MaxPooledBytes)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
