using System.Diagnostics;
using System.Threading.Channels;
using FaceStream.Core.Faces;
using FaceStream.Media.Video;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Metrics;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Pipeline;

/// <summary>
/// camera queues ─► detect: takes frames round-robin across cameras, nvstreammux-style (up to Pipeline:DetectBatchSize
/// frames, or whatever arrived within Pipeline:DetectBatchTimeout), runs the detector once per batch on a thread of its
/// own, and hands the batch on. While one batch is being searched, another starts only when a full batch is already
/// waiting (up to Pipeline:DetectBatchesInFlight at once): a node behind its cameras then fills the cores that one
/// batch's serial parts leave idle, and a node that keeps up keeps one batch's latency.
/// A camera is in one batch at a time, from the take until the gate releases the batch, so its frames are tracked in
/// order; in adaptive mode it gives a batch one frame, so each frame is planned with the tracks of its previous frame
/// (with several frames of a camera in one batch, the later ones were planned before the first was tracked, and a face
/// found by a whole pass was not looked for in the frames batched with it). Owns the frames taken until their release, the cameras in
/// flight and each camera's scan state (<see cref="CameraScans"/>: whole frames, or motion and track windows); the
/// release brings the gate's live tracks back.
/// </summary>
internal sealed class DetectStage(PipelineOptions options, CameraScans scans, CameraSupervisor cameras, FrameSignal frameArrived, PipelineMetrics metrics, ILogger log)
{
    public const string Name = "detect";
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(100);

    private readonly Prometheus.Histogram.Child _latency = metrics.StageLatency.WithLabels(Name);
    private readonly Prometheus.Histogram.Child _batchSize = metrics.StageBatchSize.WithLabels(Name);
    private readonly Prometheus.Gauge.Child _queueDepth = metrics.QueueDepth.WithLabels(Name);

    // Cameras whose frames are in a batch not yet released; touched by the loop and by batches ending, hence the lock.
    private readonly Lock _flight = new();
    private readonly HashSet<CameraFeed> _inFlight = [];
    private int _roundRobin;

    // The one wait for a frame, kept across loop turns: a wait given up would swallow the next frame's wake-up.
    private Task<bool>? _arrival;

