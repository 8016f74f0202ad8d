using System.Threading.Channels;
using FaceStream.Worker.Metrics;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Events;

/// <summary>Hands events to every sink off the pipeline's threads; a slow or failing sink never stalls analysis.</summary>
/// <remarks>The queue is bounded: events beyond it are counted as lost and logged, never dropped silently.</remarks>
public sealed class EventPublisher
{
    private const int LogEveryNthFailure = 100;

    private readonly Channel<FaceEvent> _queue;
    private readonly IReadOnlyList<IEventSink> _sinks;
    private readonly PipelineMetrics _metrics;
    private readonly ILogger _log;
    private long _failures;

    public EventPublisher(IReadOnlyList<IEventSink> sinks, PipelineMetrics metrics, ILogger log, int capacity = 10_000)
    {
        _sinks = sinks;
        _metrics = metrics;
        _log = log;
        _queue = Channel.CreateBounded<FaceEvent>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite }, lost =>
        {
            _metrics.EventsFailed.WithLabels("queue").Inc();
            _log.LogError("event queue full: {Kind} event of camera {Camera} lost", lost.Kind, lost.CameraId);
        });
    }

    public void Publish(FaceEvent e)
    {
        if (!_queue.Writer.TryWrite(e))
        {
            _metrics.EventsFailed.WithLabels("closed").Inc();
            _log.LogWarning("event {Kind} of camera {Camera} published after shutdown; not delivered", e.Kind, e.CameraId);
        }
    }

    /// <summary>Delivers until <see cref="Complete"/> is called and the queue is empty.</summary>
    public async Task RunAsync()
    {
        await foreach (var e in _queue.Reader.ReadAllAsync())
        {
            _metrics.Events.WithLabels(e.CameraId, e.Kind.ToString().ToLowerInvariant()).Inc();
            foreach (var sink in _sinks)
            {
                try
                {
                    await sink.PublishAsync(e, CancellationToken.None);
                }
                catch (Exception ex) when (ex is IOException or InvalidOperationException or TimeoutException or ObjectDisposedException)
                {
                    _metrics.EventsFailed.WithLabels(sink.Name).Inc();
                    if (Interlocked.Increment(ref _failures) % LogEveryNthFailure == 1)
                    {
                        _log.LogError("event sink {Sink} failed ({Failures} failures so far): {Reason}", sink.Name, _failures, ex.Message);
                    }
                }
            }
        }
    }

    public void Complete() => _queue.Writer.TryComplete();
}
