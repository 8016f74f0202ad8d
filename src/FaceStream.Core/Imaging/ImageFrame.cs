namespace FaceStream.Core.Imaging;

/// <summary>An interleaved 8-bit image in memory owned by the caller (a pooled buffer or a decoded still).</summary>
public sealed record ImageFrame(int Width, int Height, int Stride, PixelFormat Format, ReadOnlyMemory<byte> Pixels)
{
    /// <summary>
    /// A view of the rectangle (<paramref name="x"/>, <paramref name="y"/>, <paramref name="width"/> × <paramref name="height"/>)
    /// sharing this frame's pixels (no copy: rows keep the parent's stride).
    /// </summary>
    public ImageFrame Crop(int x, int y, int width, int height)
    {
        if (x < 0 || y < 0 || width <= 0 || height <= 0 || x + width > Width || y + height > Height)
        {
            throw new ArgumentOutOfRangeException(nameof(x), $"crop {width}x{height}+{x}+{y} is not inside the {Width}x{Height} frame");
        }

        int bpp = Format.BytesPerPixel();
        int start = (y * Stride) + (x * bpp);
        int length = ((height - 1) * Stride) + (width * bpp);
        return this with { Width = width, Height = height, Pixels = Pixels.Slice(start, length) };
    }

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
