using System.Net;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;
using FaceStream.Media.Video;
using FaceStream.Media.Video.Interop;
using FaceStream.Watchlist.Cache;
using FaceStream.Watchlist.Store;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;
using FaceStream.Worker.Review;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Prometheus;

namespace FaceStream.Worker.Hosting;

/// <summary>
/// The worker's executable shape: reads --config, layers the configuration (file, secrets, environment; cameras reload
/// on edit), adds the composition root (<see cref="FaceStreamServiceCollectionExtensions.AddFaceStream"/>) and the HTTP
/// endpoints (<see cref="WorkerEndpoints"/>), and runs it with the documented exit codes.
/// </summary>
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
        catch (Exception e) when (StartFailure(e) is { } code)
        {
            return code;
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
        catch (Exception e) when (StartFailure(e) is { } code)
        {
            // The watchlist service enrolls Gallery:Directory at start: a bad photo folder ends here.
            return code;
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

    /// <summary>A failure to build or start said in one line: 2 for the configuration, 1 for the environment; null for anything else.</summary>
    private static int? StartFailure(Exception e)
    {
        int? code = e switch
        {
            WorkerConfigurationException or UnknownModelException => 2,
            Microsoft.Extensions.Options.OptionsValidationException => 2,
            ModelNotReadyException or ExecutionProviderException or FfmpegUnavailableException or FileNotFoundException or WatchlistUnavailableException => 1,
            _ => null,
        };
        if (code is not null)
        {
            Console.Error.WriteLine($"error: {e.Message}");
        }

        return code;
    }

    /// <summary>Builds the host (configuration validated, models loaded, watchlist store opened); the watchlist loads and the cameras open at start.</summary>
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

        // The composition root, then what only the worker adds: the HTTP endpoints' listener and systemd's notifications.
        builder.Services.AddFaceStream(builder.Configuration, new FaceStreamOverrides { ConfigPath = configPath, Registry = registry });
        builder.Services.AddOptions<KestrelServerOptions>().Configure<WorkerSettings>((k, settings) =>
        {
            var m = settings.Metrics;
            if (m.Enabled)
            {
                k.Listen(m.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(m.Host), m.Port);
            }
        });
        // Anything unforeseen still answers with a problem body (RFC 7807), not an empty 500.
        builder.Services.AddProblemDetails();
        builder.Services.AddWorkerHealthChecks();
        // The review console (worker only): its recent-events ring joins the pipeline's sinks; OpenAPI of /api.
        ReviewConsole.AddServices(builder.Services);
        // Under systemd (Type=notify): READY=1 once started (models loaded, listening), STOPPING=1 on stop; a no-op elsewhere.
        builder.Services.AddSystemd();
        var web = builder.Build();
        try
        {
            // Configuration problems first (exit code 2), then the models load and the watchlist opens (as the endpoints need them).
            web.Services.ValidatedSettings();
            var log = web.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FaceStream.Worker");
            log.LogInformation("FFmpeg: {Versions}", FfmpegLibrary.EnsureLoaded());
            WorkerEndpoints.Map(web);
            var pipeline = web.Services.GetRequiredService<FramePipeline>();
            string fullConfigPath = Path.GetFullPath(configPath);
            // The file watcher calls back synchronously; reloads run one after another, each reading the file as it is then.
            var reloading = Task.CompletedTask;
            var reloadOrder = new Lock();
            IConfiguration configuration = builder.Configuration;
            ChangeToken.OnChange(configuration.GetReloadToken, () =>
            {
                bool failed = Interlocked.Exchange(ref loadFailed.Value, false);
                lock (reloadOrder)
                {
                    reloading = reloading.ContinueWith(_ => ReloadAsync(configuration, fullConfigPath, failed, pipeline, log), TaskScheduler.Default).Unwrap();
                }
            });
            return new WorkerApp(web);
        }
        catch
        {
            await web.DisposeAsync();
            throw;
        }
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
            if (next.Cluster.Enabled)
            {
                log.LogInformation("configuration reloaded; in cluster mode the cameras come from Redis (the camera API), Cameras changes in the file do not apply");
                return;
            }

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

/// <summary>A built worker: the web host (metrics, health, API) and the services of <see cref="FaceStreamServiceCollectionExtensions.AddFaceStream"/>.</summary>
public sealed class WorkerApp(WebApplication web) : IAsyncDisposable
{
    /// <summary>The settings the worker was built with (the cameras it starts with).</summary>
    internal WorkerSettings Settings => web.Services.GetRequiredService<WorkerSettings>();

    /// <summary>Why the pipeline stopped the worker, or null while it runs or when it stopped normally.</summary>
    public Exception? Failure => web.Services.GetRequiredService<PipelineService>().Failure;

    /// <summary>The watchlist cache (loaded once the worker has started).</summary>
    public WatchlistCache Watchlist => web.Services.GetRequiredService<WatchlistCache>();

    internal ILogger Log => web.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FaceStream.Worker");

    public FramePipeline Pipeline => web.Services.GetRequiredService<FramePipeline>();

    public PipelineMetrics Metrics => web.Services.GetRequiredService<PipelineMetrics>();

    /// <summary>Completes when the pipeline has stopped (sources ended or failed, events flushed); the host may serve on (Pipeline:ServeAfterSourcesEnd).</summary>
    public Task PipelineEnded => web.Services.GetRequiredService<PipelineService>().Ended;

    /// <summary>The host's services (tests read the endpoints from them).</summary>
    internal IServiceProvider Services => web.Services;

    /// <summary>The address /metrics, /healthz and /readyz answer on (after start).</summary>
    public Uri? BaseAddress => web.Urls.Select(u => new Uri(u)).FirstOrDefault();

    public Task StartAsync(CancellationToken cancel) => web.StartAsync(cancel);

    public Task WaitForShutdownAsync(CancellationToken cancel) => web.WaitForShutdownAsync(cancel);

    public Task StopAsync() => web.StopAsync();

    public async ValueTask DisposeAsync()
    {
        // Disposing a host does not stop its hosted services: without this, a worker disposed unstopped (a test that
        // failed before its StopAsync) disposed the engine under a running pipeline, and ONNX Runtime crashed the process.
        // The container then disposes what it built in reverse order: pipeline, cache, sinks, store, engine.
        await web.StopAsync();
        await web.DisposeAsync();
    }
}
