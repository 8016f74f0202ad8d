using FaceStream.Application.Enrollment;
using FaceStream.Application.Gallery;
using FaceStream.Watchlist.Cache;
using FaceStream.Watchlist.Store;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Hosting;

/// <summary>
/// Gives the pipeline its gallery before the cameras open: enrolls Gallery:Directory into a memory watchlist, loads
/// the watchlist cache and follows its changes (or, for watch --gallery and the benches, a fixed gallery).
/// </summary>
public sealed class WatchlistService(IServiceProvider services, FaceStreamOverrides overrides, WorkerSettings settings, FramePipeline pipeline, PipelineMetrics metrics,
    ILoggerFactory logs) : IHostedService
{
    /// <summary>The cache the pipeline follows; null with a fixed gallery, or before start.</summary>
    public WatchlistCache? Cache { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (overrides.Gallery is { } fixedGallery)
        {
            pipeline.Gallery = await fixedGallery(services, cancellationToken);
            return;
        }

        var store = services.GetRequiredService<IWatchlistStore>();
        if (!string.IsNullOrWhiteSpace(settings.Gallery.Directory))
        {
            var log = logs.CreateLogger("FaceStream.Gallery");
            if (store is MemoryWatchlistStore)
            {
                await GalleryLoader.EnrollFoldersAsync(settings.Gallery.Directory, services.GetRequiredService<Enroller>(), store, log, cancellationToken);
            }
            else
            {
                log.LogWarning("Gallery:Directory is only enrolled into a memory: watchlist; for {Store} use `facestream enroll --folders`", store.Describe);
            }
        }

        var cache = services.GetRequiredService<WatchlistCache>();
        cache.Changed += index => pipeline.Gallery = index;
        cache.Checked += () => State(cache);
        await cache.StartAsync(cancellationToken);
        pipeline.Gallery = cache.Index;
        State(cache);
        Cache = cache;
    }

    // The cache is disposed with the container (after the pipeline has stopped).
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The watchlist cache's last check as gauges (facestream_watchlist_reachable, facestream_watchlist_version)
    /// and its resyncs by kind (facestream_watchlist_resyncs_total).</summary>
    private void State(WatchlistCache cache)
    {
        metrics.WatchlistReachable.Set(cache.Reachable ? 1 : 0);
        metrics.WatchlistVersion.Set(cache.Version);
        metrics.WatchlistResyncs.WithLabels("full").IncTo(cache.FullResyncs);
        metrics.WatchlistResyncs.WithLabels("incremental").IncTo(cache.IncrementalUpdates);
    }
}
