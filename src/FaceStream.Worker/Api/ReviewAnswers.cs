using System.Globalization;
using System.Text.Json.Serialization;
using FaceStream.Worker.Pipeline;
using FaceStream.Worker.Review;

namespace FaceStream.Worker.Api;

// The bodies of the review console's answers (ConsoleApi, FeedbackApi, EventsApi). Member names are the wire names
// (snake_case), fixed here so that the JSON stays what the console already reads, whatever the host's naming policy.

/// <summary>The caller's role (GET /api/me).</summary>
public sealed record CallerAnswer(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("who")] string Who,
    [property: JsonPropertyName("may_change")] bool MayChange)
{
    public static CallerAnswer Of(ApiCaller caller) => new(caller.RoleName, caller.Who, caller.MayChange);
}

/// <summary>One camera this worker runs, as the console's camera page lists it (GET /api/console/cameras).</summary>
public sealed record ConsoleCameraAnswer(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("analysed_fps")] double? AnalysedFps,
    [property: JsonPropertyName("last_frame_age_s")] double? LastFrameAgeSeconds,
    [property: JsonPropertyName("frames_decoded")] long FramesDecoded,
    [property: JsonPropertyName("reconnects")] long Reconnects,
    [property: JsonPropertyName("width")] int? Width,
    [property: JsonPropertyName("height")] int? Height,
    [property: JsonPropertyName("last_error")] string? LastError)
{
    public static ConsoleCameraAnswer Of(CameraStatus c, double? analysedFps, DateTimeOffset now) => new(
        c.Id, c.State.ToString().ToLowerInvariant(), analysedFps,
        c.Stats.LastFrameAt is { } at ? Math.Round((now - at).TotalSeconds, 1) : null,
        c.Stats.FramesDecoded, c.Stats.Reconnects, c.Info?.Width, c.Info?.Height, c.LastError);
}

/// <summary>A stored verdict (POST /api/events/{id}/feedback); <c>at</c> in ISO 8601 UTC.</summary>
public sealed record VerdictAnswer(
    [property: JsonPropertyName("event_id")] Guid EventId,
    [property: JsonPropertyName("verdict")] string Verdict,
    [property: JsonPropertyName("who")] string Who,
    [property: JsonPropertyName("at")] string At)
{
    public static VerdictAnswer Of(Feedback f) => new(f.EventId, f.Verdict, f.Who, Iso(f.At));

    internal static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
}

/// <summary>A match alert's face added to its identity (POST /api/events/{id}/enroll, 201).</summary>
public sealed record AlertEnrolledAnswer(
    [property: JsonPropertyName("template_id")] string? TemplateId,
    [property: JsonPropertyName("identity_id")] string IdentityId,
    [property: JsonPropertyName("quality")] double Quality,
    [property: JsonPropertyName("note")] string? Note);

/// <summary>One audit log entry (GET /api/audit), newest first; <c>at</c> in ISO 8601 UTC.</summary>
public sealed record AuditEntryAnswer(
    [property: JsonPropertyName("at")] string At,
    [property: JsonPropertyName("who")] string Who,
    [property: JsonPropertyName("what")] string What)
{
    public static AuditEntryAnswer Of(AuditEntry a) => new(VerdictAnswer.Iso(a.At), a.Who, a.What);
}

/// <summary>An erasure's outcome (DELETE /api/identities/{id}/snapshots): events found, snapshot files or keys deleted, and where it searched.</summary>
public sealed record ErasureAnswer(
    [property: JsonPropertyName("identity_id")] string IdentityId,
    [property: JsonPropertyName("events")] int Events,
    [property: JsonPropertyName("snapshots_deleted")] int SnapshotsDeleted,
    [property: JsonPropertyName("searched")] string Searched);
