namespace FaceStream.Core.Imaging;

/// <summary>Interleaved 8-bit pixel layouts the engine accepts.</summary>
public enum PixelFormat
{
    Rgb24,
    Bgr24,
    Rgba32,
    Bgra32,
}

/// <summary>Channel facts per pixel format.</summary>
public static class PixelFormatInfo
{
    public static int BytesPerPixel(this PixelFormat f) => f is PixelFormat.Rgb24 or PixelFormat.Bgr24 ? 3 : 4;

    /// <summary>Offsets of R, G and B inside one pixel.</summary>
    public static (int R, int G, int B) ChannelOffsets(this PixelFormat f) => f switch
    {
        PixelFormat.Rgb24 or PixelFormat.Rgba32 => (0, 1, 2),
        _ => (2, 1, 0),
    };
}
