using System.Buffers;
using FaceStream.Core.Imaging;
using SkiaSharp;

namespace FaceStream.Inference.Detection;

/// <summary>
/// One frame as a chain of 2× box-filtered levels (a mip chain) in native BGRA, from which pyramid scales and
/// window crops are drawn with bilinear sampling at a ratio between ½ and 1 (so without aliasing). Built once per frame.
/// </summary>
/// <remarks>Skia's own mipmapped drawing rebuilt the chain on every draw (≈10 ms each); building it once is 8 ms for
/// 2.4 MP. BGRA + opaque alpha is Skia's fast path (3–6× faster than RGBA/unpremultiplied here).</remarks>
internal sealed unsafe class SkiaPyramid : IDisposable
{
    private static readonly SKSamplingOptions Bilinear = new(SKFilterMode.Linear, SKMipmapMode.None);
    private readonly List<SKImage> _levels = [];
    private readonly MemoryHandle _pin;
    private readonly SKPixmap _pixmap;

    public int Width { get; }
    public int Height { get; }

    /// <summary>Wraps a packed BGRA frame without copying; the frame's memory must outlive this object.</summary>
    public SkiaPyramid(ReadOnlyMemory<byte> bgra, int width, int height, int stride, int smallestSide)
    {
        Width = width;
        Height = height;
        _pin = bgra.Pin();
        _pixmap = new SKPixmap(new SKImageInfo(width, height, SKColorType.Bgra8888, SKAlphaType.Opaque), (IntPtr)_pin.Pointer, stride);
        _levels.Add(SKImage.FromPixels(_pixmap));
        while (Math.Min(_levels[^1].Width, _levels[^1].Height) / 2 >= smallestSide)
        {
            var prev = _levels[^1];
            int w = (prev.Width + 1) / 2, h = (prev.Height + 1) / 2;
            var bmp = new SKBitmap(new SKImageInfo(w, h, SKColorType.Bgra8888, SKAlphaType.Opaque));
            using (var canvas = new SKCanvas(bmp))
            {
                canvas.DrawImage(prev, new SKRect(0, 0, prev.Width, prev.Height), new SKRect(0, 0, w, h), Bilinear, null);
            }

            bmp.SetImmutable();
            _levels.Add(SKImage.FromBitmap(bmp));
            bmp.Dispose();
        }
    }

    /// <summary>The coarsest level whose scale is still ≥ <paramref name="scale"/> (so drawing from it only shrinks by ≤ 2×).</summary>
    private SKImage Pick(float scale, out float levelScale)
    {
        int l = 0;
        while (l + 1 < _levels.Count && MathF.Pow(0.5f, l + 1) >= scale)
        {
            l++;
        }

        levelScale = (float)_levels[l].Width / Width;
        return _levels[l];
    }

    /// <summary>Draws the whole frame at <paramref name="w"/>×<paramref name="h"/> into a packed BGRA buffer.</summary>
    public void DrawScaled(Span<byte> destination, int w, int h)
    {
        var src = Pick((float)w / Width, out _);
        fixed (byte* p = destination)
        {
            using var surface = SKSurface.Create(new SKImageInfo(w, h, SKColorType.Bgra8888, SKAlphaType.Opaque), (IntPtr)p, w * 4)
                ?? throw new InvalidOperationException("cannot create a drawing surface");
            surface.Canvas.DrawImage(src, new SKRect(0, 0, src.Width, src.Height), new SKRect(0, 0, w, h), Bilinear, null);
            surface.Canvas.Flush();
        }
    }

    /// <summary>
    /// Draws windows as size×size BGRA tiles stacked vertically in <paramref name="destination"/> (which holds
    /// <paramref name="tileCount"/> tiles and is cleared by the caller): window i (x1, y1, x2, y2 in frame pixels,
    /// continuous) goes to tile <paramref name="tiles"/>[i]. Parts of a window outside the frame stay black, as in
    /// the reference cascade's zero padding.
    /// </summary>
    public void DrawCrops(Span<byte> destination, int tileCount, ReadOnlySpan<int> tiles, ReadOnlySpan<float> windows, int size)
    {
        fixed (byte* p = destination)
        {
            using var surface = SKSurface.Create(new SKImageInfo(size, size * tileCount, SKColorType.Bgra8888, SKAlphaType.Opaque), (IntPtr)p, size * 4)
                ?? throw new InvalidOperationException("cannot create a drawing surface");
            var canvas = surface.Canvas;
            for (int i = 0; i < tiles.Length; i++)
            {
                float x1 = windows[4 * i], y1 = windows[(4 * i) + 1], x2 = windows[(4 * i) + 2], y2 = windows[(4 * i) + 3];
                var src = Pick(size / Math.Max(1f, x2 - x1), out float ls);
                var dst = new SKRect(0, size * tiles[i], size, size * (tiles[i] + 1));
                // Clip each tile so a window's overflow never paints a neighbouring tile.
                canvas.Save();
                canvas.ClipRect(dst);
                canvas.DrawImage(src, new SKRect(x1 * ls, y1 * ls, x2 * ls, y2 * ls), dst, Bilinear, null);
                canvas.Restore();
            }

            canvas.Flush();
        }
    }

    public void Dispose()
    {
        foreach (var l in _levels)
        {
            l.Dispose();
        }

        _pixmap.Dispose();
        _pin.Dispose();
    }
}
