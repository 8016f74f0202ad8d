using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using FaceStream.Cli.Bench;
using FaceStream.Media.Video;
using FaceStream.Watchlist.Store;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Events;
using FaceStream.Worker.Hosting;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace FaceStream.Cli.Commands;

/// <summary>
/// facestream bench soak: the worker pipeline on N live RTSP cameras for M minutes while its surroundings fail on a
/// schedule (each camera's server killed and restarted, Redis killed and restarted once, the webhook receiver down for a
/// while). Samples memory, threads, handles, GC and event accounting every interval; exits 1 when something grew beyond
/// its bound, a camera did not come back, or a sink's delivered + lost differs from published.
/// </summary>
public static class SoakBenchCommand
{
    /// <summary>Threads and open file descriptors the process may end with beyond its warmed-up count.</summary>
    private const int ThreadBound = 16;
    private const int HandleBound = 32;

    /// <summary>Longest a camera may take from its server listening again to a new frame decoded.</summary>
    private static readonly TimeSpan ReconnectBound = TimeSpan.FromSeconds(30);

    /// <summary>After a sink's server is back, losses in this long are still the outage's (the lane's retry back-off is at most 5 s).</summary>
    private static readonly TimeSpan RecoveryGrace = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var command = new Command("soak", "The pipeline for M minutes while cameras, Redis and the webhook fail: RSS/threads/fds growth, " +
            "events delivered + lost = published, reconnects (exit 1 when a bound is broken)")
        {
            SoakPlan.CamerasOption, SoakPlan.MinutesOption, SoakPlan.SecondsOption, SoakPlan.IntervalOption, SoakPlan.WarmUpOption, SoakPlan.RtspEveryOption, SoakPlan.RtspDownOption,
            SoakPlan.RedisDownOption, SoakPlan.WebhookDownOption, SoakPlan.NoWebhookOption, SoakPlan.FpsOption, SoakPlan.RssBoundOption, SoakPlan.EventBufferOption,
            CliOptions.Json, CliOptions.Markdown,
        };
        command.SetAction(RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(ParseResult args, CancellationToken cancel)
    {
        var ctx = CliContext.Create(args);
        var plan = SoakPlan.From(args);
        if (Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is null or "")
        {
            Console.Error.WriteLine("note: MALLOC_ARENA_MAX is not set: RSS will grow from glibc arena fragmentation that the deployed worker " +
                "(image, chart, systemd unit: MALLOC_ARENA_MAX=2) does not have; run `MALLOC_ARENA_MAX=2 facestream bench soak …` to measure it as deployed");
        }

        if (args.GetValue(CliOptions.MinFace) is null)
        {
            ctx.Mtcnn.MinFaceSize = 40;
        }

        var store = ctx.Store();
        // One client session per connection must outlast the whole run.
        var looped = BenchAssets.LoopedClip(store, 1280, 720, plan.Duration + TimeSpan.FromMinutes(2));
        using var engine = ctx.Engine();
        var gallery = await BenchAssets.DemoGalleryAsync(engine, store);

        using var redis = new RedisProcess();
        using var webhook = plan.Webhook ? new WebhookListener() : null;
        var servers = new List<RtspLoopServer>();
        try
        {
            for (int i = 0; i < plan.Cameras; i++)
            {
                servers.Add(new RtspLoopServer(looped, LocalPorts.Free()));
            }

            var soak = new Soak(plan, engine, gallery, servers, redis, webhook, Path.Combine(BenchAssets.Folder, $"soak-events-{Environment.ProcessId}.jsonl"));
            var report = await soak.RunAsync(cancel);
            var lines = report.Markdown(plan, engine, ctx, CliOptions.Arguments(args));
            if (args.GetValue(CliOptions.Json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) } }));
            }
            else
            {
                foreach (var l in lines)
                {
                    Console.Out.WriteLine(l);
                }
            }

            if (args.GetValue(CliOptions.Markdown) is { } md)
            {
                File.WriteAllLines(md, lines);
            }

            return report.Failures.Count == 0 ? 0 : 1;
        }
        finally
        {
            foreach (var s in servers)
            {
                s.Dispose();
            }
        }
    }

    /// <summary>What to run and what to break, when.</summary>
    public sealed record SoakPlan(int Cameras, TimeSpan Duration, TimeSpan Interval, TimeSpan WarmUp, TimeSpan RtspEvery, TimeSpan RtspDown, TimeSpan RedisDown,
        TimeSpan WebhookDown, bool Webhook, double Fps, long RssBoundBytes, int EventBuffer)
    {
        internal static readonly Option<int> CamerasOption = CliOptions.Int("--cameras", 1, 16, 2, "N", "Live RTSP cameras");
        internal static readonly Option<int> MinutesOption = CliOptions.Int("--minutes", 1, 24 * 60, 10, "M", "Length of the run");
        internal static readonly Option<int?> SecondsOption = CliOptions.OptionalInt("--seconds", 20, 24 * 3600, "S", "Length of the run in seconds (instead of --minutes)");
        internal static readonly Option<int> IntervalOption = CliOptions.Int("--interval", 1, 3600, 30, "S", "Seconds between samples");
        internal static readonly Option<int?> WarmUpOption = CliOptions.OptionalInt("--warm-up", 5, 600, "S", "Seconds before the baseline sample (default: a sixth of the run, at most 600: RSS climbs for the first minutes while caches and pools fill)");
        internal static readonly Option<int?> RtspEveryOption = CliOptions.OptionalInt("--rtsp-every", 20, 24 * 3600, "S", "Seconds between restarts of each camera's server (default: about 4 minutes, at least one restart)");
        internal static readonly Option<int> RtspDownOption = CliOptions.Int("--rtsp-down", 1, 600, 15, "S", "Seconds each camera's server stays down");
        internal static readonly Option<int> RedisDownOption = CliOptions.Int("--redis-down", 1, 600, 15, "S", "Seconds Redis stays down");
        internal static readonly Option<int?> WebhookDownOption = CliOptions.OptionalInt("--webhook-down", 1, 3600, "S", "Seconds the webhook receiver stays down (default: a fifth of the run, at most 60)");
        internal static readonly Option<bool> NoWebhookOption = new("--no-webhook") { Description = "Run without the webhook sink" };
        internal static readonly Option<float> FpsOption = CliOptions.Float("--fps", 0.5f, 30f, 5f, "N", "Analysed frames per second per camera");
        internal static readonly Option<int> RssBoundOption = CliOptions.Int("--rss-bound", 1, 1 << 20, 96, "MIB", "Largest RSS growth after warm-up that passes");
        internal static readonly Option<int> EventBufferOption = CliOptions.Int("--event-buffer", 1, 10_000_000, new EventsOptions().BufferSize, "N", "Events each sink buffers while its server is down");

        public static SoakPlan From(ParseResult args)
        {
            int cameras = args.GetValue(CamerasOption);
            var duration = args.GetValue(SecondsOption) is { } s ? TimeSpan.FromSeconds(s) : TimeSpan.FromMinutes(args.GetValue(MinutesOption));
            var warmUp = TimeSpan.FromSeconds(args.GetValue(WarmUpOption) ?? (int)Math.Min(600, duration.TotalSeconds / 6));
            var tail = TimeSpan.FromSeconds(Math.Max(10, duration.TotalSeconds * 0.15));
            // Default: room for each camera to be restarted about once every 4 minutes, at least once in a short run.
            var every = TimeSpan.FromSeconds(args.GetValue(RtspEveryOption) ?? (int)Math.Clamp((duration - warmUp - tail).TotalSeconds - 10, 30, 240));
            return new SoakPlan(cameras, duration,
                TimeSpan.FromSeconds(args.GetValue(IntervalOption)),
                warmUp,
                every,
                TimeSpan.FromSeconds(args.GetValue(RtspDownOption)),
                TimeSpan.FromSeconds(args.GetValue(RedisDownOption)),
                TimeSpan.FromSeconds(args.GetValue(WebhookDownOption) ?? (int)Math.Min(60, duration.TotalSeconds / 5)),
                !args.GetValue(NoWebhookOption),
                args.GetValue(FpsOption),
                args.GetValue(RssBoundOption) * (1L << 20),
                args.GetValue(EventBufferOption));
        }

        /// <summary>Everything comes back before the last 15 % (at least 10 s) of the run, so the end state is measured with all up.</summary>
        public TimeSpan QuietFrom => Duration - TimeSpan.FromSeconds(Math.Max(10, Duration.TotalSeconds * 0.15));

        public List<Disruption> Schedule()
        {
            var list = new List<Disruption>();
            for (int cam = 0; cam < Cameras; cam++)
            {
                for (var at = WarmUp + TimeSpan.FromSeconds(10) + (RtspEvery * cam / Cameras); at + RtspDown <= QuietFrom; at += RtspEvery)
                {
                    list.Add(new Disruption(DisruptionKind.Rtsp, cam, at, RtspDown));
                }
            }

            var webhookAt = Duration * 0.3;
            if (Webhook && webhookAt >= WarmUp && webhookAt + WebhookDown <= QuietFrom)
            {
                list.Add(new Disruption(DisruptionKind.Webhook, 0, webhookAt, WebhookDown));
            }

            var redisAt = Duration * 0.6;
            if (redisAt >= WarmUp && redisAt + RedisDown <= QuietFrom)
            {
                list.Add(new Disruption(DisruptionKind.Redis, 0, redisAt, RedisDown));
            }

            return list.OrderBy(d => d.At).ToList();
        }
    }

    public enum DisruptionKind
    {
        Rtsp,
        Redis,
        Webhook,
    }

    /// <summary>One scheduled outage and, once it ran, how long recovery took (RTSP: server listening again → a new frame decoded;
    /// Redis/webhook: server back → the sink delivering again, or at once when nothing was waiting for it).</summary>
    public sealed class Disruption(DisruptionKind kind, int target, TimeSpan at, TimeSpan down)
    {
        public DisruptionKind Kind { get; } = kind;
        public int Target { get; } = target;
        public TimeSpan At { get; } = at;
        public TimeSpan Down { get; } = down;
        public double? DownAtSeconds { get; set; }
        public double? UpAtSeconds { get; set; }
        public double? RecoveredSeconds { get; set; }
        public string? Error { get; set; }

        public string What => Kind == DisruptionKind.Rtsp ? $"cam{Target + 1} RTSP server" : Kind == DisruptionKind.Redis ? "Redis" : "webhook receiver";
    }

    public sealed record SinkReport(string Name, long Published, long Delivered, long Lost, long LostDuringOutage, long LostUnexplained, long FailedAttempts, long? Observed, string ObservedWhat);

    public sealed record SoakReport(int Cameras, double Seconds, ProcessSample Start, ProcessSample WarmedUp, ProcessSample End, long RssPeakBytes, int ThreadsPeak,
        int HandlesPeak, double RssSlopeMiBPerHour, long Published, List<SinkReport> Sinks, List<Disruption> Disruptions, double? ReconnectP50Seconds,
        double? ReconnectMaxSeconds, List<string> Failures)
    {
        public List<string> Markdown(SoakPlan plan, Inference.FaceEngine engine, CliContext ctx, string arguments)
        {
            static string MiB(long b) => (b / (double)(1 << 20)).ToString("0", CultureInfo.InvariantCulture);
            static string S(double? s) => s is { } v ? v.ToString("0.0", CultureInfo.InvariantCulture) + " s" : "–";
            var lines = new List<string>
            {
                $"Machine: {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}; provider {engine.ExecutionProvider}, " +
                $"detector min face {ctx.Mtcnn.MinFaceSize} px, embedder {engine.Embedder.ModelId}; glibc malloc arenas: {MallocArenas()}",
                $"Command: facestream bench soak {arguments} (ran {Seconds:0} s; {plan.WarmUp.TotalSeconds:0} s warm-up; each camera: its own " +
                $"gst-rtsp-server on 127.0.0.1 serving a looped 720p25 H.264 clip of the six sample photos at {plan.Fps:0.#} analysed fps; " +
                $"sinks: file, Redis Streams{(plan.Webhook ? ", webhook" : "")}, each buffering up to {plan.EventBuffer} events)",
                "",
                "| resource | start | after warm-up | peak | end | end − warm-up (bound) |",
                "|---|---|---|---|---|---|",
                $"| RSS MiB | {MiB(Start.RssBytes)} | {MiB(WarmedUp.RssBytes)} | {MiB(RssPeakBytes)} | {MiB(End.RssBytes)} | {MiB(End.RssBytes - WarmedUp.RssBytes)} ({MiB(plan.RssBoundBytes)}); slope after warm-up {RssSlopeMiBPerHour:0} MiB/h |",
                $"| threads | {Start.Threads} | {WarmedUp.Threads} | {ThreadsPeak} | {End.Threads} | {End.Threads - WarmedUp.Threads} ({ThreadBound}) |",
                $"| open fds | {Start.Handles} | {WarmedUp.Handles} | {HandlesPeak} | {End.Handles} | {End.Handles - WarmedUp.Handles} ({HandleBound}) |",
                $"| managed heap MiB | {MiB(Start.ManagedHeapBytes)} | {MiB(WarmedUp.ManagedHeapBytes)} | | {MiB(End.ManagedHeapBytes)} | {MiB(End.ManagedHeapBytes - WarmedUp.ManagedHeapBytes)} |",
                $"| GC gen0/1/2 | {Start.Gen0}/{Start.Gen1}/{Start.Gen2} | {WarmedUp.Gen0}/{WarmedUp.Gen1}/{WarmedUp.Gen2} | | {End.Gen0}/{End.Gen1}/{End.Gen2} | |",
                "",
                "| sink | published | delivered | lost (during its outage / unexplained) | failed attempts | check |",
                "|---|---|---|---|---|---|",
            };
            lines.AddRange(Sinks.Select(s =>
                $"| {s.Name} | {s.Published} | {s.Delivered} | {s.Lost} ({s.LostDuringOutage} / {s.LostUnexplained}) | {s.FailedAttempts} | {(s.Observed is { } o ? $"{s.ObservedWhat}: {o}" : s.ObservedWhat)} |"));
            lines.Add("");
            lines.Add("| at | outage | down | back after (recovered) |");
            lines.Add("|---|---|---|---|");
            lines.AddRange(Disruptions.Select(d =>
                $"| {d.DownAtSeconds ?? d.At.TotalSeconds:0} s | {d.What} | {d.Down.TotalSeconds:0} s | {(d.Error is { } e ? "failed: " + e : S(d.RecoveredSeconds))} |"));
            lines.Add("");
            lines.Add($"RTSP reconnect (server listening again → a new frame decoded): p50 {S(ReconnectP50Seconds)}, max {S(ReconnectMaxSeconds)} over {Disruptions.Count(d => d.Kind == DisruptionKind.Rtsp)} restarts.");
            lines.Add(Failures.Count == 0 ? "Verdict: pass (nothing beyond its bound; delivered + lost = published for every sink)." : "Verdict: FAIL: " + string.Join("; ", Failures));
            return lines;
        }
    }

    /// <summary>
    /// The process's glibc arena limit as the environment set it. The deployed worker runs with MALLOC_ARENA_MAX=2 (image,
    /// chart, systemd unit): with glibc's default of 8 arenas per core, decoder and pool threads spread frame-sized
    /// allocations over up to 16 arenas that fragment and grew RSS by ≈ 0.9 GiB/h in this soak (docs/benchmarks.md).
    /// </summary>
    public static string MallocArenas() =>
        Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is { Length: > 0 } max ? $"MALLOC_ARENA_MAX={max}" : "glibc default (8 per core; the deployed worker sets MALLOC_ARENA_MAX=2)";

    /// <summary>One run: the pipeline, its sinks, the scheduler and the sampler.</summary>
    private sealed class Soak(SoakPlan plan, Inference.FaceEngine engine, Core.Matching.GalleryIndex gallery, List<RtspLoopServer> servers,
        RedisProcess redis, WebhookListener? webhook, string eventsFile)
    {
        private readonly Stopwatch _clock = new();
        private FramePipeline? _pipeline;
        private PipelineMetrics? _metrics;

        public async Task<SoakReport> RunAsync(CancellationToken cancel)
        {
            File.Delete(eventsFile);
            var streamOptions = new RedisStreamOptions();
            var redisUri = WatchlistUri.Parse(redis.Uri);
            var connection = await redisUri.ConnectRedisAsync();
            var file = new CountingSink(JsonLinesSink.File(eventsFile));
            var stream = new CountingSink(new RedisStreamSink(connection, streamOptions, redisUri.Safe));
            var hook = webhook is null ? null : new CountingSink(new WebhookSink(new WebhookOptions { Url = webhook.Url }));
            var sinks = new List<CountingSink> { file, stream };
            if (hook is not null)
            {
                sinks.Add(hook);
            }

            var start = ProcessSample.Take(0);
            // The worker's composition root with this run's cameras, engine, gallery, counted sinks and registry.
            var host = PipelineHost.Build(new ConfigurationBuilder().Build(), new FaceStreamOverrides
            {
                Engine = engine,
                Gallery = (_, _) => Task.FromResult(gallery),
                Sinks = sinks,
                Registry = Prometheus.Metrics.NewCustomRegistry(),
                Settings = s =>
                {
                    s.Events.Console = false;
                    s.Events.BufferSize = plan.EventBuffer;
                    s.Cameras.AddRange(servers.Select((server, i) => new CameraOptions { Id = $"cam{i + 1}", Url = server.Url, AnalysisFps = plan.Fps }));
                },
            });
            var metrics = host.Services.GetRequiredService<PipelineMetrics>();
            _metrics = metrics;
            _pipeline = host.Services.GetRequiredService<FramePipeline>();
            await host.StartAsync(cancel);
            _clock.Start();

            var schedule = plan.Schedule();
            var running = new List<Task>();
            var samples = new List<ProcessSample>();
            ProcessSample? warmedUp = null;
            long rssPeak = start.RssBytes;
            int threadsPeak = start.Threads, handlesPeak = start.Handles;
            var lostSeen = sinks.ToDictionary(s => s.Name, _ => 0L);
            var lostDuringOutage = sinks.ToDictionary(s => s.Name, _ => 0L);
            var lostUnexplained = sinks.ToDictionary(s => s.Name, _ => 0L);
            int next = 0;
            var nextSample = plan.Interval;
            while (_clock.Elapsed < plan.Duration)
            {
                await Task.Delay(100, cancel);
                var now = _clock.Elapsed;
                while (next < schedule.Count && schedule[next].At <= now)
                {
                    var d = schedule[next++];
                    var sink = d.Kind == DisruptionKind.Redis ? stream : hook;
                    running.Add(Task.Run(() => Execute(d, sink)));
                }

                foreach (var s in sinks)
                {
                    long lost = (long)metrics.EventsLost.WithLabels(s.Name).Value;
                    if (lost > lostSeen[s.Name])
                    {
                        var target = ReferenceEquals(s, stream) ? lostDuringOutage : ReferenceEquals(s, hook) && InOutage(schedule, DisruptionKind.Webhook, now) ? lostDuringOutage : lostUnexplained;
                        if (ReferenceEquals(s, stream) && !InOutage(schedule, DisruptionKind.Redis, now))
                        {
                            target = lostUnexplained;
                        }

                        target[s.Name] += lost - lostSeen[s.Name];
                        lostSeen[s.Name] = lost;
                    }
                }

                if (warmedUp is null && now >= plan.WarmUp)
                {
                    warmedUp = ProcessSample.Take(now.TotalSeconds);
                    samples.Add(warmedUp);
                }

                if (now >= nextSample)
                {
                    nextSample += plan.Interval;
                    var sample = ProcessSample.Take(now.TotalSeconds);
                    samples.Add(sample);
                    rssPeak = Math.Max(rssPeak, sample.RssBytes);
                    threadsPeak = Math.Max(threadsPeak, sample.Threads);
                    handlesPeak = Math.Max(handlesPeak, sample.Handles);
                    Console.Error.WriteLine(Progress(sample, metrics, sinks, schedule));
                }
            }

            var end = ProcessSample.Take(_clock.Elapsed.TotalSeconds);
            rssPeak = Math.Max(rssPeak, end.RssBytes);
            await Task.WhenAll(running);
            // Stopping drains the pipeline; disposing the host disposes the pipeline and the sinks.
            await host.StopAsync(CancellationToken.None);
            await ((IAsyncDisposable)host).DisposeAsync();

            long published = (long)Published(metrics);
            long fileLines = File.ReadLines(eventsFile).LongCount();
            long streamLength = connection.GetDatabase().StreamLength(streamOptions.Key);
            connection.Dispose();
            var reports = new List<SinkReport>();
            var failures = new List<string>();
            foreach (var s in sinks)
            {
                long lost = (long)metrics.EventsLost.WithLabels(s.Name).Value;
                if (lost > lostSeen[s.Name])
                {
                    lostUnexplained[s.Name] += lost - lostSeen[s.Name];
                }

                (long? observed, string what) = ReferenceEquals(s, file) ? (fileLines, "lines in the file")
                    : ReferenceEquals(s, stream) ? (streamLength, "XLEN (append-only Redis, kept across its restart)")
                    : (webhook?.Received, "requests the receiver answered");
                reports.Add(new SinkReport(s.Name, published, s.Delivered, lost, lostDuringOutage[s.Name], lostUnexplained[s.Name],
                    (long)metrics.EventsFailed.WithLabels(s.Name).Value, observed, what));
                if (s.Delivered + lost != published)
                {
                    failures.Add($"{s.Name}: delivered {s.Delivered} + lost {lost} ≠ published {published}");
                }

                if (lostUnexplained[s.Name] > 0)
                {
                    failures.Add($"{s.Name}: {lostUnexplained[s.Name]} events lost outside an outage of that sink");
                }

                if (observed < s.Delivered)
                {
                    failures.Add($"{s.Name}: {what} {observed} < {s.Delivered} counted as delivered");
                }
            }

            if (published == 0)
            {
                failures.Add("no events were published: the cameras never delivered analysable frames");
            }

            var reconnects = schedule.Where(d => d.Kind == DisruptionKind.Rtsp && d.RecoveredSeconds is not null).Select(d => d.RecoveredSeconds!.Value).Order().ToList();
            foreach (var d in schedule.Where(d => d.Error is not null || d.RecoveredSeconds is null))
            {
                failures.Add($"{d.What} at {d.At.TotalSeconds:0} s: {d.Error ?? "did not recover"}");
            }

            warmedUp ??= start;
            if (end.RssBytes - warmedUp.RssBytes > plan.RssBoundBytes)
            {
                failures.Add($"RSS grew {(end.RssBytes - warmedUp.RssBytes) >> 20} MiB after warm-up (bound {plan.RssBoundBytes >> 20} MiB)");
            }

            if (end.Threads - warmedUp.Threads > ThreadBound)
            {
                failures.Add($"threads grew by {end.Threads - warmedUp.Threads} after warm-up (bound {ThreadBound})");
            }

            if (end.Handles - warmedUp.Handles > HandleBound)
            {
                failures.Add($"open file descriptors grew by {end.Handles - warmedUp.Handles} after warm-up (bound {HandleBound})");
            }

            return new SoakReport(servers.Count, end.Seconds, start, warmedUp, end, rssPeak, threadsPeak, handlesPeak,
                Slope(samples.Where(x => x.Seconds >= warmedUp.Seconds).Append(end).ToList()), published, reports, schedule,
                reconnects.Count == 0 ? null : reconnects[(reconnects.Count - 1) / 2], reconnects.Count == 0 ? null : reconnects[^1], failures);
        }

        private static bool InOutage(List<Disruption> schedule, DisruptionKind kind, TimeSpan now) =>
            schedule.Any(d => d.Kind == kind && d.DownAtSeconds is { } down && now.TotalSeconds >= down &&
                (d.UpAtSeconds is not { } up || now.TotalSeconds <= up + RecoveryGrace.TotalSeconds));

        private void Execute(Disruption d, CountingSink? sink)
        {
            try
            {
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds:0} s] {d.What} down for {d.Down.TotalSeconds:0} s"));
                d.DownAtSeconds = _clock.Elapsed.TotalSeconds;
                switch (d.Kind)
                {
                    case DisruptionKind.Rtsp:
                        servers[d.Target].Kill();
                        break;
                    case DisruptionKind.Redis:
                        redis.Kill();
                        break;
                    default:
                        webhook!.Stop();
                        break;
                }

                Thread.Sleep(d.Down);
                long decodedBefore = 0;
                switch (d.Kind)
                {
                    case DisruptionKind.Rtsp:
                        servers[d.Target].Start();
                        decodedBefore = Camera(d.Target).Stats.FramesDecoded;
                        break;
                    case DisruptionKind.Redis:
                        redis.Start();
                        break;
                    default:
                        webhook!.Start();
                        break;
                }

                var up = _clock.Elapsed;
                d.UpAtSeconds = up.TotalSeconds;
                long deliveredBefore = sink?.Delivered ?? 0;
                while (_clock.Elapsed - up < ReconnectBound)
                {
                    bool back = d.Kind == DisruptionKind.Rtsp
                        ? Camera(d.Target) is { State: SourceState.Streaming } c && c.Stats.FramesDecoded > decodedBefore
                        : sink!.Delivered > deliveredBefore || Published(_metrics!) - sink.Delivered - _metrics!.EventsLost.WithLabels(sink.Name).Value <= 0;
                    if (back)
                    {
                        d.RecoveredSeconds = (_clock.Elapsed - up).TotalSeconds;
                        break;
                    }

                    Thread.Sleep(50);
                }

                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[{_clock.Elapsed.TotalSeconds:0} s] {d.What} back; {(d.RecoveredSeconds is { } r ? $"recovered {r:0.0} s after it listened again" : $"NOT recovered within {ReconnectBound.TotalSeconds:0} s")}"));
            }
            catch (Exception e) when (e is InvalidDataException or IOException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                d.Error = e.Message;
                Console.Error.WriteLine($"{d.What}: {e.Message}");
            }
        }

        private CameraStatus Camera(int index) => _pipeline!.Cameras.First(c => c.Id == $"cam{index + 1}");

        private string Progress(ProcessSample s, PipelineMetrics metrics, List<CountingSink> sinks, List<Disruption> schedule)
        {
            double published = Published(metrics);
            var perSink = sinks.Select(k =>
            {
                double lost = metrics.EventsLost.WithLabels(k.Name).Value;
                return string.Create(CultureInfo.InvariantCulture, $"{k.Name.Split(':')[0]} {k.Delivered}/{lost:0}/{published - k.Delivered - lost:0}");
            });
            var cams = _pipeline!.Cameras.Select(c => $"{c.Id}:{c.State}");
            var reconnects = schedule.Where(d => d.Kind == DisruptionKind.Rtsp && d.RecoveredSeconds is not null)
                .Select(d => string.Create(CultureInfo.InvariantCulture, $"{d.RecoveredSeconds:0.0}"));
            return string.Create(CultureInfo.InvariantCulture,
                $"[{s.Seconds,5:0} s] rss {s.RssBytes >> 20} MiB, threads {s.Threads}, fds {s.Handles}, heap {s.ManagedHeapBytes >> 20} MiB, gc {s.Gen0}/{s.Gen1}/{s.Gen2}; " +
                $"events {published:0}, delivered/lost/buffered: {string.Join(", ", perSink)}; {string.Join(" ", cams)}; reconnects (s): {string.Join(" ", reconnects)}");
        }

        private static double Published(PipelineMetrics m)
        {
            return m.Events.GetAllLabelValues().Sum(labels => m.Events.WithLabels(labels).Value);
        }

        /// <summary>Least-squares RSS trend, MiB per hour.</summary>
        private static double Slope(List<ProcessSample> xs)
        {
            if (xs.Count < 3)
            {
                return 0;
            }

            double mx = xs.Average(x => x.Seconds), my = xs.Average(x => (double)x.RssBytes);
            double sxx = xs.Sum(x => (x.Seconds - mx) * (x.Seconds - mx)), sxy = xs.Sum(x => (x.Seconds - mx) * (x.RssBytes - my));
            return sxx <= 0 ? 0 : sxy / sxx * 3600 / (1 << 20);
        }
    }
}
