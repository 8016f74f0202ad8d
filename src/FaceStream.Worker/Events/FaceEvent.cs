using FaceStream.Core.Attributes;
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

/// <summary>
/// One published event; serialised by <see cref="EventJson"/> (schema in docs/event.schema.json). A closed set:
/// <see cref="MatchEvent"/>, <see cref="UnknownEvent"/> (both <see cref="TrackEvent"/>) and <see cref="CameraStateEvent"/>.
/// </summary>
public abstract record FaceEvent
{
    private protected FaceEvent(Guid eventId, string cameraId, DateTimeOffset frameTimestamp, DateTimeOffset decisionTimestamp)
    {
        EventId = eventId;
        CameraId = cameraId;
        FrameTimestamp = frameTimestamp;
        DecisionTimestamp = decisionTimestamp;
    }

    public Guid EventId { get; init; }

    public abstract EventKind Kind { get; }

    public string CameraId { get; init; }

    /// <summary>When the frame was captured (camera-state events: when the state changed).</summary>
    public DateTimeOffset FrameTimestamp { get; init; }

    public DateTimeOffset DecisionTimestamp { get; init; }

    /// <summary>Cluster mode: the worker that published it and its lease epoch on the camera (null in single-node mode).</summary>
    public EventOrigin? Origin { get; init; }
}

/// <summary>Who published an event in cluster mode: a consumer drops events whose epoch is below the camera's highest seen (a worker that lost its lease while paused).</summary>
public readonly record struct EventOrigin(string WorkerId, long? LeaseEpoch);

/// <summary>A decision about one track: who it is (<see cref="MatchEvent"/>) or that it is nobody known (<see cref="UnknownEvent"/>).</summary>
/// <param name="Similarity">The best view's top-1 similarity.</param>
/// <param name="Margin">Its lead over the next identity.</param>
/// <param name="Face">The decisive view's box, score and landmarks, in frame pixels.</param>
/// <param name="MediaTime">Position in the file, or time since a live source's first frame.</param>
/// <param name="ModelId">The embedder whose templates were compared.</param>
public abstract record TrackEvent : FaceEvent
{
    private protected TrackEvent(Guid eventId, string cameraId, long trackId, float similarity, float margin, DetectedFace face,
        DateTimeOffset frameTimestamp, TimeSpan mediaTime, DateTimeOffset decisionTimestamp, string modelId)
        : base(eventId, cameraId, frameTimestamp, decisionTimestamp)
    {
        TrackId = trackId;
        Similarity = similarity;
        Margin = margin;
        Face = face;
        MediaTime = mediaTime;
        ModelId = modelId;
    }

    public long TrackId { get; init; }

    public float Similarity { get; init; }

    public float Margin { get; init; }

    public DetectedFace Face { get; init; }

    public TimeSpan MediaTime { get; init; }

    public string ModelId { get; init; }

    /// <summary>Where the snapshot was stored (a file: URI or a Redis key), null without snapshots or when saving failed.</summary>
    public string? Snapshot { get; init; }

    /// <summary>The view's face attributes; null with Events:Attributes off or when the attribute models failed on its batch.</summary>
    public EventAttributes? Attributes { get; init; }
}

/// <summary>Face attributes of an event's view, with the model behind each and which of them are experimental (docs/attributes.md).</summary>
public sealed record EventAttributes(FaceAttributes Values, IReadOnlyList<AttributeSource> Sources);

/// <summary>A watchlist identity was recognised on a track (once per track; the cooldown quiets repeats per camera).</summary>
public sealed record MatchEvent(
    Guid EventId, string CameraId, long TrackId, string IdentityId, string IdentityName, float Similarity, float Margin, DetectedFace Face,
    DateTimeOffset FrameTimestamp, TimeSpan MediaTime, DateTimeOffset DecisionTimestamp, string ModelId)
    : TrackEvent(EventId, CameraId, TrackId, Similarity, Margin, Face, FrameTimestamp, MediaTime, DecisionTimestamp, ModelId)
{
    public override EventKind Kind => EventKind.Match;
}

/// <summary>A track's views matched nobody (Decision:ReportUnknown); the evidence is its best-quality view.</summary>
public sealed record UnknownEvent(
    Guid EventId, string CameraId, long TrackId, float Similarity, float Margin, DetectedFace Face,
    DateTimeOffset FrameTimestamp, TimeSpan MediaTime, DateTimeOffset DecisionTimestamp, string ModelId)
    : TrackEvent(EventId, CameraId, TrackId, Similarity, Margin, Face, FrameTimestamp, MediaTime, DecisionTimestamp, ModelId)
{
    public override EventKind Kind => EventKind.Unknown;
}

/// <summary>A camera changed state; <paramref name="State"/> is the lower-case state name, <paramref name="Reason"/> why (or null).</summary>
public sealed record CameraStateEvent(Guid EventId, string CameraId, DateTimeOffset At, string State, string? Reason)
    : FaceEvent(EventId, CameraId, At, At)
{
    public override EventKind Kind => EventKind.CameraState;
}
