using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using FaceStream.Cli.Bench;
using FaceStream.Core.Detection.Adaptive;
using FaceStream.Core.Tracking;

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

    public static Command Create()
    {
        var command = new Command("adaptive", "Full-frame against scene-adaptive detection on the same frames: faces and tracks also found, how late, pixels scanned, CPU")
        {
            Clips, Fps, Loops, Trace, Batched, CliOptions.Markdown,
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
        var adaptive = CliContext.LoadWorkerSettings(args).Detector.Adaptive;
        using var engine = ctx.Engine();
        var lines = new List<string>
        {
            $"Machine: {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}; detector threads {ctx.Mtcnn.EffectiveParallelism}, min face {ctx.Mtcnn.MinFaceSize} px",
            $"Command: facestream bench adaptive {string.Join(' ', clips.Select(Path.GetFileName))} --fps {fps} --loops {loops}",
            "",
            "| clip | frames | faces (full) | also found (adaptive) | tracks (full, ≥ 2 views) | also found | found late | latest (s) | full scans | pixels scanned | CPU ms/frame full | adaptive | ratio |",
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
            var r = await AdaptiveComparison.RunAsync(engine.Detector, clip, fps, loops, adaptive.ToMotion(), adaptive.ToScan(),
                ctx.Mtcnn.MinFaceSize, new TrackerOptions(), args.GetValue(Trace) ? Console.Error : null, cancel);
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Clip} ({r.Width}x{r.Height}) | {r.Frames} | {r.FullFaces} | {r.FaceAgreement:P1} | {r.FullTracks} | {r.TrackAgreement:P1} | {r.TracksFoundLate} | {r.MaxTrackDelaySeconds:0.0} | {r.FullScans} | {r.MeanScannedShare:P0} | {r.FullCpuMsPerFrame:0} | {r.AdaptiveCpuMsPerFrame:0} | {r.CpuRatio:P0} |"));
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
