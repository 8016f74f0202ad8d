using System.Diagnostics;
using FaceStream.Core.Detection.Adaptive;
using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;
using FaceStream.Core.Tracking;
using FaceStream.Inference.Detection;

namespace FaceStream.Cli.Bench;

/// <summary>Detection CPU of several cameras' frames searched together, as the worker's detect stage batches them.</summary>
public sealed record AdaptiveBatchResult(int Cameras, int Batches, double FullCpuMs, double WindowByWindowCpuMs, double BatchedCpuMs, double MeanWindows, double MeanScannedShare, double FullPassShare);

/// <summary>
/// Plays clip i as camera i: batch t holds frame t of every clip, planned by each camera's own <see cref="CameraScan"/>
/// (staggered phases, as in the detect stage) with its own tracker. Each batch is searched three ways, all timed in CPU:
/// whole frames in one call (full mode); adaptive with one detector call per window (the cascade each window used to
/// run on its own, each same-size group of whole frames still one call); adaptive in one call for the whole batch.
/// </summary>
public static class AdaptiveBatchComparison
{
    public static async Task<AdaptiveBatchResult> RunAsync(IFaceDetector detector, IReadOnlyList<string> clips, double fps, MotionOptions motion, ScanOptions scan, float minFace, CancellationToken cancel)
    {
        var frames = new List<List<(ImageFrame Image, TimeSpan Media)>>();
        foreach (var clip in clips)
        {
            frames.Add(await AdaptiveComparison.DecodeAsync(clip, fps, cancel));
        }

        int batches = frames.Min(f => f.Count), n = clips.Count;
        var scans = Enumerable.Range(0, n).Select(i => new CameraScan(motion, scan, minFace, (i * 0.6180339887) % 1)).ToArray();
        var trackers = Enumerable.Range(0, n).Select(_ => new FaceTracker(new TrackerOptions())).ToArray();
        var process = Process.GetCurrentProcess();
        TimeSpan full = TimeSpan.Zero, oneByOne = TimeSpan.Zero, batched = TimeSpan.Zero;
        double windows = 0, scanned = 0, fullPasses = 0;
        var origin = DateTimeOffset.UnixEpoch;
        for (int t = 0; t < batches; t++)
        {
            var images = frames.Select(f => f[t].Image).ToArray();
            var plans = new ScanPlan[n];
            for (int i = 0; i < n; i++)
            {
                var at = origin + frames[i][t].Media;
                var predicted = trackers[i].Active.Select(track => track.Predict(at)).ToList();
                plans[i] = scans[i].Plan(images[i], at, predicted);
                windows += plans[i].Windows.Count;
                scanned += plans[i].ScannedShare(images[i].Width, images[i].Height);
                fullPasses += plans[i].Full ? 1 : 0;
            }

            full += Cpu(process, () => detector.DetectBatch(images));
            oneByOne += Cpu(process, () => WindowByWindow(detector, images, plans));
            IReadOnlyList<IReadOnlyList<Core.Faces.DetectedFace>> found = [];
            batched += Cpu(process, () => found = WindowedDetection.Detect(detector, images, plans));
            for (int i = 0; i < n; i++)
            {
                trackers[i].Update(found[i], origin + frames[i][t].Media);
            }
        }

        double per = Math.Max(1, batches);
        return new AdaptiveBatchResult(n, batches, full.TotalMilliseconds / per, oneByOne.TotalMilliseconds / per, batched.TotalMilliseconds / per,
            windows / (per * n), scanned / (per * n), fullPasses / (per * n));
    }

    /// <summary>What a batch cost before windows shared R-Net and O-Net runs: one detector call per window.</summary>
    private static void WindowByWindow(IFaceDetector detector, ImageFrame[] images, ScanPlan[] plans)
    {
        var whole = images.Where((_, i) => plans[i].Full).ToList();
        if (whole.Count > 0)
        {
            detector.DetectBatch(whole);
        }

        for (int i = 0; i < images.Length; i++)
        {
            foreach (var w in plans[i].Full ? [] : plans[i].Windows)
            {
                detector.DetectBatch([images[i].Crop(w.X, w.Y, w.Width, w.Height)], [new FaceSizeRange(w.MinFace, w.MaxFace)]);
            }
        }
    }

    private static TimeSpan Cpu(Process process, Action work)
    {
        process.Refresh();
        var before = process.TotalProcessorTime;
        work();
        process.Refresh();
        return process.TotalProcessorTime - before;
    }
}
