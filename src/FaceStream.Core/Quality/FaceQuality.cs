using FaceStream.Core.Alignment;
using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;

namespace FaceStream.Core.Quality;

/// <summary>Why a view was not embedded (also the metric label).</summary>
public enum GateRejection
{
    None,
    Size,
    Score,
    Blur,
    Yaw,
    Pitch,

    /// <summary>The landmarks cannot belong to a face (<see cref="LandmarkGeometry"/>): hair, fabric, a pattern.</summary>
    Geometry,
}

/// <summary>Measured quality of one face view and the verdict of the gates.</summary>
public readonly record struct QualityReport(float Size, float Score, float Sharpness, float Yaw, float Pitch, float Quality, GateRejection Rejection)
{
    public bool Passed => Rejection == GateRejection.None;
}

/// <summary>Size, score, pose (from the 5 landmarks) and blur gates; a single comparable quality number for picking the best view.</summary>
public static class FaceQuality
{
    // Frontal faces put the nose about 49 % of the way from the eye line to the mouth line (the 112×112 ArcFace
    // template: eyes at y 51.7, nose 71.7, mouth 92.2).
    private const float FrontalNoseHeight = 0.49f;

    // Eye midpoint and mouth midpoint positions in a unit chip, used to warp a face into the sharpness crop.
    private static readonly PointF[] ChipTemplate = [new(0.34f, 0.40f), new(0.66f, 0.40f), new(0.50f, 0.56f), new(0.37f, 0.74f), new(0.63f, 0.74f)];

    public static (float Yaw, float Pitch) Pose(Landmarks5 l)
    {
        var eyeMid = new PointF((l.LeftEye.X + l.RightEye.X) / 2, (l.LeftEye.Y + l.RightEye.Y) / 2);
        var mouthMid = new PointF((l.MouthLeft.X + l.MouthRight.X) / 2, (l.MouthLeft.Y + l.MouthRight.Y) / 2);
        float eyeDist = MathF.Max(1e-3f, MathF.Sqrt(Sq(l.RightEye.X - l.LeftEye.X) + Sq(l.RightEye.Y - l.LeftEye.Y)));
        float yaw = (l.Nose.X - eyeMid.X) / eyeDist;
        float faceHeight = MathF.Max(1e-3f, mouthMid.Y - eyeMid.Y);
        float pitch = ((l.Nose.Y - eyeMid.Y) / faceHeight) - FrontalNoseHeight;
        return (yaw, pitch);
    }

    /// <summary>Measures a view and applies the gates in order of cost (size, score, landmark geometry, pose, then blur).</summary>
    public static QualityReport Assess(ImageFrame image, DetectedFace face, QualityOptions o, Span<float> scratch)
    {
        float size = MathF.Min(face.Box.Width, face.Box.Height);
        var (yaw, pitch) = Pose(face.Landmarks);
        var rejection = size < o.MinFaceSize ? GateRejection.Size
            : face.Score < o.MinScore ? GateRejection.Score
            : LandmarkGeometry.Check(face.Box, face.Landmarks) != GeometryFault.None ? GateRejection.Geometry
            : MathF.Abs(yaw) > o.MaxYaw ? GateRejection.Yaw
            : MathF.Abs(pitch) > o.MaxPitch ? GateRejection.Pitch
            : GateRejection.None;
        float sharpness = 0;
        if (rejection == GateRejection.None)
        {
            sharpness = Sharpness(image, face.Landmarks, o.SharpnessCropSize, scratch);
            if (sharpness < o.MinSharpness)
            {
                rejection = GateRejection.Blur;
            }
        }

        // Bigger, sharper, more frontal is better; each factor saturates so one cannot buy the others.
        float quality = MathF.Min(1, size / 112f) * MathF.Min(1, sharpness / MathF.Max(1, 4 * o.MinSharpness)) * (1 - MathF.Min(1, MathF.Abs(yaw))) * (1 - MathF.Min(1, MathF.Abs(pitch)));
        return new QualityReport(size, face.Score, sharpness, yaw, pitch, quality, rejection);
    }

    /// <summary>Variance of the 4-neighbour Laplacian on a grey, landmark-aligned crop of side <paramref name="size"/>.</summary>
    /// <param name="scratch">At least size × size floats.</param>
    public static float Sharpness(ImageFrame image, Landmarks5 landmarks, int size, Span<float> scratch)
    {
        Span<PointF> src = stackalloc PointF[5];
        Span<PointF> dst = stackalloc PointF[5];
        for (int i = 0; i < 5; i++)
        {
            src[i] = landmarks[i];
            dst[i] = new PointF(ChipTemplate[i].X * size, ChipTemplate[i].Y * size);
        }

        var grey = scratch[..(size * size)];
        AffineWarp.ToGrey(image, SimilarityTransform.Estimate(src, dst), size, grey);
        double sum = 0, sumSq = 0;
        int n = 0;
        for (int y = 1; y < size - 1; y++)
        {
            for (int x = 1; x < size - 1; x++)
            {
                int i = (y * size) + x;
                float lap = grey[i - 1] + grey[i + 1] + grey[i - size] + grey[i + size] - (4 * grey[i]);
                sum += lap;
                sumSq += lap * lap;
                n++;
            }
        }

        double mean = sum / n;
        return (float)((sumSq / n) - (mean * mean));
    }

    private static float Sq(float v) => v * v;
}
