using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using FaceStream.Cli.Bench;
using FaceStream.Core.Detection.Adaptive;
using FaceStream.Core.Tracking;
using FaceStream.Inference.Detection;
using FaceStream.Worker.Configuration;

namespace FaceStream.Cli.Commands;

/// <summary>facestream bench adaptive: full-frame against scene-adaptive detection on the same clips (agreement and CPU).</summary>
public static class AdaptiveBenchCommand
{
    private static readonly Argument<string[]> Clips = new("CLIP") { Description = "Video files or rtsp:// URLs", Arity = ArgumentArity.OneOrMore };

    private static readonly Option<float> Fps = CliOptions.Float("--fps", 0.5f, 60, 5, "N", "Analysed frames per second");

    private static readonly Option<int> Loops = CliOptions.Int("--loops", 1, 1000, 1, "N", "Play each clip N times (each restart is a scene cut)");

    private static readonly Option<bool> Trace = new("--trace") { Description = "One line per frame on stderr: the scan plan, motion share, windows and faces" };

    private static readonly Option<bool> Batched = new("--batched")
    {
        Description = "Instead: play clip i as camera i and time each batch (frame t of every clip) searched whole, window by window, and in one call",
    };

    private static readonly Option<string> Mode = new Option<string>("--mode")
    {
        Description = "What is compared with the full pass: adaptive (the scene-adaptive mode) or full (a second full pass, e.g. with --reference-scale-factor)",
        HelpName = "MODE",
        DefaultValueFactory = _ => DetectorOptions.AdaptiveMode,
    }.AcceptOnlyFromAmong(DetectorOptions.AdaptiveMode, DetectorOptions.FullMode);

    private static readonly Option<float?> ReferenceScaleFactor = CliOptions.OptionalFloat("--reference-scale-factor", 0.1f, 0.95f, "F",
        "The reference full pass's pyramid step (default: Detector:Mtcnn:ScaleFactor, as the compared side); the other settings stay the configured ones");

    private static readonly Option<float?> ReferencePNetThreshold = CliOptions.OptionalFloat("--reference-pnet-threshold", 0.05f, 0.99f, "T",
        "The reference full pass's P-Net threshold (default: Detector:Mtcnn:PNetThreshold, as the compared side); the other settings stay the configured ones");

    private static readonly Option<int?> ReferenceMinFace = CliOptions.OptionalInt("--reference-min-face", 12, 4096, "PX",
        "The reference full pass's smallest face (default: Detector:Mtcnn:MinFaceSize, as the compared side); the other settings stay the configured ones");

    private static readonly Option<float> CountFrom = CliOptions.Float("--count-from", 0, 4096, 0, "PX",
        "Count only the reference's faces whose shorter box side is at least PX (e.g. Quality:MinFaceSize: the faces a camera can embed), and tracks with 2 such views");

