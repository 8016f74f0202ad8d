using System.Threading.Channels;
using FaceStream.Worker.Events;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Pipeline;

/// <summary>
/// decide ─► publish ─► sinks: stores each decision's snapshot (when a snapshot store is configured) and hands the event
/// to the <see cref="EventPublisher"/>, whose per-sink lanes deliver it. Slow snapshot storage holds up this stage only.
/// </summary>
internal sealed class PublishStage(ISnapshotStore? snapshots, EventPublisher events, ILogger log)
{
    /// <summary>Until <paramref name="input"/> completes and every decision in it was handed to the sinks' lanes.</summary>
    public async Task RunAsync(ChannelReader<Decision> input)
    {
        await foreach (var decision in input.ReadAllAsync())
        {
            var e = decision.Event;
            events.Publish(snapshots is null ? e : e with { Snapshot = await SaveSnapshotAsync(decision) });
        }
    }

    private async Task<string?> SaveSnapshotAsync(Decision d)
    {
        try
        {
            return await snapshots!.SaveAsync(d.Event.EventId, d.Event.CameraId, d.Event.DecisionTimestamp, d.FaceJpeg, d.FrameJpeg);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or StackExchange.Redis.RedisException)
        {
            // The event matters more than its picture: publish without a snapshot.
            log.SnapshotNotSaved(d.Event.EventId, e.Message);
            return null;
        }
    }
}
