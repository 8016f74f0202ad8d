using System.Net;
using FaceStream.Core.Matching;
using FaceStream.Inference;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;
using FaceStream.Media.Video;
using FaceStream.Media.Video.Interop;
using FaceStream.Watchlist.Cache;
using FaceStream.Application.Enrollment;
using FaceStream.Watchlist.Store;
using FaceStream.Worker.Api;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Events;
using FaceStream.Application.Gallery;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;
using FaceStream.Worker.Review;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Prometheus;
using StackExchange.Redis;

namespace FaceStream.Worker.Hosting;

/// <summary>Builds and runs the worker: config (reloadable cameras), engine, gallery, pipeline, /metrics, /healthz, /readyz.</summary>
public static class WorkerHost
{
    public const string Usage = "facestream run [--config FILE]   (facestream-worker [--config FILE] as a service)";

    /// <summary>Runs until Ctrl+C / SIGTERM (or until every source ends, with Pipeline:StopWhenSourcesEnd). Exit codes: 0, 1 runtime failure, 2 configuration.</summary>
    public static async Task<int> RunAsync(string[] args, Action<WorkerApp>? started = null, CancellationToken cancel = default)
    {
        WorkerApp app;
        try
        {
            app = await BuildAsync(args, cancel: cancel);
        }
        catch (Exception e) when (e is WorkerConfigurationException or UnknownModelException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        catch (Exception e) when (e is ModelNotReadyException or ExecutionProviderException or FfmpegUnavailableException or FileNotFoundException or WatchlistUnavailableException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }

        await using (app)
        {
            return await RunAsync(app, started, cancel);
        }
    }

    /// <summary>Runs a built worker until it stops; 1 when it could not start or the pipeline failed (logged), else 0.</summary>
    internal static async Task<int> RunAsync(WorkerApp app, Action<WorkerApp>? started, CancellationToken cancel)
    {
        try
        {
            await app.StartAsync(cancel);
        }
        catch (IOException e)
        {
            // Typically the metrics/API port is taken by another process (or another worker).
            Console.Error.WriteLine($"error: {e.Message} (set Metrics:Host / Metrics:Port, or Metrics:Enabled false)");
            return 1;
        }
        catch (OperationCanceledException) when (app.Failure is not null && !cancel.IsCancellationRequested)
        {
            // The pipeline failed while the host was still starting (its stop cancels the start); the reason is logged.
            return 1;
        }

        if (app.BaseAddress is { } address)
        {
            app.Log.LogInformation("metrics on {Address}metrics, health on /healthz and /readyz, watchlist API on /api (bearer token)", address);
        }

        started?.Invoke(app);
        await app.WaitForShutdownAsync(cancel);
        // A failed pipeline has logged its reason; a non-zero exit lets systemd's Restart=on-failure (or the container runtime) act.
        return app.Failure is null ? 0 : 1;
    }

    /// <summary>Builds everything (models loaded, watchlist opened and cached, gallery enrolled; no camera started yet).</summary>
    public static async Task<WorkerApp> BuildAsync(string[] args, CollectorRegistry? registry = null, CancellationToken cancel = default)
    {
        string? configPath = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--config" && i + 1 < args.Length)
            {
                configPath = args[++i];
            }
            else
            {
                throw new WorkerConfigurationException($"unknown argument '{args[i]}'. Usage: {Usage}");
            }
        }

        configPath ??= FindDefaultConfig() ?? throw new WorkerConfigurationException("no config/facestream.json found upward from here; pass --config FILE");
        if (!File.Exists(configPath))
        {
            throw new WorkerConfigurationException($"--config {configPath}: file not found");
        }

        if (ConfigKeys.SyntaxError(configPath) is { } syntax)
        {
            throw new WorkerConfigurationException(syntax);
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = Path.GetDirectoryName(Path.GetFullPath(configPath)) });
        builder.Configuration.Sources.Clear();
        // A broken file written while running must not reach the cameras: ReloadAsync checks it first and says why it is
        // rejected; the provider's own exception (thrown on the file watcher's thread, unseen) is ignored.
        var loadFailed = new System.Runtime.CompilerServices.StrongBox<bool>();
        builder.Configuration.AddJsonFile(source =>
        {
            source.Path = Path.GetFileName(configPath);
            source.FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(Path.GetDirectoryName(Path.GetFullPath(configPath))!);
            source.Optional = false;
            source.ReloadOnChange = true;
            source.OnLoadException = context =>
            {
                context.Ignore = true;
                Volatile.Write(ref loadFailed.Value, true);
            };
        });
        // Secret files (FACESTREAM_SECRETS_DIR, or the chart's /run/secrets/facestream), then FACESTREAM__ variables, over the file.
        builder.Configuration.AddSecretsAndEnvironment(reloadOnChange: true);
        ConsoleLogging.Configure(builder.Logging, builder.Configuration);
        // Start-up failures are reported by RunAsync in one line; the host would add a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        var settings = WorkerSettings.Load(builder.Configuration);
        settings.Inference.ThresholdsFile = FaceStream.Inference.Models.ThresholdFile.Resolve(settings.Inference.ThresholdsFile, configPath);
        var metricsOptions = settings.Metrics;
        builder.WebHost.UseKestrel(k =>
        {
            if (metricsOptions.Enabled)
            {
                k.Listen(metricsOptions.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(metricsOptions.Host), metricsOptions.Port);
            }
        });

