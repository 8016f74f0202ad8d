using FaceStream.Core.Imaging;
using SkiaSharp;

namespace FaceStream.Media.Images;

/// <summary>Decodes JPEG, PNG, WebP, BMP, GIF (first frame) and Netpbm (PGM/PPM) stills into RGBA frames.</summary>
public static class StillImageDecoder
{
    public static ImageFrame DecodeFile(string path, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        FileInfo info = new(path);
        if (!info.Exists)
        {
            throw new ImageDecodeException($"{path}: file not found");
        }

        if (info.Length == 0)
        {
            throw new ImageDecodeException($"{path}: empty file");
        }

        if (info.Length > limits.MaxFileBytes)
        {
            throw new ImageDecodeException($"{path}: file is {info.Length / (1024 * 1024)} MiB, over the {limits.MaxFileBytes / (1024 * 1024)} MiB limit");
        }

        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageDecodeException($"{path}: cannot read: {e.Message}", e);
        }

        return Decode(data, path, limits);
    }

    public static ImageFrame Decode(byte[] data, string name, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        if (data.Length == 0)
        {
            throw new ImageDecodeException($"{name}: empty file");
        }

        if (NetpbmDecoder.IsNetpbm(data))
        {
            var frame = NetpbmDecoder.Decode(data, name, limits);
            CheckSize(frame.Width, frame.Height, name, limits);
            return frame;
        }

        using var stream = new SKMemoryStream(data);
        using var codec = SKCodec.Create(stream, out var createResult);
        if (codec is null)
        {
            throw new ImageDecodeException(createResult == SKCodecResult.IncompleteInput
                ? $"{name}: truncated image header"
                : $"{name}: not a supported image (recognised: JPEG, PNG, WebP, BMP, GIF, PGM/PPM)");
        }

        // The header gives the size: refuse huge images before allocating anything for them.
        CheckSize(codec.Info.Width, codec.Info.Height, name, limits);
        // BGRA is the detector's native layout (Skia's fast path): decoding straight into it saves a conversion.
        var imageInfo = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Bgra8888, SKAlphaType.Premul);
        var pixels = new byte[imageInfo.BytesSize];
        SKCodecResult result;
        unsafe
        {
            fixed (byte* p = pixels)
            {
                result = codec.GetPixels(imageInfo, (IntPtr)p);
            }
        }

        if (result == SKCodecResult.IncompleteInput)
        {
            throw new ImageDecodeException($"{name}: truncated image data (the file ends before the image does)");
        }

        if (result is not (SKCodecResult.Success))
        {
            throw new ImageDecodeException($"{name}: corrupt image data ({result})");
        }

        var decoded = new ImageFrame(imageInfo.Width, imageInfo.Height, imageInfo.RowBytes, PixelFormat.Bgra32, pixels);
        // Phone photos are stored sideways with an EXIF orientation tag; faces must be upright for the detector.
        return Orient(decoded, codec.EncodedOrigin);
    }

    /// <summary>Width × height from the header alone (nothing decoded), or null when the header cannot be read.</summary>
    public static long? PixelCount(byte[] data)
    {
        if (data.Length == 0 || NetpbmDecoder.IsNetpbm(data))
        {
            return null;
        }

        using var stream = new SKMemoryStream(data);
        using var codec = SKCodec.Create(stream);
        return codec is null ? null : (long)codec.Info.Width * codec.Info.Height;
    }

    /// <summary>Applies an EXIF orientation (the transform that displays the stored pixels upright) to a BGRA image.</summary>
    public static ImageFrame Orient(ImageFrame image, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft || image.Format.BytesPerPixel() != 4)
        {
            return image;
        }

        int w = image.Width, h = image.Height;
        bool swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int ow = swap ? h : w, oh = swap ? w : h;
        var src = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(image.Pixels.Span);
        int srcStride = image.Stride / 4;
        var pixels = new byte[ow * oh * 4];
        var dst = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(pixels.AsSpan());
        for (int y = 0; y < oh; y++)
        {
            for (int x = 0; x < ow; x++)
            {
                // Output pixel (x, y) comes from source pixel (sx, sy).
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, h - 1 - x),
                    SKEncodedOrigin.RightBottom => (w - 1 - y, h - 1 - x),
                    SKEncodedOrigin.LeftBottom => (w - 1 - y, x),
                    _ => (x, y),
                };
                dst[(y * ow) + x] = src[(sy * srcStride) + sx];
            }
        }

        return new ImageFrame(ow, oh, ow * 4, image.Format, pixels);
    }

    private static void CheckSize(int w, int h, string name, ImageLimits limits)
    {
        if ((long)w * h > limits.MaxPixels)
        {
            throw new ImageDecodeException($"{name}: image is {w}x{h} ({(long)w * h / 1_000_000.0:F0} MP), over the {limits.MaxPixels / 1_000_000.0:F0} MP limit");
        }

        if (w < limits.MinSide || h < limits.MinSide)
        {
            throw new ImageDecodeException($"{name}: image is {w}x{h}, too small to hold a face (minimum side {limits.MinSide} px)");
        }
    }

    /// <summary>Adds a border of <paramref name="fraction"/> × side on every edge, repeating the edge pixels.</summary>
    /// <remarks>Detectors need context around a face; crops where the face fills the image (e.g. ORL) lose faces without it.</remarks>
    public static ImageFrame PadReplicate(ImageFrame src, float fraction)
    {
        if (fraction <= 0)
        {
            return src;
        }

        int px = (int)MathF.Round(src.Width * fraction), py = (int)MathF.Round(src.Height * fraction);
        int w = src.Width + (2 * px), h = src.Height + (2 * py), bpp = src.Format.BytesPerPixel();
        var dst = new byte[w * h * bpp];
        var s = src.Pixels.Span;
        for (int y = 0; y < h; y++)
        {
            int sy = Math.Clamp(y - py, 0, src.Height - 1);
            for (int x = 0; x < w; x++)
            {
                int sx = Math.Clamp(x - px, 0, src.Width - 1);
                s.Slice((sy * src.Stride) + (sx * bpp), bpp).CopyTo(dst.AsSpan(((y * w) + x) * bpp, bpp));
            }
        }

        return new ImageFrame(w, h, w * bpp, src.Format, dst);
    }
}
