using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using FaceStream.Core.Faces;
using FaceStream.Media.Video;
using FaceStream.Media.Video.Interop;

namespace FaceStream.Cli.Commands;

/// <summary>facestream bench decode: decode + conversion speed and CPU per camera for a 1080p H.264 file.</summary>
public static class DecodeBenchCommand
{
    private const string ClipRecipe =
        "-f lavfi -i \"testsrc2=size=1920x1080:rate=25,noise=alls=10:allf=t+u\" -t 10 -c:v libx264 -preset veryfast " +
        "-profile:v high -bf 0 -g 50 -b:v 6M -maxrate 6M -bufsize 12M -pix_fmt yuv420p";

    private static readonly Option<string?> Clip = new("--clip") { Description = "Video to decode (default: a camera-like 1080p25 H.264 clip made with the ffmpeg CLI)", HelpName = "FILE" };

    private static readonly Option<int> Runs = CliOptions.Int("--runs", 1, 100, 3, "N", "Runs of each case; the median is reported");

    private static readonly Option<bool> Faces = new("--faces")
    {
        Description = "Also detect faces on each case's analysed frames (one more, untimed run) and report the share of the first 5 fps case's faces (IoU ≥ 0.5) each finds",
    };

    /// <summary>One way of decoding the clip.</summary>
    private sealed record Case(int Threads, double AnalysisFps, bool SkipNonReference, bool SkipLoopFilter)
    {
        public string Name => $"{Threads}{(SkipNonReference ? " + SkipNonReferenceFrames" : "")}{(SkipLoopFilter ? " + SkipLoopFilter" : "")}";

        public VideoSourceOptions Options(string clip) => new()
        {
            Id = "bench", Url = clip, DecoderThreads = Threads, AnalysisFps = AnalysisFps, SkipNonReferenceFrames = SkipNonReference, SkipLoopFilter = SkipLoopFilter,
        };
    }

