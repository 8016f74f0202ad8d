using System.Globalization;
using System.Runtime.InteropServices;
using FaceStream.Cli.Bench;
using FaceStream.Core.Detection.Adaptive;
using FaceStream.Core.Tracking;

namespace FaceStream.Cli.Commands;

/// <summary>facestream bench adaptive: full-frame against scene-adaptive detection on the same clips (agreement and CPU).</summary>
public static class AdaptiveBenchCommand
{
    public const string Usage = "facestream bench adaptive CLIP... [--fps N] [--loops N] [--markdown FILE] [--trace]";

    public static int Run(IEnumerable<string> argv)
    {
        var args = CliArgs.Parse(argv, ["--fps", "--loops", "--markdown"], ["--trace"]);
        if (args.Positionals.Count == 0)
        {
            throw new UsageException("bench adaptive needs at least one clip (a video file or an rtsp:// URL)\n" + Usage);
        }

        var ctx = CliContext.Create(args);
        double fps = args.Float("--fps", 0.5f, 60) ?? 5;
        int loops = args.Int("--loops", 1, 1000) ?? 1;
        using var engine = ctx.Engine();
        var lines = new List<string>
        {
            $"Machine: {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}; detector threads {ctx.Mtcnn.EffectiveParallelism}, min face {ctx.Mtcnn.MinFaceSize} px",
            $"Command: facestream bench adaptive {string.Join(' ', args.Positionals.Select(Path.GetFileName))} --fps {fps} --loops {loops}",
            "",
            "| clip | frames | faces (full) | also found (adaptive) | tracks (full, ≥ 2 views) | also found | found late | latest (s) | full scans | pixels scanned | CPU ms/frame full | adaptive | ratio |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        };
        foreach (var clip in args.Positionals)
        {
            var r = AdaptiveComparison.RunAsync(engine.Detector, clip, fps, loops, new MotionOptions(), new ScanOptions(),
                ctx.Mtcnn.MinFaceSize, new TrackerOptions(), args.Flag("--trace") ? Console.Error : null, CancellationToken.None).GetAwaiter().GetResult();
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Clip} ({r.Width}x{r.Height}) | {r.Frames} | {r.FullFaces} | {r.FaceAgreement:P1} | {r.FullTracks} | {r.TrackAgreement:P1} | {r.TracksFoundLate} | {r.MaxTrackDelaySeconds:0.0} | {r.FullScans} | {r.MeanScannedShare:P0} | {r.FullCpuMsPerFrame:0} | {r.AdaptiveCpuMsPerFrame:0} | {r.CpuRatio:P0} |"));
            Console.Error.WriteLine(lines[^1]);
        }

        foreach (var l in lines)
        {
            Console.Out.WriteLine(l);
        }

        if (args.Value("--markdown") is { } md)
        {
            File.WriteAllLines(md, lines);
        }

        return 0;
    }
}
