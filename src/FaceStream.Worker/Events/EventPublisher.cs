using System.Threading.Channels;
using FaceStream.Worker.Metrics;
using Prometheus;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Events;

/// <summary>
/// Delivers every event to every sink, each sink on its own lane: a bounded buffer and a loop that retries a failing
/// sink with back-off, in order. A sink that is down never stalls analysis or the other sinks; events beyond a lane's
/// buffer, or still buffered when shutdown's drain time runs out, are counted as lost and logged, never dropped silently.
/// </summary>
public sealed class EventPublisher
{
    private const int LogEveryNthFailure = 100;
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(5);

    private readonly List<Lane> _lanes;
    private readonly PipelineMetrics _metrics;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _abandon = new();

    public EventPublisher(IReadOnlyList<IEventSink> sinks, PipelineMetrics metrics, ILogger log, int bufferSize = 10_000)
    {
        _metrics = metrics;
        _log = log;
        _lanes = sinks.Select(s =>
        {
            // Every sink's series exist at 0 from the start, so rate()/increase() and the alerts see the first count.
            var counters = new SinkCounters(metrics.EventsDelivered.WithLabels(s.Name), metrics.EventsFailed.WithLabels(s.Name), metrics.EventsLost.WithLabels(s.Name));
            return new Lane(s, Channel.CreateBounded<FaceEvent>(
                new BoundedChannelOptions(bufferSize) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite },
                lost => Lost(s, counters, lost, "buffer full")), counters);
        }).ToList();
    }

    /// <summary>Cluster mode: stamps each event with its camera's <see cref="EventOrigin"/> (worker id, lease epoch) as it is published.</summary>
    public Func<string, EventOrigin>? Origin { get; set; }

    public void Publish(FaceEvent e)
    {
        if (Origin is { } origin)
        {
            e = e with { Origin = origin(e.CameraId) };
        }

        _metrics.Events.WithLabels(e.CameraId, EventJson.Kind(e.Kind)).Inc();
        foreach (var lane in _lanes)
        {
            if (!lane.Queue.Writer.TryWrite(e) && lane.Queue.Reader.Completion.IsCompleted)
            {
                Lost(lane, e, "published after shutdown");
            }
        }
    }

    /// <summary>Delivers until <see cref="Complete"/> was called and every lane is empty (or <see cref="Abandon"/>).</summary>
    public Task RunAsync() => Task.WhenAll(_lanes.Select(l => Task.Run(() => DeliverAsync(l))));

    /// <summary>No more events; lanes finish what they hold.</summary>
    public void Complete()
    {
        foreach (var lane in _lanes)
        {
            lane.Queue.Writer.TryComplete();
        }
    }

    /// <summary>Stops retrying: whatever is still buffered is counted as lost.</summary>
    public void Abandon() => _abandon.Cancel();

    private async Task DeliverAsync(Lane lane)
    {
        long failures = 0;
        await foreach (var e in lane.Queue.Reader.ReadAllAsync())
        {
            var delay = FirstRetry;
            while (true)
            {
                if (_abandon.IsCancellationRequested)
                {
                    Lost(lane, e, "shutdown before the sink recovered");
                    break;
                }

                try
                {
                    await lane.Sink.PublishAsync(e, _abandon.Token);
                    lane.Counters.Delivered.Inc();
                    if (failures > 0)
                    {
                        _log.SinkRecovered(lane.Sink.Name, failures);
                        failures = 0;
                    }

                    break;
                }
                catch (OperationCanceledException) when (_abandon.IsCancellationRequested)
                {
                    continue;
                }
                catch (Exception ex) when (ex is IOException or InvalidOperationException or TimeoutException or ObjectDisposedException or OperationCanceledException)
                {
                    lane.Counters.Failed.Inc();
                    if (failures++ % LogEveryNthFailure == 0)
                    {
                        _log.SinkFailed(lane.Sink.Name, failures, lane.Queue.Reader.Count + 1, ex.Message);
                    }

                    try
                    {
                        await Task.Delay(delay, _abandon.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        // abandoned: counted as lost on the next pass
                    }

                    delay = TimeSpan.FromTicks(Math.Min(LastRetry.Ticks, delay.Ticks * 2));
                }
                catch (Exception ex)
                {
                    // Not a transport failure (a bug, or an event the sink refuses): retrying would not help, and letting
                    // it escape would end this lane silently for every later event. Counted, logged, next event.
                    lane.Counters.Failed.Inc();
                    Lost(lane, e, $"the sink refused it ({ex.GetType().Name}: {ex.Message})");
                    break;
                }
            }
        }
    }

    private void Lost(Lane lane, FaceEvent e, string why) => Lost(lane.Sink, lane.Counters, e, why);

    private void Lost(IEventSink sink, SinkCounters counters, FaceEvent e, string why)
    {
        counters.Lost.Inc();
        _log.EventLost(e.EventId, EventJson.Kind(e.Kind), e.CameraId, sink.Name, why);
    }

    private sealed record Lane(IEventSink Sink, Channel<FaceEvent> Queue, SinkCounters Counters);

    /// <summary>One sink's series (facestream_events_{delivered,failed,lost}_total{sink}), looked up once.</summary>
    private sealed record SinkCounters(Counter.Child Delivered, Counter.Child Failed, Counter.Child Lost);
}
