using System.Text.Json;
using System.Text.Json.Serialization;
using FaceStream.Inference;
using FaceStream.Media.Video;
using FaceStream.Watchlist.Cache;
using FaceStream.Worker.Cluster;
using FaceStream.Worker.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace FaceStream.Worker.Hosting;

/// <summary>
/// The worker's health as ASP.NET Core health checks: <c>/healthz</c> (live: the process answers, no check runs),
/// <c>/startupz</c> (started: models loaded, watchlist loaded, cameras opening) and <c>/readyz</c> (a camera streams
/// and the watchlist answers), each 200 or 503. The bodies are the ones the probes and tests have always read.
/// </summary>
public static class WorkerHealth
{
    private const string Ready = "ready";
    private const string Startup = "startup";
    private const string Api = "api";

    public static IServiceCollection AddWorkerHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            // Ready to serve the API (models and watchlist loaded) is what started means; cameras play no part in it.
            .AddCheck<StartupCheck>(Startup, tags: [Startup, Api])
            .AddCheck<ReadinessCheck>(Ready, tags: [Ready]);
        return services;
    }

    public static void MapWorkerHealthChecks(this WebApplication web)
    {
        web.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = (context, _) => Text(context, "ok\n") });
        web.MapHealthChecks("/startupz", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains(Startup),
            ResponseWriter = (context, report) => Text(context, report.Status == HealthStatus.Healthy ? "started\n" : "starting\n"),
        });
        // The pod's readiness probe: the watchlist API and the console stay reachable while cameras fail (camera health
        // is what /readyz, the metrics and the alert rules report).
        web.MapHealthChecks("/readyz/api", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains(Api),
            ResponseWriter = (context, report) => Text(context, report.Status == HealthStatus.Healthy ? "ready\n" : "starting\n"),
        });
        web.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains(Ready),
            ResponseWriter = (context, report) =>
            {
                context.Response.ContentType = "application/json; charset=utf-8";
                // A check that threw has no body of its own: its exception is the reason.
                var entry = report.Entries[Ready];
                var body = entry.Data.TryGetValue(Ready, out var data) ? (Readiness)data
                    : new Readiness(false, "", 0, 0, "", 0, 0, [entry.Exception?.Message ?? entry.Description ?? "readiness unknown"]);
                return JsonSerializer.SerializeAsync(context.Response.Body, body, cancellationToken: context.RequestAborted);
            },
        });
    }

    private static Task Text(HttpContext context, string body)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>The /readyz body.</summary>
    public sealed record Readiness(
        [property: JsonPropertyName("ready")] bool IsReady,
        [property: JsonPropertyName("models")] string Models,
        [property: JsonPropertyName("cameras_streaming")] int CamerasStreaming,
        [property: JsonPropertyName("cameras")] int Cameras,
        [property: JsonPropertyName("watchlist")] string Watchlist,
        [property: JsonPropertyName("watchlist_version")] long WatchlistVersion,
        [property: JsonPropertyName("watchlist_identities")] int WatchlistIdentities,
        [property: JsonPropertyName("reasons")] IReadOnlyList<string> Reasons);

    /// <summary>Ready when at least one camera streams and the watchlist store answered its last check.</summary>
    private sealed class ReadinessCheck(FramePipeline pipeline, WatchlistCache cache, FaceEngine engine, ClusterNode cluster) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var cameras = pipeline.Cameras;
            var streaming = cameras.Count(c => c.State == SourceState.Streaming);
            var reasons = new List<string>();
            // A cluster worker that holds no camera (more workers than cameras) is still ready to take one.
            if (streaming == 0 && (cluster.Ownership is null || cameras.Count > 0))
            {
                reasons.Add(cameras.Count == 0 ? "no camera configured" : "no camera is streaming");
            }

            if (cluster.Ownership?.Problem is { } clusterProblem)
            {
                reasons.Add(clusterProblem);
            }

            if (!cache.Reachable)
            {
                reasons.Add($"watchlist unreachable (serving version {cache.Version}): {cache.LastError}");
            }

            var body = new Readiness(reasons.Count == 0, engine.Embedder.ModelId, streaming, cameras.Count, cache.Store, cache.Version, cache.Index.Identities, reasons);
            var data = new Dictionary<string, object> { [Ready] = body };
            return Task.FromResult(reasons.Count == 0 ? HealthCheckResult.Healthy(data: data) : HealthCheckResult.Unhealthy(string.Join("; ", reasons), data: data));
        }
    }

    /// <summary>Healthy once every hosted service has started (the watchlist is loaded and the pipeline runs).</summary>
    private sealed class StartupCheck(IHostApplicationLifetime lifetime) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(lifetime.ApplicationStarted.IsCancellationRequested ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("starting"));
    }
}
