using System.Diagnostics;
using System.Threading.Channels;
using FaceStream.Inference.Attributes;
using FaceStream.Worker.Events;
using FaceStream.Worker.Metrics;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Pipeline;

/// <summary>
/// decide ─► describe ─► publish: with an attribute analyser (Events:Attributes), reads the face attributes of the view
/// each event shows, once per event, for the decisions waiting together (up to Pipeline:EmbedBatchSize) in one analyser
/// call on a thread of its own; then returns the views' crops and hands the decisions on without them. A track costs one
/// analysis at most, however many of its views were embedded. Holds no per-track state.
/// </summary>
/// <param name="attributes">Null: the events go on without attributes (the crops are still returned).</param>
internal sealed class DescribeStage(FaceAttributeAnalyzer? attributes, int batchSize, PipelineMetrics metrics, ILogger log)
{
    public const string Name = "describe";

    private readonly Prometheus.Histogram.Child _latency = metrics.StageLatency.WithLabels(Name);
    private readonly Prometheus.Histogram.Child _batchSize = metrics.StageBatchSize.WithLabels(Name);
    private readonly Prometheus.Gauge.Child _queueDepth = metrics.QueueDepth.WithLabels(Name);

    /// <summary>Until <paramref name="input"/> completes and is drained; then completes <paramref name="output"/>.</summary>
    /// <param name="abandon">Set when shutdown's drain time is over: the decisions still queued go on without attributes and no new analysis starts.</param>
    public async Task RunAsync(ChannelReader<Decision> input, ChannelWriter<Decision> output, CancellationToken abandon = default)
    {
        using var thread = attributes is null ? null : new StageThread("facestream-describe");
        var batch = new List<Decision>(batchSize);
        try
        {
            while (await input.WaitToReadAsync())
            {
                // Events are few (one per track at most): no waiting for more, only what is already there.
                while (batch.Count < batchSize && input.TryRead(out var d))
                {
                    batch.Add(d);
                }

                _queueDepth.Set(input.Count);
                foreach (var decision in await DescribeAsync(thread, batch, abandon))
                {
                    await output.WriteAsync(decision);
                }

                batch.Clear();
            }
        }
        finally
        {
            output.TryComplete();
        }
    }

    /// <summary>The decisions, their events with attributes (null without an analyser, when abandoned, or when it failed: logged), without their crops (disposed).</summary>
    internal async Task<IReadOnlyList<Decision>> DescribeAsync(StageThread? thread, IReadOnlyList<Decision> batch, CancellationToken abandon = default)
    {
        try
        {
            var described = thread is null || abandon.IsCancellationRequested ? null : await AnalyseAsync(thread, batch, abandon);
            return batch.Select((d, i) => d with { Event = d.Event with { Attributes = described?[i] }, Crop = null }).ToList();
        }
        finally
        {
            foreach (var d in batch)
            {
                d.Crop?.Dispose();
            }
        }
    }

    private async Task<IReadOnlyList<EventAttributes>?> AnalyseAsync(StageThread thread, IReadOnlyList<Decision> batch, CancellationToken abandon)
    {
        var faces = batch.Select(d => d.Crop is { } c ? (c.Image, c.Face) : throw new ArgumentException("the describe stage takes decisions with the crop of the view their event shows"))
            .ToList();
        try
        {
            long start = Stopwatch.GetTimestamp();
            var values = await thread.RunAsync(() => attributes!.Analyze(faces, abandon));
            _latency.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
            _batchSize.Observe(batch.Count);
            foreach (var d in batch)
            {
                metrics.AttributesAnalysed.WithLabels(d.Event.CameraId).Inc();
            }

            return values.Select(a => new EventAttributes(a, attributes!.Sources)).ToList();
        }
        catch (OperationCanceledException) when (abandon.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            log.AttributesFailed(e, batch.Count);
            return null;
        }
    }
}
