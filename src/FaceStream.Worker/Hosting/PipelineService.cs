using FaceStream.Worker.Configuration;
using FaceStream.Worker.Pipeline;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Hosting;

/// <summary>
/// Runs the pipeline for the host's lifetime; stops the host when the pipeline ends by itself (files done), or when it
/// fails: then the reason is logged and <see cref="Failure"/> makes the exit code 1 (the host's own log of it is off).
/// </summary>
public sealed class PipelineService(FramePipeline pipeline, WorkerSettings settings, IHostApplicationLifetime lifetime, ILoggerFactory logs) : BackgroundService
{
    private readonly ILogger _log = logs.CreateLogger("FaceStream.Worker");

    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Exception? Failure { get; private set; }

    /// <summary>Completes when the pipeline has stopped (sources ended or failed, events flushed).</summary>
    public Task Ended => _ended.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            // Cluster mode: the ownership loop gives the pipeline the cameras whose leases this worker holds.
            await pipeline.SyncCamerasAsync(settings.Cluster.Enabled ? [] : settings.Cameras, stoppingToken);
            await pipeline.RunAsync(stoppingToken);
        }
        catch (Exception e) when (!(e is OperationCanceledException && stoppingToken.IsCancellationRequested))
        {
            Failure = e;
            _log.LogCritical(e, "the pipeline failed, stopping the worker (exit code 1): {Reason}", e.Message);
        }

        _ended.TrySetResult();
        // Pipeline:ServeAfterSourcesEnd (the demo's console): files done, the host serves on until stopped.
        if (!stoppingToken.IsCancellationRequested && (Failure is not null || !settings.Pipeline.ServeAfterSourcesEnd))
        {
            lifetime.StopApplication();
        }
    }
}
