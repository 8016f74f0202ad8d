using FaceStream.Watchlist.Store;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Cluster;

/// <summary>Cluster mode's wiring into the worker: the ownership loop as a hosted service, events stamped with worker and epoch, /status.</summary>
public static class ClusterHosting
{
    /// <summary>
    /// With Cluster:Redis set: connects (retrying in the background while Redis is down), registers the ownership loop
    /// (after the pipeline's service, so it stops first and hands its cameras over) and returns it; else null (single node).
    /// </summary>
    public static async Task<CameraOwnership?> AddClusterAsync(this IServiceCollection services, WorkerSettings settings, FramePipeline pipeline, PipelineMetrics metrics, ILoggerFactory logs)
    {
        if (!settings.Cluster.Enabled)
        {
            return null;
        }

        var redis = await WatchlistUri.Parse(settings.Cluster.Redis).ConnectRedisAsync();
        var ownership = new CameraOwnership(settings.Cluster, redis, pipeline, settings.Cameras.ToList(), new ClusterMetrics(metrics.Registry), logs.CreateLogger("FaceStream.Cluster"));
        pipeline.EventOrigin = ownership.Origin;
        services.AddHostedService(_ => ownership);
        return ownership;
    }

    /// <summary>/status in cluster mode: this worker's id, why it cannot take part (or null), its cameras and their lease epochs.</summary>
    public static object Status(this CameraOwnership ownership, IEnumerable<object> cameras) =>
        new { worker_id = ownership.WorkerId, problem = ownership.Problem, cameras, leases = ownership.Owned };
}