    /// <summary>
    /// Runs until cancelled or, with Pipeline:StopWhenSourcesEnd, until every source has ended and its frames were
    /// taken; then lets the batches in flight finish and completes <paramref name="output"/> so that the later stages drain.
    /// </summary>
    public async Task RunAsync(ChannelWriter<DetectedBatch> output, CancellationToken cancel)
    {
        int slots = options.DetectBatchesInFlight;
        var threads = Enumerable.Range(1, slots).Select(i => new StageThread(slots == 1 ? "facestream-detect" : $"facestream-detect-{i}")).ToArray();
        var running = new Task?[slots];
        // The batches being searched and the wait for a frame, for Task.WhenAny without a new array per loop turn.
        var waits = new Task[slots + 1];
        var taken = new List<(CameraFeed Feed, VideoFrame Frame)>(options.DetectBatchSize);
        try
        {
            while (!cancel.IsCancellationRequested)
            {
                int free = -1, busy = 0;
                for (int i = 0; i < slots; i++)
                {
                    if (running[i] is { IsCompleted: true } done)
                    {
                        running[i] = null;
                        // A batch that failed stops the stage, as it did with one batch at a time.
                        await done;
                    }

                    if (running[i] is { } searching)
                    {
                        waits[busy++] = searching;
                    }
                    else if (free < 0)
                    {
                        free = i;
                    }
                }

                if (options.StopWhenSourcesEnd && cameras.AllFinished)
                {
                    log.SourcesEnded();
                    // The last batches' failures are this stage's too, not swallowed on the way out.
                    await Task.WhenAll(running.Where(t => t is not null)!);
                    return;
                }

                try
                {
                    bool started = free >= 0 && (busy == 0 ? await TakeBatchAsync(taken, cancel) : TakeFullBatch(taken));
                    if (started)
                    {
                        // The batch owns its list from here.
                        running[free] = SearchAsync(threads[free], taken, output, cancel);
                        taken = new List<(CameraFeed Feed, VideoFrame Frame)>(options.DetectBatchSize);
                    }
                    else if (busy > 0)
                    {
                        // A batch is being searched: wait for it to end, or for frames enough to start another.
                        waits[busy] = Arrival(cancel);
                        await Task.WhenAny(waits.AsSpan(0, busy + 1));
                    }
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                {
                    return;
                }
            }
        }
        finally
        {
            Release(taken);
            // Batches already handed on are released by the gate, which keeps reading until this stage's output completes.
            await Task.WhenAll(running.Where(t => t is not null)!).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            foreach (var t in threads)
            {
                t.Dispose();
            }

            output.TryComplete();
        }
    }

    /// <summary>One batch: searched on its thread, handed to the gate, its frames and cameras given back once the gate has read them.</summary>
    private async Task SearchAsync(StageThread thread, List<(CameraFeed Feed, VideoFrame Frame)> taken, ChannelWriter<DetectedBatch> output, CancellationToken cancel)
    {
        try
        {
            var batch = await DetectAsync(thread, taken);
            await output.WriteAsync(batch, cancel);
            // The gate reads the frames; they go back to the pool (finally, below) once it is done with them.
            scans.Observe(await batch.Released);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // Stopping: the frames go back below.
        }
        finally
        {
            Release(taken);
        }
    }

    private Task<bool> Arrival(CancellationToken cancel)
    {
        if (_arrival is { IsCompleted: true })
        {
            _arrival = null;
        }

        return _arrival ??= frameArrived.WaitAsync(IdlePoll, cancel);
    }

    /// <summary>
    /// Fills <paramref name="taken"/> when no batch is in flight: false when nothing arrived within the idle poll (time to
    /// look at the sources again).
    /// </summary>
    private async Task<bool> TakeBatchAsync(List<(CameraFeed, VideoFrame)> taken, CancellationToken cancel)
    {
        TakeFrames(taken);
        if (taken.Count == 0)
        {
            await Arrival(cancel);
            return false;
        }

        long deadline = Stopwatch.GetTimestamp() + (long)(options.DetectBatchTimeout.TotalSeconds * Stopwatch.Frequency);
        while (taken.Count < options.DetectBatchSize && !EveryCameraTaken())
        {
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (left <= TimeSpan.Zero)
            {
                break;
            }

            var arrival = Arrival(cancel);
            if (await Task.WhenAny(arrival, Task.Delay(left, cancel)) != arrival || !await arrival)
            {
                break;
            }

            TakeFrames(taken);
        }

        return true;
    }

    /// <summary>While another batch is searched: takes a batch only if a full one (Pipeline:DetectBatchSize frames) is waiting.</summary>
    private bool TakeFullBatch(List<(CameraFeed, VideoFrame)> taken)
    {
        lock (_flight)
        {
            int waiting = 0;
            foreach (var feed in cameras.Feeds)
            {
                if (!_inFlight.Contains(feed))
                {
                    waiting += scans.PlansFromTracks ? Math.Min(1, feed.Frames.Count) : feed.Frames.Count;
                }
            }

            if (waiting < options.DetectBatchSize)
            {
                return false;
            }

            TakeFrames(taken);
            return taken.Count > 0;
        }
    }

    /// <summary>
    /// Round-robin over the cameras not in a batch in flight, one frame each per pass, so a busy camera cannot starve the
    /// others; in adaptive mode one pass only (see the class). The cameras taken stay in flight until <see cref="Release"/>.
    /// </summary>
    private void TakeFrames(List<(CameraFeed Feed, VideoFrame)> taken)
    {
        var feeds = cameras.Feeds;
        lock (_flight)
        {
            bool tookAny = true;
            while (taken.Count < options.DetectBatchSize && tookAny && feeds.Count > 0)
            {
                tookAny = false;
                for (int i = 0; i < feeds.Count && taken.Count < options.DetectBatchSize; i++)
                {
                    var feed = feeds[(_roundRobin + i) % feeds.Count];
                    if (_inFlight.Contains(feed) && (scans.PlansFromTracks || !Holds(taken, feed)))
                    {
                        continue;
                    }

                    if (feed.Frames.TryRead(out var frame))
                    {
                        taken.Add((feed, frame));
                        _inFlight.Add(feed);
                        tookAny = true;
                    }
                }

                _roundRobin = (_roundRobin + 1) % feeds.Count;
            }

            _queueDepth.Set(feeds.Sum(f => f.Frames.Count));
        }
    }

    /// <summary>In adaptive mode, when every camera is in flight no frame can join the batch: waiting for one only adds latency.</summary>
    private bool EveryCameraTaken()
    {
        if (!scans.PlansFromTracks)
        {
            return false;
        }

        lock (_flight)
        {
            foreach (var feed in cameras.Feeds)
            {
                if (!_inFlight.Contains(feed))
                {
                    return false;
                }
            }

            return true;
        }
    }

    private static bool Holds(List<(CameraFeed Feed, VideoFrame)> taken, CameraFeed feed)
    {
        foreach (var (held, _) in taken)
        {
            if (held == feed)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Returns the frames to the pool and their cameras to the take (waking the loop when one has frames waiting).</summary>
    private void Release(List<(CameraFeed Feed, VideoFrame Frame)> taken)
    {
        if (taken.Count == 0)
        {
            return;
        }

        bool waiting = false;
        lock (_flight)
        {
            foreach (var (feed, _) in taken)
            {
                _inFlight.Remove(feed);
                waiting |= feed.Frames.Count > 0;
            }
        }

        foreach (var (_, frame) in taken)
        {
            frame.Dispose();
        }

        taken.Clear();
        if (waiting)
        {
            frameArrived.Set();
        }
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