    public static Command Create()
    {
        var command = new Command("decode", "FFmpeg decode + conversion fps and CPU per camera") { Clip, Runs, Faces, CliOptions.Markdown };
        command.SetAction(RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(ParseResult args, CancellationToken cancel)
    {
        int runs = args.GetValue(Runs);
        var versions = FfmpegLibrary.EnsureLoaded();
        string clip = args.GetValue(Clip) ?? MakeCameraClip();
        var probe = VideoProbe.Probe(new VideoSourceOptions { Id = "bench", Url = clip });
        bool faces = args.GetValue(Faces);
        var lines = new List<string>
        {
            $"Machine: {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, {versions}",
            $"Command: facestream bench decode --runs {runs}{(faces ? " --faces" : "")}{(args.GetValue(Clip) is { } c ? " --clip " + c : "")} " +
            $"(clip: {probe.Codec} {probe.Width}x{probe.Height} @ {probe.Fps:0.##} fps{(args.GetValue(Clip) is null ? $", made with ffmpeg {ClipRecipe}" : "")}); median of {runs} runs",
            "",
            $"| decoder threads | converted to BGRA | decode fps (wall) | frames decoded | CPU ms per frame of the clip | CPU per camera at {probe.Fps:0.##} fps (% of one core) | bytes allocated per frame |{(faces ? " faces (also found) |" : "")}",
            $"|---|---|---|---|---|---|---|{(faces ? "---|" : "")}",
        };
        Case[] cases =
        [
            new(1, 0, false, false), new(1, 5, false, false), new(2, 0, false, false), new(2, 5, false, false), new(1, 5, false, true),
            new(1, 5, true, false), new(2, 5, true, false), new(1, 5, true, true),
        ];
        using var engine = faces ? CliContext.Create(args).Engine() : null;
        IReadOnlyList<IReadOnlyList<DetectedFace>>? reference = null;
        foreach (var benchCase in cases)
        {
            var results = new List<Result>();
            for (int run = 0; run <= runs; run++)
            {
                results.Add(await MeasureAsync(benchCase.Options(clip), null, cancel));
            }

            // The first run warms up (caches, JIT) and is not counted.
            results = results.Skip(1).OrderBy(r => r.Fps).ToList();
            var m = results[results.Count / 2];
            double cpuPerFrameMs = m.CpuSeconds * 1000 / m.Frames;
            double cameraCpu = cpuPerFrameMs * probe.Fps / 10;
            string agreement = "";
            if (engine is not null && benchCase.AnalysisFps > 0)
            {
                var found = new List<IReadOnlyList<DetectedFace>>();
                await MeasureAsync(benchCase.Options(clip), f => found.Add(engine.Detector.Detect(f.Image)), cancel);
                reference ??= found;
                agreement = $" {found.Sum(l => l.Count)} ({FaceAgreement(reference, found):P1}) |";
            }
            else if (engine is not null)
            {
                agreement = " |";
            }

            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {benchCase.Name} | {(benchCase.AnalysisFps == 0 ? "every frame" : $"{benchCase.AnalysisFps:0} fps (1 in {probe.Fps / benchCase.AnalysisFps:0})")} | {m.Fps:0} | {m.Decoded} of {m.Frames} | {cpuPerFrameMs:0.00} | {cameraCpu:0.0} % | {m.AllocatedPerFrame:0} |{agreement}"));
            Console.Error.WriteLine(lines[^1]);
        }

        foreach (var l in lines)
        {
            Console.Out.WriteLine(l);
        }

        if (args.GetValue(CliOptions.Markdown) is { } md)
        {
            File.WriteAllLines(md, lines);
        }

        return 0;
    }

    private sealed record Result(double Fps, double CpuSeconds, long Frames, long Decoded, double AllocatedPerFrame);

    /// <summary>Share of the reference's faces that the same frame of the other run also has (IoU ≥ 0.5).</summary>
    private static double FaceAgreement(IReadOnlyList<IReadOnlyList<DetectedFace>> reference, IReadOnlyList<IReadOnlyList<DetectedFace>> other)
    {
        int total = 0, found = 0;
        for (int i = 0; i < reference.Count; i++)
        {
            foreach (var face in reference[i])
            {
                total++;
                found += i < other.Count && other[i].Any(f => f.Box.IoU(face.Box) >= 0.5f) ? 1 : 0;
            }
        }

        return total == 0 ? 1 : (double)found / total;
    }

    private static async Task<Result> MeasureAsync(VideoSourceOptions options, Action<VideoFrame>? inspect, CancellationToken cancel)
    {
        using var pool = new VideoFramePool();
        var source = new VideoSource(options, pool);
        var channel = Channel.CreateBounded<VideoFrame>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
        var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var consumer = Task.Run(async () =>
        {
            await foreach (var frame in channel.Reader.ReadAllAsync())
            {
                using (frame)
                {
                    inspect?.Invoke(frame);
                }
            }
        });
        await source.RunAsync(channel.Writer, cancel);
        channel.Writer.Complete();
        await consumer;
        clock.Stop();
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - alloc0;
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpu0).TotalSeconds;
        // Frames of the clip: those decoded and those left out undecoded.
        long frames = source.Stats.FramesDecoded + source.Stats.FramesLeftOut;
        return new Result(frames / clock.Elapsed.TotalSeconds, cpu, frames, source.Stats.FramesDecoded, (double)allocated / frames);
    }

    private static string MakeCameraClip()
    {
        var dir = Path.Combine(Path.GetTempPath(), "facestream-bench");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "cam1080.mp4");
        if (File.Exists(path))
        {
            return path;
        }

        Console.Error.WriteLine("making a camera-like 1080p25 H.264 clip with the ffmpeg CLI (about 10 s)…");
        Demo.FfmpegCli.Run($"{ClipRecipe} \"{path}.tmp.mp4\"", "make the benchmark clip");
        File.Move(path + ".tmp.mp4", path);
        return path;
    }
}
