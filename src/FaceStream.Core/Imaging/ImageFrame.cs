namespace FaceStream.Core.Imaging;

/// <summary>An interleaved 8-bit image in memory owned by the caller (a pooled buffer or a decoded still).</summary>
public sealed record ImageFrame(int Width, int Height, int Stride, PixelFormat Format, ReadOnlyMemory<byte> Pixels)
{
    /// <summary>Checks that the buffer can hold the described image.</summary>
    public void Validate()
    {
        if (Width <= 0 || Height <= 0)
        {
            throw new ArgumentException($"image size {Width}x{Height} is not positive");
        }

        if (Stride < Width * Format.BytesPerPixel())
        {
            throw new ArgumentException($"stride {Stride} is smaller than a row ({Width * Format.BytesPerPixel()} bytes)");
        }

        if (Pixels.Length < ((long)Stride * (Height - 1)) + (Width * Format.BytesPerPixel()))
        {
            throw new ArgumentException("pixel buffer is smaller than stride × height");
        }
    }
}
