using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;

namespace FaceStream.Tests.Worker.Pipeline;

/// <summary>Messages to feed a single stage with (no cameras, no other stages).</summary>
internal static class StageMessages
{
    public static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    public static PipelineMetrics Metrics() => new(Prometheus.Metrics.NewCustomRegistry());

    public static CameraRef Camera(PipelineMetrics metrics, string id = "door", long generation = 1) => new(id, generation, new CameraMetrics(metrics, id));

    /// <summary>A plain grey picture, for stages that only carry pixels along.</summary>
    public static ImageFrame Grey(int size = 160) => new(size, size, size * 3, PixelFormat.Rgb24, Enumerable.Repeat((byte)128, size * size * 3).ToArray());

    public static DetectedFace Face(float x = 40, float y = 40, float size = 60)
    {
        var lm = new Landmarks5(new(x + (0.3f * size), y + (0.4f * size)), new(x + (0.7f * size), y + (0.4f * size)), new(x + (0.5f * size), y + (0.58f * size)),
            new(x + (0.35f * size), y + (0.78f * size)), new(x + (0.65f * size), y + (0.78f * size)));
        return new DetectedFace(new BoxF(x, y, x + size, y + size), 0.99f, lm);
    }

    public static FaceView View(TrackKey track, ImageFrame image, DetectedFace face, float quality = 0.5f, int second = 0) =>
        new(track, face, quality, FaceCrop.From(image, face), T0.AddSeconds(second), TimeSpan.FromSeconds(second), System.Diagnostics.Stopwatch.GetTimestamp(), null);
}
