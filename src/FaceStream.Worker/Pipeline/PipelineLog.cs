using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Pipeline;

/// <summary>The pipeline's log lines, source-generated (no boxing or formatting unless the level is on): some can come once per batch or event.</summary>
internal static partial class PipelineLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "camera {Camera}: {Action}")]
    public static partial void CameraChanged(this ILogger log, string camera, string action);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "camera {Camera}: started ({Url})")]
    public static partial void CameraStarted(this ILogger log, string camera, string url);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "every source has ended; finishing")]
    public static partial void SourcesEnded(this ILogger log);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "tracking a batch of {Count} frames failed; their faces are skipped")]
    public static partial void TrackingFailed(this ILogger log, Exception e, int count);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "embedding a batch of {Count} faces failed; they are skipped")]
    public static partial void EmbeddingFailed(this ILogger log, Exception e, int count);

    [LoggerMessage(EventId = 6, Level = LogLevel.Error, Message = "snapshot for event {EventId} not saved: {Reason}")]
    public static partial void SnapshotNotSaved(this ILogger log, Guid eventId, string reason);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "shutdown: analysis did not drain within {Timeout}; {Left} faces not decided")]
    public static partial void AnalysisNotDrained(this ILogger log, TimeSpan timeout, int left);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "shutdown: events not flushed within {Timeout}; the rest are counted as lost")]
    public static partial void EventsNotFlushed(this ILogger log, TimeSpan timeout);

    [LoggerMessage(EventId = 13, Level = LogLevel.Error, Message = "face attributes of a batch of {Count} faces failed; their events go without attributes")]
    public static partial void AttributesFailed(this ILogger log, Exception e, int count);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "camera {Camera}: console preview not encoded")]
    public static partial void PreviewFailed(this ILogger log, Exception e, string camera);

    [LoggerMessage(EventId = 15, Level = LogLevel.Information, Message = "pre-screen on: {Member} alone looks at each view first; views scoring below {Cut:F3} against every watchlist template skip the full {Embedder}")]
    public static partial void PreScreenOn(this ILogger log, string member, float cut, string embedder);

    [LoggerMessage(EventId = 16, Level = LogLevel.Information, Message = "cameras search faces from {MinFace} px (the larger of Detector:Mtcnn:MinFaceSize {Detector} and Quality:MinFaceSize {Quality}: smaller faces are never embedded); uploads from {Detector} px")]
    public static partial void CamerasSearchFrom(this ILogger log, float minFace, int detector, float quality);
}
