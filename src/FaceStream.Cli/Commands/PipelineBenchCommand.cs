using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using FaceStream.Cli.Bench;
using FaceStream.Inference;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Events;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;
using Microsoft.Extensions.Logging;

namespace FaceStream.Cli.Commands;

/// <summary>facestream bench pipeline: how many 1080p RTSP cameras the whole pipeline sustains at the analysis rate, with latency, CPU and memory.</summary>
public static class PipelineBenchCommand
{
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(8);

    /// <summary>Slack for connecting and stopping around each measured session.</summary>
    private static readonly TimeSpan SessionMargin = TimeSpan.FromSeconds(30);

    private static readonly Option<IReadOnlyList<int>> Cameras = CliOptions.Counts("--cameras", 1, 32, "1,2,4", "Camera counts to measure, one session each");

    private static readonly Option<int> Seconds = CliOptions.Int("--seconds", 5, 3600, 30, "S", "Measured seconds per session (after warm-up)");

    private static readonly Option<float> Fps = CliOptions.Float("--fps", 0.5f, 30f, 5f, "N", "Analysed frames per second per camera");

    private static readonly Option<int> MaxWidth = CliOptions.Int("--max-width", 160, 7680, 1920, "PX", "Frames wider than this are scaled down before detection");

    private static readonly Option<bool> NoAttributes = new("--no-attributes") { Description = "Events without face attributes (Events:Attributes false); the embed stage then only embeds" };

    public static Command Create()
    {
        var command = new Command("pipeline", "The whole pipeline on N live 1080p RTSP cameras: fps, latency, CPU, RSS (min face 40 unless --min-face)")
        {
            Cameras, Seconds, Fps, MaxWidth, NoAttributes, CliOptions.Markdown,
        };
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult args)
    {
        var ctx = CliContext.Create(args);
        var counts = args.GetRequiredValue(Cameras);
        var seconds = args.GetValue(Seconds);
        var fps = args.GetValue(Fps);
        var maxWidth = args.GetValue(MaxWidth);
        bool attributes = !args.GetValue(NoAttributes);
        if (args.GetValue(CliOptions.MinFace) is null)
        {
            ctx.Mtcnn.MinFaceSize = 40;
        }

        var store = ctx.Store();
        // Each camera's session must outlast warm-up + measurement (the server plays the clip once per client).
        var looped = BenchAssets.LoopedClip(store, 1920, 1080, WarmUp + TimeSpan.FromSeconds(seconds) + SessionMargin);
        using var engine = ctx.Engine();
        var gallery = BenchAssets.DemoGallery(engine, store);
        var servers = new List<RtspLoopServer>();
        try
        {
            foreach (int i in Enumerable.Range(0, counts.Max()))
            {
                servers.Add(new RtspLoopServer(looped, 18600 + i));
            }

            var urls = servers.Select(s => s.Url).ToList();
            var lines = new List<string>
            {
                $"Machine: {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}; provider {engine.ExecutionProvider}, " +
                $"detector min face {ctx.Mtcnn.MinFaceSize} px, embedder {engine.Embedder.ModelId}, event attributes {(attributes ? "on" : "off")}",
                $"Command: facestream bench pipeline --cameras {string.Join(",", counts)} --seconds {seconds} --fps {fps} --max-width {maxWidth} --embedder {engine.Embedder.ModelId}{(attributes ? "" : " --no-attributes")} " +
                $"(each camera: its own gst-rtsp-server on 127.0.0.1 serving a looped 1080p25 H.264 clip of the six sample photos; {WarmUp.TotalSeconds:0} s warm-up, then {seconds} s measured)",
                "",
                "| cameras | analysed fps per camera (target) | frames dropped | frame latency p50 / p95 | detect ms per batch (frames per batch) | embed ms per batch | embed ms per view (views) | CPU (of all cores) | RSS |",
                "|---|---|---|---|---|---|---|---|---|",
            };
            foreach (var n in counts)
            {
                var line = Measure(ctx, engine, gallery, urls.Take(n).ToList(), fps, maxWidth, attributes, TimeSpan.FromSeconds(seconds));
                lines.Add(line);
                Console.Error.WriteLine(line);
            }

            foreach (var l in lines)
            {
                Console.Out.WriteLine(l);
            }

            if (args.GetValue(CliOptions.Markdown) is { } md)
            {
                File.WriteAllLines(md, lines);
            }
        }
        finally
        {
            foreach (var s in servers)
            {
                s.Dispose();
            }
        }

        return 0;
    }