    public static Command Create()
    {
        var command = new Command("adaptive", "Full-frame against scene-adaptive detection on the same frames: faces and tracks also found, how late, pixels scanned, CPU")
        {
            Clips, Fps, Loops, Trace, Batched, Mode, ReferenceScaleFactor, ReferencePNetThreshold, ReferenceMinFace, CountFrom, CliOptions.Markdown,
        };
        command.SetAction(RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(ParseResult args, CancellationToken cancel)
    {
        var clips = args.GetValue(Clips) ?? [];
        var ctx = CliContext.Create(args);
        double fps = args.GetValue(Fps);
        int loops = args.GetValue(Loops);
        var settings = CliContext.LoadWorkerSettings(args);
        var adaptive = settings.Detector.Adaptive;
        bool adaptiveMode = args.GetValue(Mode) == DetectorOptions.AdaptiveMode;
        if (args.GetValue(Batched) && (!adaptiveMode || args.GetValue(ReferenceScaleFactor) is not null || args.GetValue(ReferencePNetThreshold) is not null || args.GetValue(ReferenceMinFace) is not null))
        {
            throw new UsageException("--batched times the adaptive mode against the full mode with one detector: leave out --mode full and the --reference-… options");
        }

        // The worker settings' own copy of Detector:Mtcnn (with the global options applied) configures the reference.
        var referenceOptions = settings.Mtcnn;
        referenceOptions.ScaleFactor = args.GetValue(ReferenceScaleFactor) ?? ctx.Mtcnn.ScaleFactor;
        referenceOptions.PNetThreshold = args.GetValue(ReferencePNetThreshold) ?? ctx.Mtcnn.PNetThreshold;
        referenceOptions.MinFaceSize = args.GetValue(ReferenceMinFace) ?? ctx.Mtcnn.MinFaceSize;
        if (referenceOptions.Validate().FirstOrDefault() is { } invalid)
        {
            throw new UsageException($"--reference-…: {invalid}");
        }

        bool sameReference = referenceOptions.ScaleFactor == ctx.Mtcnn.ScaleFactor && referenceOptions.PNetThreshold == ctx.Mtcnn.PNetThreshold
            && referenceOptions.MinFaceSize == ctx.Mtcnn.MinFaceSize;
        float countFrom = args.GetValue(CountFrom);

        using var engine = ctx.Engine();
        using var separateReference = sameReference ? null : new MtcnnDetector(engine.Models, engine.Sessions, referenceOptions);
        var detectors = new ComparedDetectors(separateReference ?? engine.Detector, engine.Detector, adaptiveMode);
        string compared = adaptiveMode ? "adaptive" : "full";
        if (separateReference is not null)
        {
            compared += $", step {ctx.Mtcnn.ScaleFactor}, P-Net {ctx.Mtcnn.PNetThreshold}, min face {ctx.Mtcnn.MinFaceSize}";
        }

        var lines = new List<string>
        {
            $"Machine: {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}; detector threads {ctx.Mtcnn.EffectiveParallelism}, min face {ctx.Mtcnn.MinFaceSize} px, pyramid step {ctx.Mtcnn.ScaleFactor}",
            $"Command: facestream bench adaptive {string.Join(' ', clips.Select(Path.GetFileName))} --fps {fps} --loops {loops}" +
                (adaptiveMode ? "" : " --mode full") + (separateReference is null ? "" : $" --reference-scale-factor {referenceOptions.ScaleFactor} --reference-pnet-threshold {referenceOptions.PNetThreshold} --reference-min-face {referenceOptions.MinFaceSize}")
                + (countFrom > 0 ? $" --count-from {countFrom}" : ""),
            "",
            $"| clip | frames | faces (full{(separateReference is null ? "" : $", step {referenceOptions.ScaleFactor}, P-Net {referenceOptions.PNetThreshold}, min face {referenceOptions.MinFaceSize}")}{(countFrom > 0 ? $", ≥ {countFrom} px" : "")}) | also found ({compared}) | tracks (full, ≥ 2 views{(countFrom > 0 ? $" of ≥ {countFrom} px" : "")}) | also found | found late | latest (s) | full scans | pixels scanned | CPU ms/frame full | {compared} | ratio |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        };
        if (args.GetValue(Batched))
        {
            var b = await AdaptiveBatchComparison.RunAsync(engine.Detector, clips, fps, adaptive.ToMotion(), adaptive.ToScan(), ctx.Mtcnn.MinFaceSize, cancel);
            lines[1] += " --batched";
            lines[3] = "| cameras | batches | CPU ms per batch: full | adaptive, window by window | adaptive, one call | windows per frame | pixels scanned | whole-frame passes |";
            lines[4] = "|---|---|---|---|---|---|---|---|";
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {b.Cameras} | {b.Batches} | {b.FullCpuMs:0} | {b.WindowByWindowCpuMs:0} | {b.BatchedCpuMs:0} | {b.MeanWindows:0.0} | {b.MeanScannedShare:P0} | {b.FullPassShare:P0} |"));
            clips = [];
        }

        foreach (var clip in clips)
        {
            var r = await AdaptiveComparison.RunAsync(detectors, clip, fps, loops, adaptive.ToMotion(), adaptive.ToScan(),
                ctx.Mtcnn.MinFaceSize, countFrom, new TrackerOptions(), args.GetValue(Trace) ? Console.Error : null, cancel);
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Clip} ({r.Width}x{r.Height}) | {r.Frames} | {r.ReferenceFaces} | {r.FaceAgreement:P1} | {r.ReferenceTracks} | {r.TrackAgreement:P1} | {r.TracksFoundLate} | {r.MaxTrackDelaySeconds:0.0} | {r.FullScans} | {r.MeanScannedShare:P0} | {r.ReferenceCpuMsPerFrame:0} | {r.ComparedCpuMsPerFrame:0} | {r.CpuRatio:P0} |"));
            Console.Error.WriteLine(lines[^1]);
        }

        foreach (var l in lines)
        {
            Console.Out.WriteLine(l);
        }

        if (args.GetValue(CliOptions.Markdown) is { } md)
        {
            await File.WriteAllLinesAsync(md, lines, cancel);
        }

        return 0;
    }
}
