using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using FaceStream.Application.Gallery;
using FaceStream.Cli.Bench;
using FaceStream.Inference;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Events;
using FaceStream.Worker.Hosting;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceStream.Cli.Commands;

/// <summary>
/// facestream bench pipeline: how many cameras the whole pipeline sustains at the analysis rate, with latency, share of
/// pixels searched, CPU and memory: 1080p RTSP cameras of the sample photos, or real clips played as live cameras (--clip).
/// </summary>
public static class PipelineBenchCommand
{
    /// <summary>Slack for connecting and stopping around each measured session.</summary>
    private static readonly TimeSpan SessionMargin = TimeSpan.FromSeconds(30);

    private static readonly Option<IReadOnlyList<int>> Cameras = CliOptions.Counts("--cameras", 1, 32, "1,2,4", "Camera counts to measure, one session each");

    private static readonly Option<int> Seconds = CliOptions.Int("--seconds", 5, 3600, 30, "S", "Measured seconds per session (after warm-up)");

    private static readonly Option<int> WarmUpSeconds = CliOptions.Int("--warm-up", 0, 600, 20, "S",
        "Seconds each session runs before it is measured: connecting, every camera's first whole pass, the JIT's tiers (eight 1080p cameras still shed frames 10-20 s after the start)");

    private static readonly Option<float> Fps = CliOptions.Float("--fps", 0.5f, 30f, 5f, "N", "Analysed frames per second per camera");

    private static readonly Option<int> MaxWidth = CliOptions.Int("--max-width", 160, 7680, 1920, "PX", "Frames wider than this are scaled down before detection");

    private static readonly Option<string[]> Clips = new("--clip")
    {
        Description = "An H.264 clip to serve over RTSP (looped) instead of the sample-photo clip; repeat it for several clips (camera i plays clip i mod count)",
        HelpName = "FILE",
    };

    private static readonly Option<string> Mode = new Option<string>("--mode")
    {
        Description = "Detector:Mode: full (every frame searched whole) or adaptive (motion and track windows, periodic full passes)",
        HelpName = "MODE",
        DefaultValueFactory = _ => new DetectorOptions().Mode,
    }.AcceptOnlyFromAmong(DetectorOptions.FullMode, DetectorOptions.AdaptiveMode);

    private static readonly Option<bool> NoAttributes = new("--no-attributes") { Description = "Events without face attributes (Events:Attributes false); the describe stage then reads none" };

    private static readonly Option<bool> NoPreviews = new("--no-previews") { Description = "No console camera previews (Console:PreviewInterval 0; on by default, made only while watched)" };

    private static readonly Option<bool> WatchPreviews = new("--watch-previews")
    {
        Description = "Someone watches every camera on the console (its frame asked for every 3 s, as the Cameras page does): a preview per camera every 2 s; by default nobody watches and none is made",
    };

    /// <summary>How often the simulated console asks for each camera's frame (the Cameras page's polling).</summary>
    private static readonly TimeSpan WatcherPoll = TimeSpan.FromSeconds(3);

    private static readonly Option<bool> AllViews = new("--all-views")
    {
        Description = "The view gate as it was before spacing, for A/B: no least time between a track's views (Pipeline:MinEmbedInterval 0), no early stop for clear strangers (Pipeline:ClearUnknownMargin 0), first views not held back (Pipeline:HoldFirstViews false)",
    };

    private static readonly Option<int> BatchesInFlight = CliOptions.Int("--batches-in-flight", 1, 8, new PipelineOptions().DetectBatchesInFlight, "N",
        "Pipeline:DetectBatchesInFlight: detector batches run at once (1 = one after another)");

    private static readonly Option<bool> NoPreScreen = new("--no-pre-screen")
    {
        Description = "Every view embedded in full, for A/B (Pipeline:PreScreen false)",
    };

    private static readonly Option<string?> GalleryDir = new("--gallery")
    {
        Description = "Enroll this folder of per-person folders as the watchlist (default: the demo's two faces); the pre-screen skips fewer views the more faces the watchlist holds",
        HelpName = "DIR",
    };

    private static readonly Option<string?> Uploads = new("--uploads")
    {
        Description = "While measuring, analyse this photo again and again as uploads are (detection and attributes on the worker's upload threads, Api:MaxConcurrentUploads at a time): what uploads cost the cameras",
        HelpName = "IMAGE",
    };

