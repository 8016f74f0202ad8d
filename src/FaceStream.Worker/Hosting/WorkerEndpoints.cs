using FaceStream.Application.Enrollment;
using FaceStream.Inference;
using FaceStream.Watchlist.Store;
using FaceStream.Worker.Api;
using FaceStream.Worker.Cluster;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;
using FaceStream.Worker.Review;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace FaceStream.Worker.Hosting;

/// <summary>The worker's HTTP surface: /metrics, health (<see cref="WorkerHealth"/>), /status and the APIs under /api. New endpoints are mapped here.</summary>
public static class WorkerEndpoints
{
    public static void Map(WebApplication web)
    {
        var services = web.Services;
        var settings = services.GetRequiredService<WorkerSettings>();
        var engine = services.GetRequiredService<FaceEngine>();
        var pipeline = services.GetRequiredService<FramePipeline>();
        web.UseExceptionHandler();
        web.MapMetrics("/metrics", services.GetRequiredService<PipelineMetrics>().Registry);
        web.MapWorkerHealthChecks();
        var cluster = services.GetRequiredService<ClusterNode>();
        // Single node: the camera list; cluster mode: {worker_id, problem, cameras, leases}.
        web.MapGet("/status", Results<Ok<List<CameraStatusAnswer>>, Ok<ClusterStatusAnswer>> () =>
        {
            var cameras = pipeline.Cameras.Select(CameraStatusAnswer.Of).ToList();
            return cluster.Ownership is { } o ? TypedResults.Ok(ClusterStatusAnswer.Of(o, cameras)) : TypedResults.Ok(cameras);
        });

        var uploads = services.GetRequiredService<UploadGate>();
        var cpu = services.GetRequiredService<UploadScheduler>();
        WatchlistApi.Map(web, services.GetRequiredService<IWatchlistStore>(), services.GetRequiredService<Enroller>(), settings.Api, uploads, cpu);
        AnalyseApi.Map(web, engine, settings.Api, uploads, cpu);
        ReviewConsole.Map(web, pipeline, services.GetRequiredService<PipelineMetrics>(), services.GetRequiredService<IWatchlistStore>(), settings.Api);
        if (cluster.Ownership is { } ownership)
        {
            CameraApi.Map(web, ownership, pipeline, settings.Api);
        }
    }
}
