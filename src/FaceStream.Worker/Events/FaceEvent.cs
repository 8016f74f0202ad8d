using FaceStream.Core.Faces;

namespace FaceStream.Worker.Events;

/// <summary>What an event reports.</summary>
public enum EventKind
{
    /// <summary>A watchlist identity was recognised on a track.</summary>
    Match,

    /// <summary>A track's face matches nobody on the watchlist (only when Decision:ReportUnknown is on).</summary>
    Unknown,

    /// <summary>A camera changed state (streaming, stalled, reconnecting, completed, failed).</summary>
    CameraState,
}

/// <summary>One published event; serialised by <see cref="EventJson"/> (schema in docs/event.schema.json).</summary>
public sealed record FaceEvent(
    Guid EventId,
    EventKind Kind,
    string CameraId,
    long? TrackId,
    string? IdentityId,
    string? IdentityName,
    float? Similarity,
    float? Margin,
    DetectedFace? Face,
    DateTimeOffset FrameTimestamp,
    TimeSpan? MediaTime,
    DateTimeOffset DecisionTimestamp,
    string? ModelId,
    string? CameraState,
    string? Reason,
    string? Snapshot);
