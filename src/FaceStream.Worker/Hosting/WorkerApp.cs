using FaceStream.Watchlist.Cache;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Hosting;

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
