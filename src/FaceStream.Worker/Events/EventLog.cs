using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Events;

/// <summary>The event publisher's log lines, source-generated: a sink that is down can produce one per event.</summary>
internal static partial class EventLog
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "event sink {Sink} delivering again after {Failures} failed attempts")]
    public static partial void SinkRecovered(this ILogger log, string sink, long failures);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "event sink {Sink} failed ({Failures} attempts so far, {Buffered} events buffered, retrying): {Reason}")]
    public static partial void SinkFailed(this ILogger log, string sink, long failures, int buffered, string reason);

    [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "event {EventId} ({Kind}, camera {Camera}) lost for sink {Sink}: {Why}")]
    public static partial void EventLost(this ILogger log, Guid eventId, string kind, string camera, string sink, string why);
}
