using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using FaceStream.Inference;
using FaceStream.Media.Images;

namespace FaceStream.Cli.Commands;

/// <summary>facestream bench: detector speed at camera resolutions and per-face align+embed speed.</summary>
public static class BenchCommand
{
    private static readonly Option<int> Iterations = CliOptions.Int("--iterations", 1, 10_000, 10, "N", "Timed runs of each case (after 2 warm-up runs)");

    private static readonly Option<string?> Image = new("--image") { Description = "Photo the frames are cut from (default: the sample sample5.jpg)", HelpName = "FILE" };

    private static readonly Option<bool> EmbeddersOnly = new("--embedders-only") { Description = "Time only the embedders, not the detector" };

    private static readonly Option<bool> DetectorOnly = new("--detector-only") { Description = "Time only the detector, not the embedders" };

    public static Command Create()
    {
        var command = new Command("bench", "Detector speed at camera resolutions and per-face align + embed speed (or one of the benchmarks below)")
        {
            Iterations, Image, CliOptions.Markdown, EmbeddersOnly, DetectorOnly,
            DecodeBenchCommand.Create(), PipelineBenchCommand.Create(), SoakBenchCommand.Create(), WatchlistBenchCommand.Create(), AdaptiveBenchCommand.Create(),
        };
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult args)
    {
        var ctx = CliContext.Create(args);
        int iterations = args.GetValue(Iterations);
        var store = ctx.Store();
        string imagePath = args.GetValue(Image) ?? store.Sample("sample5.jpg");
        var source = StillImageDecoder.DecodeFile(imagePath);
        var lines = new List<string>
        {
            $"Machine: {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}, .NET {Environment.Version}; " +
            $"detector threads {ctx.Mtcnn.EffectiveParallelism}, ONNX Runtime intra-op threads {ctx.Inference.IntraOpNumThreads}, provider {ctx.Inference.ExecutionProvider}",
            $"Command: facestream bench --iterations {iterations}{(args.GetValue(CliOptions.Threads) is { } t ? " --threads " + t : "")} (frames cut from {Path.GetFileName(imagePath)}; {iterations} timed runs after 2 warm-up runs)",
            "",
            "| frame | min face | faces | mean ms | p50 ms | p95 ms | CPU ms per detection (both cores) |",
            "|---|---|---|---|---|---|---|",
        };
        (int W, int H)[] sizes = args.GetValue(EmbeddersOnly) ? [] : [(1920, 1080), (1280, 720), (640, 360)];
        foreach (var (w, h) in sizes)
        {
            var frame = FrameResizer.CoverTo(source, w, h);
            foreach (int minFace in new[] { 20, 40 })
            {
                ctx.Mtcnn.MinFaceSize = minFace;
                using var engine = ctx.Engine();
                int faces = 0;
                var times = Time(iterations, () => faces = engine.Detector.Detect(frame).Count, out double cpuMs);
                lines.Add($"| {w}x{h} | {minFace} px | {faces} | {times.Average():F1} | {Percentile(times, 0.5):F1} | {Percentile(times, 0.95):F1} | {cpuMs:F1} |");
                Console.Error.WriteLine(lines[^1]);
            }
        }

        if (args.GetValue(DetectorOnly))
        {
            return Finish(args, lines);
        }

        lines.Add("");
        lines.Add($"| embedder (flip fusion {(ctx.Inference.FlipFusion ? "on" : "off")}, antialiased chips {(ctx.Inference.AntialiasChips ? "on" : "off")}) | faces per call | ms per face (align + embed), mean | p95 |");
        lines.Add("|---|---|---|---|");
        // Every model alone, then the default ensemble.
        foreach (var embedder in ctx.Store().Manifest.Embedders.Select(e => e.Id).Append(Inference.Runtime.InferenceOptions.DefaultEmbedder).Distinct())
        {
            ctx.Inference.Embedder = embedder;
            ctx.Mtcnn.MinFaceSize = 40;
            using var engine = ctx.Engine();
            var faces = engine.Detector.Detect(source).Select(f => f.Landmarks).ToList();
            foreach (int batch in new[] { 1, faces.Count })
            {
                var subset = faces.Take(batch).ToList();
                var times = Time(iterations, () => engine.Embedder.Embed(source, subset), out _).Select(t => t / subset.Count).ToList();
                lines.Add($"| {embedder} | {subset.Count} | {times.Average():F1} | {Percentile(times, 0.95):F1} |");
                Console.Error.WriteLine(lines[^1]);
            }
        }

        return Finish(args, lines);
    }

    private static int Finish(ParseResult args, List<string> lines)
    {
        string table = string.Join('\n', lines);
        Console.Out.WriteLine(table);
        if (args.GetValue(CliOptions.Markdown) is { } md)
        {
            File.WriteAllText(md, table + "\n");
        }

        return 0;
    }

    /// <summary>Wall ms of each timed run (after two warm-up runs) and the process's CPU ms per timed run.</summary>
    private static List<double> Time(int iterations, Action action, out double cpuMsPerRun)
    {
        action();
        action();
        var times = new List<double>();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        for (int i = 0; i < iterations; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }

        cpuMsPerRun = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / iterations;
        return times;
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }
}
