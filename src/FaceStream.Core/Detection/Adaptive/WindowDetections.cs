using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;

namespace FaceStream.Core.Detection.Adaptive;

/// <summary>Brings faces found inside windows back to frame coordinates and removes the copies of overlapping windows.</summary>
public static class WindowDetections
{
    /// <summary>Two detections of one face in two windows overlap at least this much (IoU).</summary>
    public const float DuplicateIoU = 0.5f;

    /// <summary>A face found in a window whose top-left corner is at (<paramref name="dx"/>, <paramref name="dy"/>) of the frame.</summary>
    public static DetectedFace ToFrame(DetectedFace face, float dx, float dy)
    {
        if (dx == 0 && dy == 0)
        {
            return face;
        }

        var b = face.Box;
        var l = face.Landmarks;
        PointF Move(PointF p) => new(p.X + dx, p.Y + dy);
        return face with
        {
            Box = new BoxF(b.X1 + dx, b.Y1 + dy, b.X2 + dx, b.Y2 + dy),
            Landmarks = new Landmarks5(Move(l.LeftEye), Move(l.RightEye), Move(l.Nose), Move(l.MouthLeft), Move(l.MouthRight)),
        };
    }

    /// <summary>
    /// All windows' faces in frame coordinates, highest score first, without duplicates: where two overlap by
    /// <see cref="DuplicateIoU"/> or more, the higher-scoring one stays (windows are merged when they overlap, but a face
    /// cut by a window's edge can still be found twice: whole in one, in part in a neighbour).
    /// </summary>
    public static IReadOnlyList<DetectedFace> Merge(IReadOnlyList<(ScanWindow Window, IReadOnlyList<DetectedFace> Faces)> perWindow)
    {
        var all = new List<DetectedFace>();
        foreach (var (w, faces) in perWindow)
        {
            foreach (var f in faces)
            {
                all.Add(ToFrame(f, w.X, w.Y));
            }
        }

        all.Sort(static (a, b) => b.Score.CompareTo(a.Score));
        var kept = new List<DetectedFace>(all.Count);
        foreach (var f in all)
        {
            if (!kept.Exists(k => k.Box.IoU(f.Box) >= DuplicateIoU))
            {
                kept.Add(f);
            }
        }

        return kept;
    }
}
