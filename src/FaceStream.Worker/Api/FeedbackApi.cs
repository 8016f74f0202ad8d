using System.Globalization;
using System.Text.Json;
using FaceStream.Worker.Review;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FaceStream.Worker.Api;

/// <summary>
/// POST /api/events/{id}/feedback {"verdict": "correct"|"wrong"} (operators): the verdict is stored with the event,
/// counted in facestream_feedback_total{verdict} and written to the audit log; GET /api/audit reads that log.
/// </summary>
public static class FeedbackApi
{
    private sealed record Body(string? Verdict);

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    public static void Map(IEndpointRouteBuilder app, ReviewServices review, ApiOptions options)
    {
        var api = WatchlistApi.Group(app, options);
        api.MapPost("/events/{id}/feedback", async (string id, HttpContext http) =>
        {
            if (await EventsApi.Find(review, id) is not { } e)
            {
                return EventsApi.NotFound(id);
            }

            if (e.Kind is not ("match" or "unknown"))
            {
                return ApiProblems.BadRequest($"event '{id}' is a {e.Kind} event: verdicts are for match and unknown events");
            }

            // A verdict is a few bytes; anything beyond 4 KiB is not one.
            if (http.Request.ContentLength > 4096)
            {
                return ApiProblems.Of(413, "request body larger than 4096 bytes");
            }

            var body = await JsonSerializer.DeserializeAsync<Body>(http.Request.Body, Web);
            if (body?.Verdict is not { } verdict || !Feedback.Verdicts.Contains(verdict))
            {
                return ApiProblems.BadRequest("expected {\"verdict\": \"correct\"} or {\"verdict\": \"wrong\"}");
            }

            var caller = ApiRoles.Caller(http);
            var feedback = new Feedback(e.Id, verdict, caller.Who, DateTimeOffset.UtcNow);
            await review.Store.SetFeedbackAsync(feedback);
            review.FeedbackGiven.WithLabels(verdict).Inc();
            await AuditLog.RecordAsync(http, $"feedback {verdict} on {e.Kind} event {e.Id} ({e.IdentityId ?? "unknown"} on camera {e.CameraId})");
            return Results.Json(new { event_id = e.Id, verdict, who = caller.Who, at = feedback.At.UtcDateTime.ToString("O", CultureInfo.InvariantCulture) });
        });

        api.MapGet("/audit", async (int? limit) =>
        {
            if (limit is < 1 or > 10_000)
            {
                return ApiProblems.BadRequest("limit must be 1 to 10000");
            }

            var entries = await review.Store.AuditLogAsync(limit ?? 100);
            return Results.Json(entries.Select(a => new { at = a.At.UtcDateTime.ToString("O", CultureInfo.InvariantCulture), who = a.Who, what = a.What }));
        });
    }
}
