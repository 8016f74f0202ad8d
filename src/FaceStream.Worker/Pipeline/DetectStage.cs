using System.Diagnostics;
using System.Threading.Channels;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Media.Video;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Metrics;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Pipeline;

/// <summary>
/// camera queues ─► detect: takes frames round-robin across cameras, nvstreammux-style (up to Pipeline:DetectBatchSize
/// frames, or whatever arrived within Pipeline:DetectBatchTimeout), runs the detector once per batch on a thread of its
/// own, and hands the batch on. Owns the frames it took until the next stage releases them, and each camera's scan
/// state (<see cref="CameraScans"/>: whole frames, or motion and track windows); the release brings the gate's live tracks back.
/// </summary>
internal sealed class DetectStage(PipelineOptions options, CameraScans scans, CameraSupervisor cameras, FrameSignal frameArrived, PipelineMetrics metrics, ILogger log)
{
    public const string Name = "detect";
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(100);

    private readonly Prometheus.Histogram.Child _latency = metrics.StageLatency.WithLabels(Name);
    private readonly Prometheus.Histogram.Child _batchSize = metrics.StageBatchSize.WithLabels(Name);
    private readonly Prometheus.Gauge.Child _queueDepth = metrics.QueueDepth.WithLabels(Name);
    private int _roundRobin;

    /// <summary>
    /// Runs until cancelled or, with Pipeline:StopWhenSourcesEnd, until every source has ended and its frames were
    /// taken; then completes <paramref name="output"/> so that the later stages drain.
    /// </summary>
    public async Task RunAsync(ChannelWriter<DetectedBatch> output, CancellationToken cancel)
    {
        using var thread = new StageThread("facestream-detect");
        var taken = new List<(CameraFeed Feed, VideoFrame Frame)>(options.DetectBatchSize);
        try
        {
            while (!cancel.IsCancellationRequested)
            {
                if (options.StopWhenSourcesEnd && cameras.AllFinished)
                {
                    log.SourcesEnded();
                    return;
                }

                try
                {
                    if (await TakeBatchAsync(taken, cancel))
                    {
                        var batch = await DetectAsync(thread, taken);
                        await output.WriteAsync(batch, cancel);
                        // The gate reads the frames; they go back to the pool (finally, below) once it is done with them.
                        scans.Observe(await batch.Released);
                    }
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                {
                    return;
                }
                finally
                {
                    foreach (var (_, frame) in taken)
                    {
                        frame.Dispose();
                    }

                    taken.Clear();
                }
            }
        }
        finally
        {
            output.TryComplete();
        }
    }

    /// <summary>Fills <paramref name="taken"/>: false when nothing arrived within the idle poll (time to look at the sources again).</summary>
    private async Task<bool> TakeBatchAsync(List<(CameraFeed, VideoFrame)> taken, CancellationToken cancel)
    {
        TakeFrames(taken);
        if (taken.Count == 0)
        {
            await frameArrived.WaitAsync(IdlePoll, cancel);
            return false;
        }

        long deadline = Stopwatch.GetTimestamp() + (long)(options.DetectBatchTimeout.TotalSeconds * Stopwatch.Frequency);
        while (taken.Count < options.DetectBatchSize)
        {
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (left <= TimeSpan.Zero || !await frameArrived.WaitAsync(left, cancel))
            {
                break;
            }

            TakeFrames(taken);
        }

        return true;
    }

    /// <summary>Round-robin over the cameras, one frame each per pass, so a busy camera cannot starve the others.</summary>
    private void TakeFrames(List<(CameraFeed, VideoFrame)> taken)
    {
        var feeds = cameras.Feeds;
        bool tookAny = true;
        while (taken.Count < options.DetectBatchSize && tookAny && feeds.Count > 0)
        {
            tookAny = false;
            for (int i = 0; i < feeds.Count && taken.Count < options.DetectBatchSize; i++)
            {
                var feed = feeds[(_roundRobin + i) % feeds.Count];
                if (feed.Frames.TryRead(out var frame))
                {
                    taken.Add((feed, frame));
                    tookAny = true;
                }
            }

            _roundRobin = (_roundRobin + 1) % feeds.Count;
        }

        _queueDepth.Set(feeds.Sum(f => f.Frames.Count));
    }

    private async Task<DetectedBatch> DetectAsync(StageThread thread, List<(CameraFeed Feed, VideoFrame Frame)> taken)
    {
        long start = Stopwatch.GetTimestamp();
        var frames = taken.Select(t => new FrameToScan(t.Feed.Ref, t.Frame.Image, t.Frame.Timestamp, t.Feed.Source.Stats.Reconnects)).ToList();
        var detections = await thread.RunAsync(() => scans.Detect(frames));
        _latency.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
        _batchSize.Observe(taken.Count);
        var detected = new DetectedFrame[taken.Count];
        for (int i = 0; i < taken.Count; i++)
        {
            var (feed, frame) = taken[i];
            IReadOnlyList<DetectedFace> faces = detections[i];
            feed.Metrics.FramesAnalysed.Inc();
            feed.Metrics.FacesDetected.Inc(faces.Count);
            detected[i] = new DetectedFrame(feed.Ref, frame.Image, frame.Timestamp, frame.MediaTime, frame.DeliveredTicks, faces);
        }

        return new DetectedBatch(detected);
    }
}