        // Our own loggers exist before the host is built: the engine and the watchlist load first.
        var logs = LoggerFactory.Create(l => ConsoleLogging.Configure(l, builder.Configuration));
        var versions = FfmpegLibrary.EnsureLoaded();
        logs.CreateLogger("FaceStream.Worker").LogInformation("FFmpeg: {Versions}", versions);
        var engine = new FaceEngine(settings.Inference, settings.Mtcnn, logs.CreateLogger("FaceStream.Engine"));
        var store = await settings.Watchlist.OpenAsync();
        var enroller = new Enroller(engine, store, settings.Enrollment);
        if (!string.IsNullOrWhiteSpace(settings.Gallery.Directory))
        {
            if (store is MemoryWatchlistStore)
            {
                await GalleryLoader.EnrollFoldersAsync(settings.Gallery.Directory, enroller, store, logs.CreateLogger("FaceStream.Gallery"), cancel);
            }
            else
            {
                logs.CreateLogger("FaceStream.Gallery").LogWarning("Gallery:Directory is only enrolled into a memory: watchlist; for {Store} use `facestream enroll --folders`", store.Describe);
            }
        }

        var cache = new WatchlistCache(store, engine.Embedder.ModelId, engine.Embedder.Dimension, settings.Watchlist.ResyncInterval, logs.CreateLogger("FaceStream.Watchlist"));
        await cache.StartAsync(cancel);
        var (sinks, snapshots) = await SinksAsync(settings, logs.CreateLogger("FaceStream.Events"));
        var metrics = new PipelineMetrics(registry);
        // The review console's state: the recent events (one more sink), verdicts and audit log, snapshots read back.
        var review = await ReviewServices.CreateAsync(settings, metrics.Registry);
        var pipeline = new FramePipeline(settings, engine, cache.Index, [.. sinks, review.Recent], metrics, logs, snapshots);
        cache.Changed += index => pipeline.Gallery = index;
        cache.Checked += () => WatchlistState(cache, metrics);
        WatchlistState(cache, metrics);

