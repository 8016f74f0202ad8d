using System.Collections.Concurrent;
using FaceStream.Media.Video;
using FaceStream.Watchlist.Store;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace FaceStream.Worker.Api;

/// <summary>
/// The calls the review console needs besides events and the watchlist: GET /api/me (the caller's role),
/// GET /api/console/cameras (state, analysed fps, last frame age, last error), GET /api/cameras/{id}/frame (the
/// camera's latest preview, <see cref="CameraPreviews"/>) and the enrolled crops
/// (GET /api/identities/{id}/photo, GET /api/identities/{id}/templates/{templateId}/crop).
/// </summary>
public static class ConsoleApi
{
    public static void Map(IEndpointRouteBuilder app, FramePipeline pipeline, PipelineMetrics metrics, IWatchlistStore store, ApiOptions options)
    {
        var api = WatchlistApi.Group(app, options).ProducesAccessProblems();
        api.MapGet("/me", Ok<CallerAnswer> (HttpContext http) => TypedResults.Ok(CallerAnswer.Of(ApiRoles.Caller(http))));

        var rates = new AnalysedRates(metrics);
        api.MapGet("/console/cameras", Ok<List<ConsoleCameraAnswer>> () =>
        {
            var now = DateTimeOffset.UtcNow;
            return TypedResults.Ok(pipeline.Cameras.Select(c => ConsoleCameraAnswer.Of(c, rates.Fps(c.Id, now), now)).ToList());
        });

        MapCameraFrame(api, pipeline);

        api.MapGet("/identities/{id}/photo", async (string id) =>
        {
            var best = (await store.ListTemplatesAsync(id)).Where(t => t.Crop is not null).OrderByDescending(t => t.Quality).FirstOrDefault();
            return best is null ? ApiProblems.NotFound($"identity '{id}' has no enrolled photo (unknown identity, or Enrollment:KeepCrops off)") : Results.File(best.Crop!, "image/jpeg");
        });

        api.MapGet("/identities/{id}/templates/{templateId}/crop", async (string id, string templateId) =>
            (await store.ListTemplatesAsync(id)).FirstOrDefault(t => t.Id == templateId) is { Crop: { } crop }
                ? Results.File(crop, "image/jpeg")
                : ApiProblems.NotFound($"no crop of template '{templateId}' on identity '{id}'"));
    }

    /// <summary>
    /// GET /api/cameras/{id}/frame: the camera's latest preview as JPEG, never cached (it is renewed every
    /// Console:PreviewInterval); the frame's timestamp in Last-Modified, the seconds since it was analysed in X-Frame-Age. 404 for a camera this worker
    /// does not run (unknown, or in cluster mode owned by another worker) and before its first preview.
    /// </summary>
    private static void MapCameraFrame(RouteGroupBuilder api, FramePipeline pipeline)
    {
        api.MapGet("/cameras/{id}/frame", (string id, HttpContext http) =>
        {
            if (!pipeline.Cameras.Any(c => c.Id == id))
            {
                return ApiProblems.NotFound($"camera '{id}' does not run on this worker (in cluster mode its owner serves its frame)");
            }

            if (pipeline.Previews.Latest(id) is not { } preview)
            {
                return ApiProblems.NotFound(pipeline.Previews.Enabled
                    ? $"camera '{id}' has no analysed frame yet"
                    : "camera previews are off (Console:PreviewInterval = 0)");
            }

            var headers = http.Response.Headers;
            headers.CacheControl = "no-store";
            headers.LastModified = preview.Timestamp.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            headers["X-Frame-Age"] = Math.Max(0, (DateTimeOffset.UtcNow - preview.AnalysedAt).TotalSeconds).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
            return Results.File(preview.Jpeg, "image/jpeg");
        })
        .Produces(StatusCodes.Status200OK, contentType: "image/jpeg")
        .ProducesProblem(StatusCodes.Status404NotFound);
    }

    /// <summary>Frames analysed per second and camera, from facestream_camera_frames_analysed_total between two reads at least a second apart.</summary>
    private sealed class AnalysedRates(PipelineMetrics metrics)
    {
        private readonly ConcurrentDictionary<string, (DateTimeOffset At, double Count, double? Fps)> _last = new();

        public double? Fps(string camera, DateTimeOffset now)
        {
            double count = metrics.FramesAnalysed.WithLabels(camera).Value;
            var next = _last.AddOrUpdate(camera, _ => (now, count, null), (_, last) =>
            {
                var seconds = (now - last.At).TotalSeconds;
                return seconds < 1 ? last : (now, count, Math.Round(Math.Max(0, count - last.Count) / seconds, 1));
            });
            return next.Fps;
        }
    }
}
