using FaceStream.Core.Detection.Adaptive;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;

namespace FaceStream.Inference.Detection;

/// <summary>
/// Runs one detector call for a batch of frames, each scanned as its <see cref="ScanPlan"/> says: whole, in windows, or
/// not at all. Full frames of the same size still share network runs; windows are searched only for the face sizes
/// they were planned for; faces come back in frame coordinates, without the copies overlapping windows make.
/// </summary>
public static class WindowedDetection
{
    /// <param name="wholeFrames">Per frame, the face sizes a whole-frame pass looks for (default: every size the detector's settings allow).</param>
    public static IReadOnlyList<IReadOnlyList<DetectedFace>> Detect(IFaceDetector detector, IReadOnlyList<ImageFrame> frames, IReadOnlyList<ScanPlan> plans,
        IReadOnlyList<FaceSizeRange>? wholeFrames = null)
    {
        var images = new List<ImageFrame>();
        var sizes = new List<FaceSizeRange>();
        var owner = new List<(int Frame, ScanWindow? Window)>();
        for (int i = 0; i < frames.Count; i++)
        {
            var plan = plans[i];
            if (plan.Full)
            {
                images.Add(frames[i]);
                sizes.Add(wholeFrames?[i] ?? FaceSizeRange.Any);
                owner.Add((i, null));
                continue;
            }

            foreach (var w in plan.Windows)
            {
                images.Add(frames[i].Crop(w.X, w.Y, w.Width, w.Height));
                sizes.Add(new FaceSizeRange(w.MinFace, w.MaxFace));
                owner.Add((i, w));
            }
        }

        var found = images.Count == 0 ? [] : detector.DetectBatch(images, sizes);
        var results = new IReadOnlyList<DetectedFace>[frames.Count];
        var windowed = new List<(ScanWindow, IReadOnlyList<DetectedFace>)>[frames.Count];
        for (int k = 0; k < owner.Count; k++)
        {
            var (frame, window) = owner[k];
            if (window is { } w)
            {
                (windowed[frame] ??= []).Add((w, found[k]));
            }
            else
            {
                results[frame] = found[k];
            }
        }

        for (int i = 0; i < frames.Count; i++)
        {
            results[i] ??= windowed[i] is { } parts ? WindowDetections.Merge(parts) : [];
        }

        return results;
    }
}