        // Anything unforeseen still answers with a problem body (RFC 7807), not an empty 500.
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton(pipeline);
        ReviewConsole.AddServices(builder.Services, review);
        builder.Services.AddSingleton(sp => new PipelineService(pipeline, settings, sp.GetRequiredService<IHostApplicationLifetime>(), logs.CreateLogger("FaceStream.Worker")));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PipelineService>());
        builder.Services.Configure<HostOptions>(o => o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.StopHost);
        // Under systemd (Type=notify): READY=1 once started (models loaded, listening), STOPPING=1 on stop; a no-op elsewhere.
        builder.Services.AddSystemd();
        var web = builder.Build();
        web.UseExceptionHandler();
        web.MapMetrics("/metrics", metrics.Registry);
        web.MapGet("/healthz", () => Results.Text("ok\n"));
        web.MapGet("/readyz", () =>
        {
            var cameras = pipeline.Cameras;
            var streaming = cameras.Count(c => c.State == SourceState.Streaming);
            var reasons = new List<string>();
            if (streaming == 0)
            {
                reasons.Add(cameras.Count == 0 ? "no camera configured" : "no camera is streaming");
            }

            if (!cache.Reachable)
            {
                reasons.Add($"watchlist unreachable (serving version {cache.Version}): {cache.LastError}");
            }

            var body = new
            {
                ready = reasons.Count == 0, models = engine.Embedder.ModelId, cameras_streaming = streaming, cameras = cameras.Count,
                watchlist = cache.Store, watchlist_version = cache.Version, watchlist_identities = cache.Index.Identities, reasons,
            };
            return Results.Json(body, statusCode: reasons.Count == 0 ? 200 : 503);
        });
        web.MapGet("/status", () => Results.Json(pipeline.Cameras.Select(c => new
        {
            id = c.Id, url = c.Url, state = c.State.ToString().ToLowerInvariant(), codec = c.Info?.Codec, width = c.Info?.Width, height = c.Info?.Height,
            frames_decoded = c.Stats.FramesDecoded, frames_delivered = c.Stats.FramesDelivered, reconnects = c.Stats.Reconnects, last_error = c.LastError,
        })));

        WatchlistApi.Map(web, store, enroller, settings.Api);
        AnalyseApi.Map(web, engine, settings.Api);
        ReviewConsole.Map(web, pipeline, metrics, store, settings.Api);
        var log = logs.CreateLogger("FaceStream.Worker");
        IConfiguration configuration = builder.Configuration;
        string fullConfigPath = Path.GetFullPath(configPath);
        // The file watcher calls back synchronously; reloads run one after another, each reading the file as it is then.
        var reloading = Task.CompletedTask;
        var reloadOrder = new Lock();
        ChangeToken.OnChange(configuration.GetReloadToken, () =>
        {
            bool failed = Interlocked.Exchange(ref loadFailed.Value, false);
            lock (reloadOrder)
            {
                reloading = reloading.ContinueWith(_ => ReloadAsync(builder.Configuration, fullConfigPath, failed, pipeline, log), TaskScheduler.Default).Unwrap();
            }
        });
        return new WorkerApp(web, pipeline, engine, sinks, metrics, logs, cache, store, settings);
    }

    /// <summary>The watchlist cache's last check as gauges (facestream_watchlist_reachable, facestream_watchlist_version).</summary>
    private static void WatchlistState(WatchlistCache cache, PipelineMetrics metrics)
    {
        metrics.WatchlistReachable.Set(cache.Reachable ? 1 : 0);
        metrics.WatchlistVersion.Set(cache.Version);
    }

    /// <summary>Applies camera changes from an edited config; anything invalid is rejected and the running cameras stay as they are.</summary>
    private static async Task ReloadAsync(IConfiguration config, string path, bool loadFailed, FramePipeline pipeline, ILogger log)
    {
        try
        {
            // An empty, truncated or half-written file: its (empty) data must not stop every camera.
            if (ConfigKeys.SyntaxError(path) is { } syntax)
            {
                throw new WorkerConfigurationException(syntax);
            }

            if (loadFailed)
            {
                throw new WorkerConfigurationException($"{path} could not be read as JSON (it changed since; the next change is read again)");
            }

            var next = WorkerSettings.Load(config);
            await pipeline.SyncCamerasAsync(next.Cameras);
            log.LogInformation("configuration reloaded: {Count} cameras enabled (only Cameras changes apply without a restart)", next.Cameras.Count(c => c.Enabled));
        }
        catch (WorkerConfigurationException e)
        {
            log.LogError("configuration change rejected, cameras unchanged: {Reason}", e.Message);
        }
        catch (Exception e)
        {
            // Anything the validation did not foresee: still said, never swallowed by the file watcher.
            log.LogError(e, "configuration change rejected, cameras unchanged: {Reason}", e.Message);
        }
    }

    /// <summary>The configured event sinks and snapshot store. Redis-backed ones share one connection that keeps reconnecting in the background.</summary>
    internal static async Task<(IReadOnlyList<IEventSink> Sinks, ISnapshotStore? Snapshots)> SinksAsync(WorkerSettings settings, ILogger log)
    {
        var o = settings.Events;
        var sinks = new List<IEventSink>();
        if (o.Console)
        {
            sinks.Add(JsonLinesSink.Console());
        }

        if (!string.IsNullOrWhiteSpace(o.JsonLinesFile))
        {
            sinks.Add(JsonLinesSink.File(o.JsonLinesFile));
        }

        IConnectionMultiplexer? redis = null;
        WatchlistUri? redisUri = null;
        if (o.RedisStream.Enabled || o.Snapshots.RedisTtl > TimeSpan.Zero)
        {
            redisUri = WatchlistUri.Parse(o.RedisStream.Uri.Length > 0 ? o.RedisStream.Uri : settings.Watchlist.Uri);
            if (redisUri.IsMemory)
            {
                throw new WorkerConfigurationException("Events:RedisStream / Events:Snapshots:RedisTtl need Redis: set Events:RedisStream:Uri or a redis:// Watchlist:Uri");
            }

            redis = await redisUri.ConnectRedisAsync();
        }

        if (o.RedisStream.Enabled)
        {
            sinks.Add(new RedisStreamSink(redis!, o.RedisStream, redisUri!.Safe));
        }

        if (o.Webhook.Url.Length > 0)
        {
            sinks.Add(new WebhookSink(o.Webhook));
        }

        if (o.Mqtt.Host.Length > 0)
        {
            sinks.Add(new MqttSink(o.Mqtt));
        }

        ISnapshotStore? snapshots = o.Snapshots.RedisTtl > TimeSpan.Zero ? new RedisSnapshotStore(redis!, o.Snapshots.RedisTtl)
            : o.Snapshots.Directory.Length > 0 ? new FileSnapshotStore(o.Snapshots, log)
            : null;
        log.LogInformation("events go to: {Sinks}; snapshots: {Snapshots}", sinks.Count == 0 ? "(no sink)" : string.Join(", ", sinks.Select(s => s.Name)),
            snapshots switch { FileSnapshotStore => o.Snapshots.Directory, RedisSnapshotStore => $"Redis, {o.Snapshots.RedisTtl} TTL", _ => "off" });
        return (sinks, snapshots);
    }

    /// <summary>config/facestream.json in the working directory or the nearest parent that has one.</summary>
    public static string? FindDefaultConfig()
    {
        for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
        {
            string p = Path.Combine(d.FullName, "config", "facestream.json");
            if (File.Exists(p))
            {
                return p;
            }
        }

        return null;
    }
}

