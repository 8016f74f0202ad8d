using System.Text.Json;
using FaceStream.Application.Enrollment;
using FaceStream.Media.Images;
using FaceStream.Worker.Review;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace FaceStream.Worker.Api;

/// <summary>
/// POST /api/events/{id}/feedback {"verdict": "correct"|"wrong"} (operators): the verdict is stored with the event,
/// counted in facestream_feedback_total{verdict} and written to the audit log; POST /api/events/{id}/enroll (operators)
/// adds a correct match's face snapshot to its identity as a new template, through the same checks as an upload;
/// GET /api/audit reads that log.
/// </summary>
public static class FeedbackApi
{
    private sealed record Body(string? Verdict);

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    public static void Map(IEndpointRouteBuilder app, ReviewServices review, Enroller enroller, ApiOptions options, UploadGate gate, UploadScheduler cpu)
    {
        var api = WatchlistApi.Group(app, options).ProducesAccessProblems();
        var limits = ImageLimits.Default with { MaxPixels = options.MaxImagePixels };
        api.MapPost("/events/{id}/feedback", async Task<Results<Ok<VerdictAnswer>, ApiProblem>> (string id, HttpContext http) =>
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
            return TypedResults.Ok(VerdictAnswer.Of(feedback));
        }).ProducesProblem(400).ProducesProblem(404).ProducesProblem(413);

        // One click in the console: the face that decided a correct match becomes a template of that identity, if the
        // enrollment checks (one face, quality, size) accept it; 409 when the alert is not a correct match, 422 with the reason when refused.
        api.MapPost("/events/{id}/enroll", async Task<Results<Created<AlertEnrolledAnswer>, ApiProblem>> (string id, HttpContext http, CancellationToken cancel) =>
        {
            if (await EventsApi.Find(review, id) is not { } e)
            {
                return EventsApi.NotFound(id);
            }

            if (e.Kind != "match" || e.IdentityId is not { } identity)
            {
                return ApiProblems.Of(409, $"event '{id}' is a {e.Kind} event: only a match alert's face can be added to its identity");
            }

            var verdicts = await review.Store.FeedbackAsync([e.Id]);
            if (!verdicts.TryGetValue(e.Id, out var verdict) || verdict.Verdict != "correct")
            {
                return ApiProblems.Of(409, $"event '{id}' is not marked correct: mark the match correct before adding its face to {identity}");
            }

            if (e.Snapshot is not { } reference || await review.SnapshotAsync(reference) is not { } jpeg)
            {
                return ApiProblems.Of(409, $"event '{id}' has no snapshot left (Events:Snapshots off, erased, or deleted after its retention)");
            }

            if (WatchlistApi.AllowClosedEyes(http.Request.Query["allowClosedEyes"].FirstOrDefault()) is not { } allowClosedEyes)
            {
                return ApiProblems.BadRequest("allowClosedEyes must be true or false");
            }

            var (refusal, slot) = await WatchlistApi.Admit(jpeg, options, gate, cancel);
            using var held = slot;
            if (refusal is not null)
            {
                return refusal;
            }

            var result = await cpu.Run(() => enroller.EnrollAsync(identity, jpeg, $"alert {e.Id}", FacePick.Dominant, cancel, limits, allowClosedEyes), cancel);
            if (!result.Accepted)
            {
                return ApiProblems.Of(422, result.Reason ?? "snapshot refused");
            }

            await AuditLog.RecordAsync(http, $"added template {result.TemplateId} to {identity} from the snapshot of match event {e.Id} (camera {e.CameraId})");
            return TypedResults.Created((string?)null, new AlertEnrolledAnswer(result.TemplateId, identity, Math.Round(result.Quality, 3), result.Note));
        }).ProducesProblem(400).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422).ProducesProblem(429);

        api.MapGet("/audit", async Task<Results<Ok<List<AuditEntryAnswer>>, ApiProblem>> (int? limit) =>
        {
            if (limit is < 1 or > 10_000)
            {
                return ApiProblems.BadRequest("limit must be 1 to 10000");
            }

            var entries = await review.Store.AuditLogAsync(limit ?? 100);
            return TypedResults.Ok(entries.Select(AuditEntryAnswer.Of).ToList());
        }).ProducesProblem(400);
    }
}
