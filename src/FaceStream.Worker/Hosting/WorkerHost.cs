using System.Net;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;
using FaceStream.Media.Video;
using FaceStream.Media.Video.Interop;
using FaceStream.Watchlist.Store;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Review;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace FaceStream.Worker.Hosting;

/// <summary>
/// The worker's executable shape: reads --config, layers the configuration (file, secrets, environment; cameras reload
/// on edit), adds the composition root (<see cref="FaceStreamServiceCollectionExtensions.AddFaceStream"/>) and the HTTP
/// endpoints (<see cref="WorkerEndpoints"/>), and runs it with the documented exit codes.
/// </summary>
public static class WorkerHost
{
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
        var file = ConfigFile.FromArguments(args);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = Path.GetDirectoryName(file.Path) });
        builder.Configuration.Sources.Clear();
        file.AddTo(builder.Configuration);
        // Secret files (FACESTREAM_SECRETS_DIR, or the chart's /run/secrets/facestream), then FACESTREAM__ variables, over the file.
        builder.Configuration.AddSecretsAndEnvironment(reloadOnChange: true);
        ConsoleLogging.Configure(builder.Logging, builder.Configuration);
        // Start-up failures are reported by RunAsync in one line; the host would add a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);

        // The composition root, then what only the worker adds: camera reload, the HTTP endpoints' listener, systemd's notifications.
        builder.Services.AddFaceStream(builder.Configuration, new FaceStreamOverrides { ConfigPath = file.Path, Registry = registry });
        CameraReload.Register(builder.Services, builder.Configuration, file);
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
            // Camera edits from now on (IOptionsMonitor<CamerasOptions> over the reloading configuration).
            web.Services.GetRequiredService<CameraReload>();
            return new WorkerApp(web);
        }
        catch
        {
            await web.DisposeAsync();
            throw;
        }
    }
}