    private static string Measure(CliContext ctx, FaceEngine engine, Core.Matching.GalleryIndex gallery, List<string> urls, double fps, int maxWidth, bool attributes, TimeSpan duration)
    {
        var settings = new WorkerSettings();
        settings.Events.Console = false;
        settings.Events.Attributes = attributes;
        for (int i = 0; i < urls.Count; i++)
        {
            settings.Cameras.Add(new CameraOptions { Id = $"cam{i + 1}", Url = urls[i], AnalysisFps = fps, MaxWidth = maxWidth });
        }

        var metrics = new PipelineMetrics(Prometheus.Metrics.NewCustomRegistry());
        var pipeline = new FramePipeline(settings, engine, gallery, [new MemorySink()], metrics, ctx.Logs);
        using var cancel = new CancellationTokenSource();
        pipeline.SyncCamerasAsync(settings.Cameras).GetAwaiter().GetResult();
        var run = pipeline.RunAsync(cancel.Token);
        Thread.Sleep(WarmUp);
        var before = Snapshot(metrics, settings);
        var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        long rss = 0;
        while (clock.Elapsed < duration)
        {
            Thread.Sleep(500);
            process.Refresh();
            rss = Math.Max(rss, process.WorkingSet64);
        }

        var after = Snapshot(metrics, settings);
        process.Refresh();
        double cpu = (process.TotalProcessorTime - cpu0).TotalSeconds / clock.Elapsed.TotalSeconds / Environment.ProcessorCount;
        cancel.Cancel();
        run.GetAwaiter().GetResult();
        pipeline.DisposeAsync().AsTask().GetAwaiter().GetResult();

        double wall = clock.Elapsed.TotalSeconds;
        double analysedFps = (after.Analysed - before.Analysed) / wall / urls.Count;
        var latency = Histogram.Delta(before.Latency, after.Latency);
        double detectMs = 1000 * (after.DetectSum - before.DetectSum) / Math.Max(1, after.DetectCount - before.DetectCount);
        double embedMs = 1000 * (after.EmbedSum - before.EmbedSum) / Math.Max(1, after.EmbedCount - before.EmbedCount);
        double framesPerBatch = (after.Analysed - before.Analysed) / Math.Max(1, after.DetectCount - before.DetectCount);
        double views = after.Embedded - before.Embedded;
        double viewMs = 1000 * (after.EmbedSum - before.EmbedSum) / Math.Max(1, views);
        return string.Create(CultureInfo.InvariantCulture,
            $"| {urls.Count} | {analysedFps:0.0} ({fps:0.#}) | {after.Dropped - before.Dropped:0} | {latency.Quantile(0.5) * 1000:0} / {latency.Quantile(0.95) * 1000:0} ms | {detectMs:0} ({framesPerBatch:0.0}) | {embedMs:0} | {viewMs:0} ({views:0}) | {cpu * 100:0} % | {rss / (1 << 20)} MiB |");
    }

    private sealed record Counters(double Analysed, double Dropped, double DetectSum, double DetectCount, double EmbedSum, double EmbedCount, double Embedded, Histogram Latency);

    private static Counters Snapshot(PipelineMetrics m, WorkerSettings s)
    {
        using var ms = new MemoryStream();
        m.Registry.CollectAndExportAsTextAsync(ms).GetAwaiter().GetResult();
        var text = System.Text.Encoding.UTF8.GetString(ms.ToArray()).Split('\n');
        double Sum(string prefix) => text.Where(l => l.StartsWith(prefix, StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        return new Counters(
            Sum("facestream_camera_frames_analysed_total{"),
            Sum("facestream_camera_frames_dropped_total{"),
            Sum("facestream_stage_latency_seconds_sum{stage=\"detect\"}"),
            Sum("facestream_stage_latency_seconds_count{stage=\"detect\"}"),
            Sum("facestream_stage_latency_seconds_sum{stage=\"embed\"}"),
            Sum("facestream_stage_latency_seconds_count{stage=\"embed\"}"),
            Sum("facestream_embeddings_total{"),
            Histogram.Parse(text, "facestream_frame_latency_seconds_bucket{"));
    }

    /// <summary>Cumulative bucket counts summed over label sets, as Prometheus' histogram_quantile reads them.</summary>
    private sealed record Histogram(SortedDictionary<double, double> Buckets)
    {
        public static Histogram Parse(IEnumerable<string> lines, string prefix)
        {
            var buckets = new SortedDictionary<double, double>();
            foreach (var l in lines.Where(l => l.StartsWith(prefix, StringComparison.Ordinal)))
            {
                int le = l.IndexOf("le=\"", StringComparison.Ordinal) + 4;
                var bound = l[le..l.IndexOf('"', le)];
                double upper = bound == "+Inf" ? double.PositiveInfinity : double.Parse(bound, CultureInfo.InvariantCulture);
                buckets[upper] = buckets.GetValueOrDefault(upper) + double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }

            return new Histogram(buckets);
        }

        public static Histogram Delta(Histogram a, Histogram b) =>
            new(new SortedDictionary<double, double>(b.Buckets.ToDictionary(kv => kv.Key, kv => kv.Value - a.Buckets.GetValueOrDefault(kv.Key))));

        public double Quantile(double q)
        {
            double total = Buckets.Count == 0 ? 0 : Buckets.Last().Value;
            if (total <= 0)
            {
                return double.NaN;
            }

            double previousBound = 0, previousCount = 0;
            foreach (var (bound, count) in Buckets)
            {
                if (count >= q * total)
                {
                    if (double.IsPositiveInfinity(bound))
                    {
                        return previousBound;
                    }

                    return previousBound + ((bound - previousBound) * ((q * total) - previousCount) / Math.Max(1e-9, count - previousCount));
                }

                (previousBound, previousCount) = (bound, count);
            }

            return previousBound;
        }
    }
}
