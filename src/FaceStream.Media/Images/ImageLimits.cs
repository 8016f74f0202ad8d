namespace FaceStream.Media.Images;

/// <summary>Limits checked before decoding, against decompression bombs and memory exhaustion.</summary>
public sealed record ImageLimits(long MaxFileBytes = 64L * 1024 * 1024, long MaxPixels = 64L * 1000 * 1000, int MinSide = 12)
{
    public static ImageLimits Default { get; } = new();
}
