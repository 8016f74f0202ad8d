using System.Buffers;
using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;

namespace FaceStream.Worker.Pipeline;

/// <summary>A face region copied out of a frame into a pooled buffer, so the frame can go back to the pool before embedding.</summary>
internal sealed class FaceCrop : IDisposable
{
    // Margin around the box (in box sizes) so that the alignment warp finds real pixels, not the border.
    private const float Margin = 0.6f;

    private byte[]? _buffer;

    private FaceCrop(byte[] buffer, ImageFrame image, Landmarks5 landmarks)
    {
        _buffer = buffer;
        Image = image;
        Landmarks = landmarks;
    }

    public ImageFrame Image { get; }

    /// <summary>The landmarks in crop coordinates.</summary>
    public Landmarks5 Landmarks { get; }

    public static FaceCrop From(ImageFrame frame, DetectedFace face)
    {
        var b = face.Box;
        float mx = b.Width * Margin, my = b.Height * Margin;
        int x1 = Math.Clamp((int)MathF.Floor(b.X1 - mx), 0, frame.Width - 1), y1 = Math.Clamp((int)MathF.Floor(b.Y1 - my), 0, frame.Height - 1);
        int x2 = Math.Clamp((int)MathF.Ceiling(b.X2 + mx), x1 + 1, frame.Width), y2 = Math.Clamp((int)MathF.Ceiling(b.Y2 + my), y1 + 1, frame.Height);
        int bpp = frame.Format.BytesPerPixel();
        int w = x2 - x1, h = y2 - y1, stride = w * bpp;
        var buffer = ArrayPool<byte>.Shared.Rent(stride * h);
        var src = frame.Pixels.Span;
        for (int y = 0; y < h; y++)
        {
            src.Slice(((y1 + y) * frame.Stride) + (x1 * bpp), stride).CopyTo(buffer.AsSpan(y * stride, stride));
        }

        var l = face.Landmarks;
        PointF Shift(PointF p) => new(p.X - x1, p.Y - y1);
        return new FaceCrop(buffer, new ImageFrame(w, h, stride, frame.Format, buffer.AsMemory(0, stride * h)),
            new Landmarks5(Shift(l.LeftEye), Shift(l.RightEye), Shift(l.Nose), Shift(l.MouthLeft), Shift(l.MouthRight)));
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } b)
        {
            ArrayPool<byte>.Shared.Return(b);
        }
    }
}
