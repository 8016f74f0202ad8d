using System.Diagnostics;
using System.Threading.Channels;
using FaceStream.Core.Detection.Adaptive;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Core.Tracking;
using FaceStream.Inference.Detection;
using FaceStream.Media.Video;

namespace FaceStream.Cli.Bench;

/// <summary>What a full-frame pass (the reference) and the compared detection found on one clip, and what each cost.</summary>
public sealed record AdaptiveComparisonResult(
    string Clip,
    int Width,
    int Height,
    int Frames,
    int ReferenceFaces,
    int FacesAlsoFound,
    int ReferenceTracks,
    int TracksAlsoFound,
    int TracksFoundLate,
    double MaxTrackDelaySeconds,
    int FullScans,
    double MeanScannedShare,
    double ReferenceCpuMsPerFrame,
    double ComparedCpuMsPerFrame)
{
    public double FaceAgreement => ReferenceFaces == 0 ? 1 : (double)FacesAlsoFound / ReferenceFaces;

    public double TrackAgreement => ReferenceTracks == 0 ? 1 : (double)TracksAlsoFound / ReferenceTracks;

    public double CpuRatio => ReferenceCpuMsPerFrame == 0 ? 0 : ComparedCpuMsPerFrame / ReferenceCpuMsPerFrame;
}

/// <summary>
/// The detectors of a comparison: <paramref name="Reference"/> searches every frame whole; <paramref name="Compared"/>
/// searches it as the adaptive mode plans (<paramref name="Adaptive"/>) or whole too, e.g. with another pyramid step.
/// The same detector on both sides compares the adaptive mode with the full mode.
/// </summary>
public sealed record ComparedDetectors(IFaceDetector Reference, IFaceDetector Compared, bool Adaptive);

/// <summary>
/// Runs a full-frame pass and scene-adaptive detection (or a second full pass, <see cref="ComparedDetectors"/>) over
/// the same decoded frames of a clip, each with its own tracker, and compares them: the share of the full pass's faces
/// (IoU ≥ 0.5) and tracks the other also found, how late, and the CPU each spent on detection, frame by frame in turn.
/// Both see identical frames, so the difference is the mode's (or the detector settings').
/// </summary>
public static class AdaptiveComparison
{
    /// <summary>A full-mode track counts once it has been seen this many times (a one-frame false positive is not a person).</summary>
    public const int MinTrackDetections = 2;

    /// <summary>The compared side's plan when it searches every frame whole.</summary>
    private static readonly ScanPlan WholeFrame = new(true, [], ScanReason.Periodic);