    private static readonly Option<int> UploadNice = CliOptions.Int("--upload-nice", 0, 19, new Worker.Api.ApiOptions().UploadNice, "N",
        "Api:UploadNice: the upload threads' CPU priority (Linux nice; 0 = the cameras')");

    public static Command Create()
    {
        var command = new Command("pipeline", "The whole pipeline on N live cameras (1080p RTSP of the sample photos, or --clip files): fps, latency, pixels searched, CPU, RSS (cameras search faces from the larger of --min-face and Quality:MinFaceSize, 40, as the worker's)")
        {
            Cameras, Seconds, WarmUpSeconds, Fps, MaxWidth, Clips, Mode, NoAttributes, NoPreviews, WatchPreviews, AllViews, NoPreScreen, BatchesInFlight, GalleryDir, Uploads, UploadNice, CliOptions.Markdown,
        };
        command.SetAction(RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(ParseResult args, CancellationToken cancel)
    {
        var ctx = CliContext.Create(args);
        var counts = args.GetRequiredValue(Cameras);
        var seconds = args.GetValue(Seconds);
        var fps = args.GetValue(Fps);
        var maxWidth = args.GetValue(MaxWidth);
        var clips = args.GetValue(Clips) ?? [];
        var mode = args.GetRequiredValue(Mode);
        foreach (var clip in clips.Where(c => !File.Exists(c)))
        {
            throw new UsageException($"--clip {clip}: file not found");
        }
        bool attributes = !args.GetValue(NoAttributes);
        bool previews = !args.GetValue(NoPreviews);
        bool watched = args.GetValue(WatchPreviews);
        if (watched && !previews)
        {
            throw new UsageException("--watch-previews needs previews: leave out --no-previews");
        }

        string previewing = !previews ? "off" : watched ? "on, every camera watched" : "on, nobody watching";
        bool allViews = args.GetValue(AllViews);
        bool preScreen = !args.GetValue(NoPreScreen);
        int batchesInFlight = args.GetValue(BatchesInFlight);
        var warmUp = TimeSpan.FromSeconds(args.GetValue(WarmUpSeconds));
        string? galleryDir = args.GetValue(GalleryDir);
        if (galleryDir is not null && !Directory.Exists(galleryDir))
        {
            throw new UsageException($"--gallery {galleryDir}: directory not found");
        }

        var uploads = new UploadLoad(args.GetValue(Uploads), args.GetValue(UploadNice));
        if (uploads.Image is { } photo && !File.Exists(photo))
        {
            throw new UsageException($"--uploads {photo}: file not found");
        }
        // The worker's rule (the bench's host has default settings with this detector size).
        var defaults = new WorkerSettings();
        defaults.Mtcnn.MinFaceSize = ctx.Mtcnn.MinFaceSize;
        float cameraMinFace = defaults.CameraMinFaceSize();

        var store = ctx.Store();
        using var engine = ctx.Engine();
        var gallery = galleryDir is null ? await BenchAssets.DemoGalleryAsync(engine, store)
            : await GalleryLoader.LoadIndexAsync(galleryDir, engine, new Application.Enrollment.EnrollmentOptions(), NullLogger.Instance);
        var servers = new List<RtspLoopServer>();
        try
        {
            // Each camera's session must outlast warm-up + measurement (the server plays the clip once per client).
            var session = warmUp + TimeSpan.FromSeconds(seconds) + SessionMargin;
            var looped = clips.Length > 0
                ? clips.Select(c => BenchAssets.LoopedCopy(c, session)).ToList()
                : [BenchAssets.LoopedClip(store, 1920, 1080, session)];
            foreach (int i in Enumerable.Range(0, counts.Max()))
            {
                servers.Add(new RtspLoopServer(looped[i % looped.Count], 18600 + i));
            }

            var urls = servers.Select(s => s.Url).ToList();
            string sources = clips.Length > 0
                ? $"each camera: its own gst-rtsp-server on 127.0.0.1 serving a looped clip, camera i clip i mod {clips.Length}: {string.Join(", ", clips.Select(Path.GetFileName))}"
                : "each camera: its own gst-rtsp-server on 127.0.0.1 serving a looped 1080p25 H.264 clip of the six sample photos";

            var lines = new List<string>
            {
                $"Machine: {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}; provider {engine.ExecutionProvider}, " +
                $"cameras search faces from {cameraMinFace} px, embedder {engine.Embedder.ModelId}, event attributes {(attributes ? "on" : "off")}, console previews {previewing}",
                $"Command: facestream bench pipeline --cameras {string.Join(",", counts)} --seconds {seconds} --warm-up {warmUp.TotalSeconds:0} --fps {fps} --max-width {maxWidth} --mode {mode} " +
                string.Concat(clips.Select(c => $"--clip {c} ")) + $"--embedder {engine.Embedder.ModelId}{(attributes ? "" : " --no-attributes")}{(previews ? "" : " --no-previews")}{(watched ? " --watch-previews" : "")}{(allViews ? " --all-views" : "")}{(preScreen ? "" : " --no-pre-screen")} --batches-in-flight {batchesInFlight}{(galleryDir is null ? "" : $" --gallery {galleryDir}")}{(uploads.Image is null ? "" : $" --uploads {uploads.Image} --upload-nice {uploads.Nice}")} ({sources}; watchlist: {gallery.Identities} people, {gallery.Templates} templates; {warmUp.TotalSeconds:0} s warm-up, then {seconds} s measured)",
                "",
                "| cameras | analysed fps per camera (target) | frames dropped | frame latency p50 / p95 | pixels searched | full passes | detect ms per batch (frames per batch) | embed ms per batch | embed ms per view (views) | attributes ms per event (events) | CPU (of all cores) | RTSP servers' CPU | machine busy / stolen | CPU ms per analysed frame | RSS |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
            };
            var notes = new List<string>();
            var viewNotes = new List<string>();
            foreach (var n in counts)
            {
                var (line, note, views, uploadNote) = await MeasureAsync(ctx, engine, gallery, servers.Take(n).ToList(), mode, fps, maxWidth, attributes, previews, watched, allViews, preScreen, batchesInFlight, uploads, warmUp, TimeSpan.FromSeconds(seconds), cancel);
                lines.Add(line);
                if (previews)
                {
                    notes.Add(note);
                }

                viewNotes.Add(views);
                Console.Error.WriteLine(views);
                if (uploads.Image is not null)
                {
                    notes.Add(uploadNote);
                    Console.Error.WriteLine(uploadNote);
                }

                Console.Error.WriteLine(line);
            }

            lines.Add("");
            lines.AddRange(viewNotes);
            if (notes.Count > 0)
            {
                lines.Add("");
                lines.AddRange(notes);
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

    /// <summary>The photo analysed as uploads during the measurement (none when null), and the upload threads' nice value.</summary>
    private sealed record UploadLoad(string? Image, int Nice);

    /// <summary>The session's table row, a line on the console previews encoded meanwhile, one on where the embedded views went and one on the uploads.</summary>
    private static async Task<(string Row, string Previews, string Views, string Uploads)> MeasureAsync(CliContext ctx, FaceEngine engine, Core.Matching.GalleryIndex gallery, List<RtspLoopServer> servers, string mode, double fps,
        int maxWidth, bool attributes, bool previews, bool watched, bool allViews, bool preScreen, int batchesInFlight, UploadLoad uploads, TimeSpan warmUp, TimeSpan duration, CancellationToken cancel)
    {
        var urls = servers.Select(s => s.Url).ToList();
        // The worker's composition root with this bench's cameras, engine, gallery, sink and registry.
        var cameras = urls.Select((url, i) => new CameraOptions { Id = $"cam{i + 1}", Url = url, AnalysisFps = fps, MaxWidth = maxWidth }).ToList();
        var host = PipelineHost.Build(new ConfigurationBuilder().Build(), new FaceStreamOverrides
        {
            Engine = engine,
            Gallery = (_, _) => Task.FromResult(gallery),
            Sinks = [new MemorySink()],
            Registry = Prometheus.Metrics.NewCustomRegistry(),
            Settings = s =>
            {
                s.Events.Console = false;
                s.Detector.Mode = mode;
                s.Events.Attributes = attributes;
                if (!previews)
                {
                    s.Console.PreviewInterval = TimeSpan.Zero;
                }
                if (allViews)
                {
                    s.Pipeline.MinEmbedInterval = TimeSpan.Zero;
                    s.Pipeline.ClearUnknownMargin = 0;
                    s.Pipeline.HoldFirstViews = false;
                }

                s.Pipeline.PreScreen = preScreen;
                s.Pipeline.DetectBatchesInFlight = batchesInFlight;
                s.Api.UploadNice = uploads.Nice;
                s.Detector.Mtcnn.MinFaceSize = ctx.Mtcnn.MinFaceSize;
                s.Cameras.AddRange(cameras);
            },
        });
        await using var _ = (IAsyncDisposable)host;
        var metrics = host.Services.GetRequiredService<PipelineMetrics>();
        await host.StartAsync(cancel);
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var watcher = watched ? WatchAsync(host.Services.GetRequiredService<FramePipeline>(), cameras.Select(c => c.Id).ToList(), watching.Token) : Task.CompletedTask;
        await Task.Delay(warmUp, cancel);
        var before = await SnapshotAsync(metrics);
        var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var serversCpu0 = ServersCpu(servers);
        var machine0 = MachineCpu.Read();
        var clock = Stopwatch.StartNew();
        using var uploading = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var uploadSeconds = new ConcurrentQueue<double>();
        int slots = host.Services.GetRequiredService<WorkerSettings>().Api.MaxConcurrentUploads;
        var uploaders = uploads.Image is { } photo
            ? Enumerable.Range(0, slots).Select(_ => UploadLoopAsync(host.Services.GetRequiredService<Worker.Api.UploadScheduler>(), engine, photo, uploadSeconds, uploading.Token)).ToList()
            : [];
        long rss = 0;
        while (clock.Elapsed < duration)
        {
            await Task.Delay(500, cancel);
            process.Refresh();
            rss = Math.Max(rss, process.WorkingSet64);
        }

        await uploading.CancelAsync();
        await Task.WhenAll(uploaders);
        var after = await SnapshotAsync(metrics);
        process.Refresh();
        double cpuSeconds = (process.TotalProcessorTime - cpu0).TotalSeconds;
        double cpu = cpuSeconds / clock.Elapsed.TotalSeconds / Environment.ProcessorCount;
        double serversCpu = (ServersCpu(servers) - serversCpu0).TotalSeconds / clock.Elapsed.TotalSeconds / Environment.ProcessorCount;
        string machine = machine0 is not null && MachineCpu.Read() is { } machine1
            ? string.Create(CultureInfo.InvariantCulture, $"{machine1.Since(machine0).Busy * 100:0} / {machine1.Since(machine0).Steal * 100:0} %")
            : "n/a";
        await watching.CancelAsync();
        await watcher;
        await host.StopAsync(CancellationToken.None);

        double wall = clock.Elapsed.TotalSeconds;
        double analysedFps = (after.Analysed - before.Analysed) / wall / urls.Count;
        var latency = Histogram.Delta(before.Latency, after.Latency);
        double detectMs = 1000 * (after.DetectSum - before.DetectSum) / Math.Max(1, after.DetectCount - before.DetectCount);
        double embedMs = 1000 * (after.EmbedSum - before.EmbedSum) / Math.Max(1, after.EmbedCount - before.EmbedCount);
        double analysed = Math.Max(1, after.Analysed - before.Analysed);
        double framesPerBatch = analysed / Math.Max(1, after.DetectCount - before.DetectCount);
        double scanned = (after.ScannedShare - before.ScannedShare) / analysed;
        double fullPasses = mode == DetectorOptions.FullMode ? 1 : (after.FullScans - before.FullScans) / analysed;
        double screened = after.Screened - before.Screened;
        double views = after.Embedded - before.Embedded + screened;
        double viewMs = 1000 * (after.EmbedSum - before.EmbedSum) / Math.Max(1, views);
        double described = after.Described - before.Described;
        double describeMs = 1000 * (after.DescribeSum - before.DescribeSum) / Math.Max(1, described);
        double encoded = after.PreviewCount - before.PreviewCount;
        var note = string.Create(CultureInfo.InvariantCulture,
            $"{urls.Count} camera(s): {encoded:0} console previews encoded in {wall:0} s, {1000 * (after.PreviewSum - before.PreviewSum) / Math.Max(1, encoded):0.0} ms each on the encoder's task (scale, draw, JPEG)");
        var perTrack = Histogram.Delta(before.ViewsPerTrack, after.ViewsPerTrack);
        double tracks = perTrack.Buckets.Count == 0 ? 0 : perTrack.Buckets.Last().Value;
        var viewsNote = string.Create(CultureInfo.InvariantCulture,
            $"{urls.Count} camera(s): {views:0} views to the embed stage ({views / analysed:0.00} per analysed frame; {views - screened:0} embedded in full, {screened:0} pre-screened out; embed batches took {after.EmbedSum - before.EmbedSum:0.0} s of wall time, the process used {cpuSeconds:0} CPU-seconds); " +
            $"tracks ended with views {tracks:0}, views per track p50 / p95 ≤ {perTrack.UpperBound(0.5):0} / ≤ {perTrack.UpperBound(0.95):0}");
        var done = uploadSeconds.Order().ToList();
        var uploadNote = done.Count == 0 ? $"{urls.Count} camera(s): no upload finished" : string.Create(CultureInfo.InvariantCulture,
            $"{urls.Count} camera(s): {done.Count} uploads of {Path.GetFileName(uploads.Image)} analysed in {wall:0} s, {slots} at a time at nice {uploads.Nice}, seconds each p50 {done[done.Count / 2]:0.0}, max {done[^1]:0.0}");
        return (string.Create(CultureInfo.InvariantCulture,
            $"| {urls.Count} | {analysedFps:0.0} ({fps:0.#}) | {after.Dropped - before.Dropped:0} | {latency.Quantile(0.5) * 1000:0} / {latency.Quantile(0.95) * 1000:0} ms | {scanned:P0} | {fullPasses:P0} | {detectMs:0} ({framesPerBatch:0.0}) | {embedMs:0} | {viewMs:0} ({views:0}) | {describeMs:0} ({described:0}) | {cpu * 100:0} % | {serversCpu * 100:0} % | {machine} | {1000 * cpuSeconds / analysed:0} | {rss / (1 << 20)} MiB |"), note, viewsNote, uploadNote);
    }

    private static TimeSpan ServersCpu(List<RtspLoopServer> servers) => servers.Aggregate(TimeSpan.Zero, (sum, s) => sum + s.CpuTime);

    /// <summary>Analyses the photo as /api/analyse does (decode, detect, attributes on the upload threads), one after another, until cancelled.</summary>
    private static async Task UploadLoopAsync(Worker.Api.UploadScheduler cpu, FaceEngine engine, string photo, ConcurrentQueue<double> seconds, CancellationToken cancel)
    {
        var bytes = await File.ReadAllBytesAsync(photo, cancel);
        while (!cancel.IsCancellationRequested)
        {
            long start = Stopwatch.GetTimestamp();
            try
            {
                await cpu.Run(() =>
                {
                    var image = Media.Images.StillImageDecoder.Decode(bytes, photo, Media.Images.ImageLimits.Default);
                    return engine.Attributes.Analyze(image, engine.Detector.Detect(image)).Count;
                }, cancel);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            seconds.Enqueue(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
    }

    /// <summary>The console's Cameras page, open on every camera: asks for each camera's frame every <see cref="WatcherPoll"/>.</summary>
    private static async Task WatchAsync(FramePipeline pipeline, IReadOnlyList<string> cameras, CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
        {
            foreach (var camera in cameras)
            {
                pipeline.Previews.Watch(camera);
            }

            try
            {
                await Task.Delay(WatcherPoll, cancel);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private sealed record Counters(double Analysed, double Dropped, double DetectSum, double DetectCount, double EmbedSum, double EmbedCount, double Embedded, double Screened, double DescribeSum, double Described, double ScannedShare, double FullScans, double PreviewSum, double PreviewCount, Histogram Latency, Histogram ViewsPerTrack);

    private static async Task<Counters> SnapshotAsync(PipelineMetrics m)
    {
        using var ms = new MemoryStream();
        await m.Registry.CollectAndExportAsTextAsync(ms);
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
            Sum("facestream_views_prescreened_total{"),
            Sum("facestream_stage_latency_seconds_sum{stage=\"describe\"}"),
            Sum("facestream_attributes_analysed_total{"),
            Sum("facestream_detect_scanned_share_sum{"),
            Sum("facestream_detect_full_scans_total{"),
            Sum("facestream_stage_latency_seconds_sum{stage=\"preview\"}"),
            Sum("facestream_stage_latency_seconds_count{stage=\"preview\"}"),
            Histogram.Parse(text, "facestream_frame_latency_seconds_bucket{"),
            Histogram.Parse(text, "facestream_track_views_bucket{"));
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

        /// <summary>The smallest bucket bound holding at least a share <paramref name="q"/> of the observations (exact for counts when the buckets are 1, 2, 3, …).</summary>
        public double UpperBound(double q) =>
            Buckets.Count == 0 || Buckets.Last().Value <= 0 ? double.NaN : Buckets.First(b => b.Value >= q * Buckets.Last().Value).Key;

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
