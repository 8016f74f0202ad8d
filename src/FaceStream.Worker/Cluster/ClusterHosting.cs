using FaceStream.Watchlist.Store;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Cluster;

/// <summary>
/// Cluster mode's place in the composition root. With Cluster:Redis set it holds the ownership loop (connecting in
/// the background while Redis is down) and runs it as a hosted service; in single-node mode it holds nothing and does
/// nothing, so the rest of the worker asks it, not the settings, whether cameras are shared.
/// </summary>
public sealed class ClusterNode : IHostedService, IDisposable
{
    private ClusterNode(CameraOwnership? ownership) => Ownership = ownership;

    /// <summary>The ownership loop, or null in single-node mode.</summary>
    public CameraOwnership? Ownership { get; }

    public static ClusterNode Create(IServiceProvider services)
    {
        var settings = services.GetRequiredService<WorkerSettings>();
        if (!settings.Cluster.Enabled)
        {
            return new ClusterNode(null);
        }

        var pipeline = services.GetRequiredService<FramePipeline>();
        var redis = WatchlistUri.Parse(settings.Cluster.Redis).ConnectRedis();
        var ownership = new CameraOwnership(settings.Cluster, redis, pipeline, settings.Cameras.ToList(),
            new ClusterMetrics(services.GetRequiredService<PipelineMetrics>().Registry), services.GetRequiredService<ILoggerFactory>().CreateLogger("FaceStream.Cluster"));
        pipeline.EventOrigin = ownership.Origin;
        pipeline.CameraStateChanged = ownership.OnCameraState;
        return new ClusterNode(ownership);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Ownership?.StartAsync(cancellationToken) ?? Task.CompletedTask;

    /// <summary>Hands this worker's cameras over (registered after the pipeline's service, so it stops first).</summary>
    public Task StopAsync(CancellationToken cancellationToken) => Ownership?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    public void Dispose() => Ownership?.Dispose();
}

public static class ClusterHosting
{
    /// <summary>Registers <see cref="ClusterNode"/>; call after the pipeline's hosted service (hosted services stop in reverse order).</summary>
    public static IServiceCollection AddFaceStreamCluster(this IServiceCollection services)
    {
        services.AddSingleton(ClusterNode.Create);
        services.AddHostedService(sp => sp.GetRequiredService<ClusterNode>());
        return services;
    }
}
