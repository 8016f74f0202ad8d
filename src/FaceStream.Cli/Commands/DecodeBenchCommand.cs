using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading.Channels;
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

    public static Command Create()
    {
        var command = new Command("decode", "FFmpeg decode + conversion fps and CPU per camera") { Clip, Runs, CliOptions.Markdown };
        command.SetAction(RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(ParseResult args, CancellationToken cancel)
    {
        int runs = args.GetValue(Runs);
        var versions = FfmpegLibrary.EnsureLoaded();
        string clip = args.GetValue(Clip) ?? MakeCameraClip();
        var probe = VideoProbe.Probe(new VideoSourceOptions { Id = "bench", Url = clip });
        var lines = new List<string>
        {
            $"Machine: {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, {versions}",
            $"Command: facestream bench decode --runs {runs}{(args.GetValue(Clip) is { } c ? " --clip " + c : "")} " +
            $"(clip: {probe.Codec} {probe.Width}x{probe.Height} @ {probe.Fps:0.##} fps{(args.GetValue(Clip) is null ? $", made with ffmpeg {ClipRecipe}" : "")}); median of {runs} runs",
            "",
            "| decoder threads | converted to BGRA | decode fps (wall) | CPU ms per frame | CPU per camera at 25 fps (% of one core) | bytes allocated per frame |",
            "|---|---|---|---|---|---|",
        };
        var cases = new List<(int Threads, double AnalysisFps, bool SkipLoopFilter)> { (1, 0, false), (1, 5, false), (2, 0, false), (2, 5, false), (1, 5, true) };
        foreach (var (threads, analysisFps, skipLoopFilter) in cases)
        {
            var results = new List<Result>();
            for (int run = 0; run <= runs; run++)
            {
                results.Add(await MeasureAsync(clip, threads, analysisFps, skipLoopFilter, cancel));
            }

            // The first run warms up (caches, JIT) and is not counted.
            results = results.Skip(1).OrderBy(r => r.Fps).ToList();
            var m = results[results.Count / 2];
            double cpuPerFrameMs = m.CpuSeconds * 1000 / m.Frames;
            double cameraCpu = cpuPerFrameMs * probe.Fps / 10;
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {threads}{(skipLoopFilter ? " + SkipLoopFilter" : "")} | {(analysisFps == 0 ? "every frame" : $"{analysisFps:0} fps (1 in {probe.Fps / analysisFps:0})")} | {m.Fps:0} | {cpuPerFrameMs:0.00} | {cameraCpu:0.0} % | {m.AllocatedPerFrame:0} |"));
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

    private sealed record Result(double Fps, double CpuSeconds, long Frames, double AllocatedPerFrame);

    private static async Task<Result> MeasureAsync(string clip, int threads, double analysisFps, bool skipLoopFilter, CancellationToken cancel)
    {
        using var pool = new VideoFramePool();
        var source = new VideoSource(new VideoSourceOptions { Id = "bench", Url = clip, DecoderThreads = threads, AnalysisFps = analysisFps, SkipLoopFilter = skipLoopFilter }, pool);
        var channel = Channel.CreateBounded<VideoFrame>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
        var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var consumer = Task.Run(async () =>
        {
            await foreach (var frame in channel.Reader.ReadAllAsync())
            {
                frame.Dispose();
            }
        });
        await source.RunAsync(channel.Writer, cancel);
        channel.Writer.Complete();
        await consumer;
        clock.Stop();
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - alloc0;
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpu0).TotalSeconds;
        long frames = source.Stats.FramesDecoded;
        return new Result(frames / clock.Elapsed.TotalSeconds, cpu, frames, (double)allocated / frames);
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