    public static async Task<AdaptiveComparisonResult> RunAsync(ComparedDetectors detectors, string clip, double fps, int loops,
        MotionOptions motion, ScanOptions scan, float minFace, float countFrom, TrackerOptions tracking, TextWriter? trace, CancellationToken cancel)
    {
        // Decoded before anything is timed: the process's CPU time would otherwise charge the decoding of the next
        // frames (its own thread) to whichever side ran first; a full pass against itself then cost 68 % of itself.
        var decoded = await DecodeAsync(clip, fps, cancel);
        // Each side's first run at this frame size (ONNX Runtime's arenas growing) is not timed either: with the same
        // detector on both sides the reference paid for both (a full pass against itself: 79 % of itself on the 21
        // frames of the 1080p clip; 98–101 % on every clip with this warm-up).
        foreach (var warm in decoded.Take(1))
        {
            detectors.Reference.Detect(warm.Image);
            detectors.Compared.Detect(warm.Image);
        }

        var cameraScan = new CameraScan(motion, scan, minFace);
        var fullTracker = new FaceTracker(tracking);
        var comparedTracker = new FaceTracker(tracking);
        var process = Process.GetCurrentProcess();
        TimeSpan fullCpu = TimeSpan.Zero, comparedCpu = TimeSpan.Zero;
        int frames = 0, fullFaces = 0, alsoFound = 0, fullScans = 0, width = 0, height = 0;
        double scanned = 0;
        // Per full-mode track: detections so far, when first seen, when the compared detection first had the same face.
        var tracks = new Dictionary<long, (int Seen, TimeSpan First, TimeSpan? Found)>();
        var clock = TimeSpan.Zero;
        var origin = DateTimeOffset.UnixEpoch;

        for (int loop = 0; loop < loops; loop++)
        {
            var loopStart = clock + TimeSpan.FromSeconds(1 / fps);
            foreach (var (image, mediaTime) in decoded)
            {
                cancel.ThrowIfCancellationRequested();
                (width, height) = (image.Width, image.Height);
                clock = loopStart + mediaTime;
                var at = origin + clock;
                frames++;

                process.Refresh();
                var cpu0 = process.TotalProcessorTime;
                var full = detectors.Reference.Detect(image);
                process.Refresh();
                var cpu1 = process.TotalProcessorTime;
                var plan = detectors.Adaptive ? cameraScan.Plan(image, at, comparedTracker.Active.Select(t => t.Predict(at)).ToList()) : WholeFrame;
                var compared = WindowedDetection.Detect(detectors.Compared, [image], [plan])[0];
                process.Refresh();
                var cpu2 = process.TotalProcessorTime;
                fullCpu += cpu1 - cpu0;
                comparedCpu += cpu2 - cpu1;
                fullScans += plan.Full ? 1 : 0;
                if (trace is not null)
                {
                    trace.WriteLine($"{clock.TotalSeconds:0.0}s {plan.Reason} motion {cameraScan.LastMotion.MovingShare:P0} regions {cameraScan.LastMotion.Regions.Count} windows {plan.Windows.Count} scanned {plan.ScannedShare(image.Width, image.Height):P0} est. cost {plan.Cost:P0} CPU ms {(cpu1 - cpu0).TotalMilliseconds:0} / {(cpu2 - cpu1).TotalMilliseconds:0} full {full.Count} {(detectors.Adaptive ? "adaptive" : "compared")} {compared.Count}{Missed(full, compared)}");
                }

                scanned += plan.ScannedShare(image.Width, image.Height);

                comparedTracker.Update(compared, at);
                var update = fullTracker.Update(full, at);
                foreach (var (face, track, _) in update.Assigned)
                {
                    // Faces the quality gate would refuse (--count-from) are tracked but neither counted nor awaited.
                    if (Math.Min(face.Box.Width, face.Box.Height) < countFrom)
                    {
                        continue;
                    }

                    bool found = compared.Any(a => a.Box.IoU(face.Box) >= 0.5f);
                    fullFaces++;
                    alsoFound += found ? 1 : 0;
                    var t = tracks.GetValueOrDefault(track.Id, (0, clock, null));
                    tracks[track.Id] = (t.Seen + 1, t.First, t.Found ?? (found ? clock : null));
                }
            }

            // The clip starts again: to the adaptive mode this is a scene cut, as a looping test camera makes it.
            cameraScan.Restart();
        }

        var real = tracks.Values.Where(t => t.Seen >= MinTrackDetections).ToList();
        var delays = real.Where(t => t.Found is not null).Select(t => (t.Found!.Value - t.First).TotalSeconds).ToList();
        return new AdaptiveComparisonResult(Path.GetFileName(clip), width, height, frames, fullFaces, alsoFound,
            real.Count, delays.Count, delays.Count(d => d > 0), delays.Count == 0 ? 0 : delays.Max(), fullScans,
            frames == 0 ? 0 : scanned / frames,
            frames == 0 ? 0 : fullCpu.TotalMilliseconds / frames, frames == 0 ? 0 : comparedCpu.TotalMilliseconds / frames);
    }

    /// <summary>The full pass's faces the compared detection did not find in this frame, as " missed x,y size …" (empty when none).</summary>
    private static string Missed(IReadOnlyList<DetectedFace> full, IReadOnlyList<DetectedFace> compared) =>
        string.Concat(full.Where(f => !compared.Any(a => a.Box.IoU(f.Box) >= 0.5f))
            .Select((f, i) => $"{(i == 0 ? " missed" : "")} {f.Box.X1:0},{f.Box.Y1:0} {Math.Max(f.Box.Width, f.Box.Height):0}px"));

    /// <summary>The clip's frames at <paramref name="fps"/>, copied into memory with their media times (a few hundred MB for the shared clips).</summary>
    internal static async Task<List<(ImageFrame Image, TimeSpan MediaTime)>> DecodeAsync(string clip, double fps, CancellationToken cancel)
    {
        using var pool = new VideoFramePool();
        var source = new VideoSource(new VideoSourceOptions { Id = "compare", Url = clip, AnalysisFps = fps, Live = false }, pool);
        var list = new List<(ImageFrame, TimeSpan)>();
        await PlayAsync(source, frame =>
        {
            var image = frame.Image;
            list.Add((new ImageFrame(image.Width, image.Height, image.Stride, image.Format, image.Pixels.ToArray()), frame.MediaTime));
        }, cancel);
        return list;
    }

    /// <summary>Runs the source to its end, handing each frame to <paramref name="onFrame"/> (which must not keep it).</summary>
    private static async Task PlayAsync(VideoSource source, Action<VideoFrame> onFrame, CancellationToken cancel)
    {
        var channel = Channel.CreateBounded<VideoFrame>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
        var producer = Task.Run(async () =>
        {
            try
            {
                await source.RunAsync(channel.Writer, cancel);
            }
            finally
            {
                channel.Writer.TryComplete();
            }
        }, cancel);

        await foreach (var frame in channel.Reader.ReadAllAsync(cancel))
        {
            using (frame)
            {
                onFrame(frame);
            }
        }

        await producer;
    }
}
