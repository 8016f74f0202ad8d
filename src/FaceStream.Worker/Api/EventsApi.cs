using System.Globalization;
using System.Text.Json.Nodes;
using FaceStream.Worker.Review;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace FaceStream.Worker.Api;

/// <summary>
/// GET /api/events[?limit=&amp;camera=&amp;identity=&amp;kind=&amp;since=&amp;until=] (newest first), GET /api/events/{id} and
/// GET /api/events/{id}/snapshot: the published events read back (this worker's recent ones, or the Redis Stream),
/// each with a <c>snapshot_url</c> fetched with the same token, and its verdict once one was given; and
/// DELETE /api/identities/{id}/snapshots (operators): erases the snapshots of that identity's events.
/// </summary>
public static class EventsApi
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 1000;

    public static void Map(IEndpointRouteBuilder app, ReviewServices review, ApiOptions options)
    {
        var api = WatchlistApi.Group(app, options).ProducesAccessProblems();
        api.MapGet("/events", async Task<Results<Ok<List<JsonObject>>, ApiProblem>> (HttpRequest request) =>
        {
            if (Query(request.Query) is not { } query)
            {
                return ApiProblems.BadRequest($"limit must be 1 to {MaxLimit}, kind one or more of match, unknown, camera_state (comma-separated), since/until ISO 8601 times");
            }

            var events = await review.History.ListAsync(query);
            return TypedResults.Ok(await WithFeedback(review, events));
        }).ProducesProblem(400);

        api.MapGet("/events/{id}", async Task<Results<Ok<JsonObject>, ApiProblem>> (string id) =>
            await Find(review, id) is { } e ? TypedResults.Ok((await WithFeedback(review, [e]))[0]) : NotFound(id)).ProducesProblem(404);

        api.MapGet("/events/{id}/snapshot", async (string id) =>
        {
            if (await Find(review, id) is not { } e)
            {
                return NotFound(id);
            }

            return e.Snapshot is { } reference && await review.SnapshotAsync(reference) is { } jpeg
                ? Results.File(jpeg, "image/jpeg")
                : ApiProblems.NotFound($"event '{id}' has no snapshot (Events:Snapshots off, erased, or deleted after its retention)");
        });

        // Erasure (a data-protection request): the snapshots of every event of this identity that the history still
        // holds; the console calls it before deleting the identity when the operator asks for it. Audited.
        api.MapDelete("/identities/{id}/snapshots", async Task<Ok<ErasureAnswer>> (string id, HttpContext http) =>
        {
            var events = await review.History.ListAsync(new EventQuery(int.MaxValue, Identity: id));
            int files = 0;
            foreach (var e in events.Where(e => e.Snapshot is not null))
            {
                files += await review.EraseSnapshotAsync(e.Snapshot!);
            }

            await Review.AuditLog.RecordAsync(http, $"erased the snapshots of identity {id}: {files} snapshot files or keys of {events.Count} events");
            return TypedResults.Ok(new ErasureAnswer(id, events.Count, files, review.History.Describe));
        });
    }

    /// <summary>The event, or null for an unknown or malformed id.</summary>
    internal static async Task<RecentEvent?> Find(ReviewServices review, string id) => Guid.TryParse(id, out var g) ? await review.History.FindAsync(g) : null;

    internal static ApiProblem NotFound(string id) => ApiProblems.NotFound($"no recent event '{id}'");

    /// <summary>Each event's JSON (the event schema) plus <c>snapshot_url</c> and <c>feedback</c> ({verdict, who, at} or null).</summary>
    internal static async Task<List<JsonObject>> WithFeedback(ReviewServices review, IReadOnlyList<RecentEvent> events)
    {
        var verdicts = await review.Store.FeedbackAsync(events.Select(e => e.Id).ToList());
        return events.Select(e =>
        {
            var o = JsonNode.Parse(e.Json)!.AsObject();
            o["snapshot_url"] = e.Snapshot is null ? null : $"/api/events/{e.Id}/snapshot";
            o["feedback"] = verdicts.TryGetValue(e.Id, out var f) ? new JsonObject { ["verdict"] = f.Verdict, ["who"] = f.Who, ["at"] = VerdictAnswer.Iso(f.At) } : null;
            return o;
        }).ToList();
    }

    /// <summary>The query string as a filter, or null when a value is malformed.</summary>
    internal static EventQuery? Query(IQueryCollection q)
    {
        int limit = DefaultLimit;
        if (q["limit"].FirstOrDefault() is { Length: > 0 } l && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            return null;
        }

        var kinds = (q["kind"].FirstOrDefault() ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (kinds.Any(k => k is not ("match" or "unknown" or "camera_state")))
        {
            return null;
        }

        DateTimeOffset? Time(string name, out bool bad)
        {
            bad = false;
            if (q[name].FirstOrDefault() is not { Length: > 0 } text)
            {
                return null;
            }

            bad = !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t);
            return bad ? null : t;
        }

        var since = Time("since", out bool badSince);
        var until = Time("until", out bool badUntil);
        if (badSince || badUntil)
        {
            return null;
        }

        static string? Text(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
        return new EventQuery(limit, Text(q["camera"].FirstOrDefault()), Text(q["identity"].FirstOrDefault()), kinds, since, until);
    }
}
