using FaceStream.Worker.Configuration;
using FaceStream.Worker.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FaceStream.Worker.Hosting;

/// <summary>
/// The cameras the configuration asks for as it is now, or why it cannot apply. <see cref="IOptionsMonitor{T}"/>
/// recomputes it on every reload of the configuration (the file's reloadOnChange, secrets, environment); building it
/// never throws, so a bad edit becomes <see cref="Rejected"/> instead of an exception lost on the file watcher's thread.
/// </summary>
public sealed class CamerasOptions
{
    public IReadOnlyList<CameraOptions> Cameras { get; set; } = [];

    /// <summary>Cluster mode: the cameras come from Redis (the camera API), not from the file.</summary>
    public bool FromCluster { get; set; }

    /// <summary>Why this configuration is refused (the message names the file or the key), or null.</summary>
    public string? Rejected { get; set; }

    /// <summary>A refusal nobody foresaw (logged with its stack trace), or null.</summary>
    public Exception? Unexpected { get; set; }
}

/// <summary>
/// Camera reload: each change of <see cref="CamerasOptions"/> adds, changes or removes cameras; a rejected one is logged
/// with its reason and the running cameras stay as they are. Changes apply one after another, in the order they came.
/// </summary>
public sealed class CameraReload : IDisposable
{
    private readonly FramePipeline _pipeline;
    private readonly ILogger _log;
    private readonly Lock _order = new();
    private readonly IDisposable? _subscription;
    private Task _applying = Task.CompletedTask;

    public CameraReload(IOptionsMonitor<CamerasOptions> cameras, FramePipeline pipeline, ILoggerFactory logs)
    {
        _pipeline = pipeline;
        _log = logs.CreateLogger("FaceStream.Worker");
        // The monitor calls back on the configuration's change thread: queue the change, never block that thread.
        _subscription = cameras.OnChange(next =>
        {
            lock (_order)
            {
                _applying = _applying.ContinueWith(_ => ApplyAsync(next), TaskScheduler.Default).Unwrap();
            }
        });
    }

    /// <summary>Registers <see cref="CamerasOptions"/> (recomputed from <paramref name="configuration"/> on each reload) and the reload itself.</summary>
    public static IServiceCollection Register(IServiceCollection services, IConfiguration configuration, ConfigFile file)
    {
        services.AddOptions<CamerasOptions>().Configure(o => Read(o, configuration, file));
        services.AddSingleton<IOptionsChangeTokenSource<CamerasOptions>>(new ConfigurationChangeTokenSource<CamerasOptions>(configuration));
        services.AddSingleton<CameraReload>();
        return services;
    }

    private static void Read(CamerasOptions options, IConfiguration configuration, ConfigFile file)
    {
        bool loadFailed = file.TakeLoadFailed();
        try
        {
            // An empty, truncated or half-written file: its (empty) data must not stop every camera.
            if (ConfigKeys.SyntaxError(file.Path) is { } syntax)
            {
                options.Rejected = syntax;
                return;
            }

            if (loadFailed)
            {
                options.Rejected = $"{file.Path} could not be read as JSON (it changed since; the next change is read again)";
                return;
            }

            var settings = WorkerSettings.Load(configuration);
            options.FromCluster = settings.Cluster.Enabled;
            options.Cameras = settings.Cameras;
        }
        catch (WorkerConfigurationException e)
        {
            options.Rejected = e.Message;
        }
        catch (Exception e)
        {
            // Anything the validation did not foresee: still said, never swallowed by the file watcher.
            options.Rejected = e.Message;
            options.Unexpected = e;
        }
    }

    private async Task ApplyAsync(CamerasOptions next)
    {
        try
        {
            if (next.Rejected is { } reason)
            {
                _log.LogError(next.Unexpected, "configuration change rejected, cameras unchanged: {Reason}", reason);
                return;
            }

            if (next.FromCluster)
            {
                _log.LogInformation("configuration reloaded; in cluster mode the cameras come from Redis (the camera API), Cameras changes in the file do not apply");
                return;
            }

            await _pipeline.SyncCamerasAsync(next.Cameras);
            _log.LogInformation("configuration reloaded: {Count} cameras enabled (only Cameras changes apply without a restart)", next.Cameras.Count(c => c.Enabled));
        }
        catch (WorkerConfigurationException e)
        {
            _log.LogError("configuration change rejected, cameras unchanged: {Reason}", e.Message);
        }
        catch (Exception e)
        {
            _log.LogError(e, "configuration change rejected, cameras unchanged: {Reason}", e.Message);
        }
    }

    public void Dispose() => _subscription?.Dispose();
}
