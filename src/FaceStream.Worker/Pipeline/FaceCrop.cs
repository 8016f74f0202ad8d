using System.Buffers;
using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;
using FaceStream.Media.Images;

namespace FaceStream.Worker.Pipeline;

/// <summary>A face region copied out of a frame into a pooled buffer, so the frame can go back to the pool before embedding.</summary>
internal sealed class FaceCrop : IDisposable
{
    // Margin around the box (in box sizes) so that the alignment warp finds real pixels, not the border.
    private const float Margin = 0.6f;

    private byte[]? _buffer;

    private FaceCrop(byte[] buffer, ImageFrame image, DetectedFace face)
    {
        _buffer = buffer;
        Image = image;
        Face = face;
    }

    public ImageFrame Image { get; }

    /// <summary>The face (box, score, landmarks) in crop coordinates.</summary>
    public DetectedFace Face { get; }

    /// <summary>The landmarks in crop coordinates.</summary>
    public Landmarks5 Landmarks => Face.Landmarks;

    public static FaceCrop From(ImageFrame frame, DetectedFace face)
    {
        var r = ImageCrop.Bounds(frame, face.Box, Margin);
        var buffer = ArrayPool<byte>.Shared.Rent(r.Width * r.Height * frame.Format.BytesPerPixel());
        var image = ImageCrop.Copy(frame, r, buffer);
        var l = face.Landmarks;
        PointF Shift(PointF p) => new(p.X - r.X, p.Y - r.Y);
        var box = new BoxF(face.Box.X1 - r.X, face.Box.Y1 - r.Y, face.Box.X2 - r.X, face.Box.Y2 - r.Y);
        return new FaceCrop(buffer, image, face with
        {
            Box = box,
            Landmarks = new Landmarks5(Shift(l.LeftEye), Shift(l.RightEye), Shift(l.Nose), Shift(l.MouthLeft), Shift(l.MouthRight)),
        });
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } b)
        {
            ArrayPool<byte>.Shared.Return(b);
        }
    }
}
