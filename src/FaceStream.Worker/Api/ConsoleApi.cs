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
    /// <summary>Retry-After for a preview being prepared: the camera's next analysed frame is taken and encoded (well under a second).</summary>
    private const int PreparingRetrySeconds = 1;

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
    /// GET /api/cameras/{id}/frame: the camera's latest preview as JPEG, never cached; the frame's timestamp in
    /// Last-Modified, the seconds since it was analysed in X-Frame-Age. Each request marks the camera watched
    /// (Console:PreviewWatchWindow): previews are made only then, one per Console:PreviewInterval. The first request after
    /// nobody watched gets the last preview made (its age says how old), or, before there is one, 503 with Retry-After
    /// (one is being prepared). 404 for a camera this worker does not run (unknown, or in cluster mode owned by another
    /// worker), with previews off, and for a camera with no preview that no longer analyses frames (a file at its end).
    /// </summary>
    private static void MapCameraFrame(RouteGroupBuilder api, FramePipeline pipeline)
    {
        api.MapGet("/cameras/{id}/frame", (string id, HttpContext http) =>
        {
            var (preview, refusal) = Frame(id, pipeline.Cameras.FirstOrDefault(c => c.Id == id), pipeline.Previews);
            if (preview is null)
            {
                return refusal!;
            }

            var headers = http.Response.Headers;
            headers.CacheControl = "no-store";
            headers.LastModified = preview.Timestamp.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            headers["X-Frame-Age"] = Math.Max(0, (DateTimeOffset.UtcNow - preview.AnalysedAt).TotalSeconds).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
            return Results.File(preview.Jpeg, "image/jpeg");
        })
        .Produces(StatusCodes.Status200OK, contentType: "image/jpeg")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>The camera's latest preview, or why there is none; marks the camera watched (a preview is on its way).</summary>
    internal static (CameraPreview? Preview, ApiProblem? Refusal) Frame(string id, CameraStatus? camera, CameraPreviews previews)
    {
        if (camera is null)
        {
            return (null, ApiProblems.NotFound($"camera '{id}' does not run on this worker (in cluster mode its owner serves its frame)"));
        }

        if (!previews.Enabled)
        {
            return (null, ApiProblems.NotFound("camera previews are off (Console:PreviewInterval = 0)"));
        }

        previews.Watch(id);
        if (previews.Latest(id) is { } preview)
        {
            return (preview, null);
        }

        return (null, camera.State is SourceState.Completed or SourceState.Failed or SourceState.Stopped
            ? ApiProblems.NotFound($"camera '{id}' has no preview and analyses no more frames ({camera.State.ToString().ToLowerInvariant()}): nobody watched it while it ran")
            : ApiProblems.Of(StatusCodes.Status503ServiceUnavailable,
                $"camera '{id}' has no preview yet: one is being prepared from its next analysed frame (previews are made only while someone watches)",
                PreparingRetrySeconds));
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