/// <summary>A built worker: the web host (metrics, health) plus the pipeline it runs.</summary>
public sealed class WorkerApp(WebApplication web, FramePipeline pipeline, FaceEngine engine, IReadOnlyList<IEventSink> sinks, PipelineMetrics metrics, ILoggerFactory logs,
    WatchlistCache cache, IWatchlistStore store, WorkerSettings settings) : IAsyncDisposable
{
    /// <summary>The settings the worker was built with (the cameras it starts with).</summary>
    internal WorkerSettings Settings { get; } = settings;

    /// <summary>Why the pipeline stopped the worker, or null while it runs or when it stopped normally.</summary>
    public Exception? Failure => web.Services.GetRequiredService<PipelineService>().Failure;

    /// <summary>Completes when the pipeline has stopped (sources ended or failed, events flushed); the host may serve on (Pipeline:ServeAfterSourcesEnd).</summary>
    public Task PipelineEnded => web.Services.GetRequiredService<PipelineService>().Ended;

    public WatchlistCache Watchlist { get; } = cache;

    /// <summary>The host's services (tests read the endpoints from them).</summary>
    internal IServiceProvider Services => web.Services;

    internal ILogger Log { get; } = logs.CreateLogger("FaceStream.Worker");

    public FramePipeline Pipeline { get; } = pipeline;

    public PipelineMetrics Metrics { get; } = metrics;

    /// <summary>The address /metrics, /healthz and /readyz answer on (after start).</summary>
    public Uri? BaseAddress => web.Urls.Select(u => new Uri(u)).FirstOrDefault();

    public Task StartAsync(CancellationToken cancel) => web.StartAsync(cancel);

    public Task WaitForShutdownAsync(CancellationToken cancel) => web.WaitForShutdownAsync(cancel);

    public Task StopAsync() => web.StopAsync();

    public async ValueTask DisposeAsync()
    {
        // Disposing a host does not stop its hosted services: without this, a worker disposed unstopped (a test that
        // failed before its StopAsync) disposed the engine under a running pipeline, and ONNX Runtime crashed the process.
        await web.StopAsync();
        await web.DisposeAsync();
        await Pipeline.DisposeAsync();
        await Watchlist.DisposeAsync();
        await store.DisposeAsync();
        foreach (var sink in sinks)
        {
            await sink.DisposeAsync();
        }

        engine.Dispose();
        logs.Dispose();
    }
}

/// <summary>
/// Runs the pipeline for the host's lifetime; stops the host when the pipeline ends by itself (files done), or when it
/// fails: then the reason is logged and <see cref="Failure"/> makes the exit code 1 (the host's own log of it is off).
/// </summary>
internal sealed class PipelineService(FramePipeline pipeline, WorkerSettings settings, IHostApplicationLifetime lifetime, ILogger log) : BackgroundService
{
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Exception? Failure { get; private set; }

    public Task Ended => _ended.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await pipeline.SyncCamerasAsync(settings.Cameras);
            await pipeline.RunAsync(stoppingToken);
        }
        catch (Exception e) when (!(e is OperationCanceledException && stoppingToken.IsCancellationRequested))
        {
            Failure = e;
            log.LogCritical(e, "the pipeline failed, stopping the worker (exit code 1): {Reason}", e.Message);
        }

        _ended.TrySetResult();
        if (!stoppingToken.IsCancellationRequested && (Failure is not null || !settings.Pipeline.ServeAfterSourcesEnd))
        {
            lifetime.StopApplication();
        }
    }
}
