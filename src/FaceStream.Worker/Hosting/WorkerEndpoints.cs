using FaceStream.Application.Enrollment;
using FaceStream.Inference;
using FaceStream.Media.Video;
using FaceStream.Watchlist.Cache;
using FaceStream.Watchlist.Store;
using FaceStream.Worker.Api;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace FaceStream.Worker.Hosting;

/// <summary>The worker's HTTP surface: /metrics, /healthz, /readyz, /status and the APIs under /api. New endpoints are mapped here.</summary>
public static class WorkerEndpoints
{
    public static void Map(WebApplication web)
    {
        var services = web.Services;
        var settings = services.GetRequiredService<WorkerSettings>();
        var engine = services.GetRequiredService<FaceEngine>();
        var pipeline = services.GetRequiredService<FramePipeline>();
        var cache = services.GetRequiredService<WatchlistCache>();
        web.UseExceptionHandler();
        web.MapMetrics("/metrics", services.GetRequiredService<PipelineMetrics>().Registry);
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

        WatchlistApi.Map(web, services.GetRequiredService<IWatchlistStore>(), services.GetRequiredService<Enroller>(), settings.Api);
        AnalyseApi.Map(web, engine, settings.Api);
    }
}
