using System.Threading.Channels;
using FaceStream.Media.Video;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Metrics;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Pipeline;

/// <summary>One start of one camera inside the pipeline: its source and its bounded frame queue (owned by the camera supervisor).</summary>
internal sealed class CameraFeed
{
    private readonly CancellationTokenSource _stop = new();
    private int _stopped;

    public CameraFeed(CameraOptions options, long generation, int queueCapacity, VideoFramePool pool, PipelineMetrics metrics, Action frameArrived, ILogger logger)
    {
        Options = options;
        Ref = new CameraRef(options.Id, generation, new CameraMetrics(metrics, options.Id), options.MinFaceSize);
        Fingerprint = WorkerSettings.Fingerprint(options);
        Source = new VideoSource(options, pool, logger);
        // Live: keep the newest frames, return the dropped ones' buffers and count them. Files: wait (deterministic, complete).
        var channelOptions = new BoundedChannelOptions(queueCapacity)
        {
            SingleWriter = true,
            SingleReader = true,
            FullMode = Source.IsLive ? BoundedChannelFullMode.DropOldest : BoundedChannelFullMode.Wait,
        };
        var channel = Channel.CreateBounded<VideoFrame>(channelOptions, dropped =>
        {
            dropped.Dispose();
            Metrics.FramesDropped.Inc();
        });
        Frames = channel.Reader;
        Writer = new SignallingWriter(channel.Writer, frameArrived);
    }

    public CameraOptions Options { get; }

    /// <summary>This start of the camera as later stages know it (its id, generation and metric series).</summary>
    public CameraRef Ref { get; }

    /// <summary>This camera's metric series.</summary>
    public CameraMetrics Metrics => Ref.Metrics;

    public string Id => Options.Id;

    public string Fingerprint { get; }

    public VideoSource Source { get; }

    public ChannelReader<VideoFrame> Frames { get; }

    private SignallingWriter Writer { get; }

    public Task? Running { get; private set; }

    /// <summary>The source has ended (file done or failed) and every queued frame was taken.</summary>
    public bool Finished => Running is { IsCompleted: true } && Frames.Count == 0;

    public void Start(ILogger logger)
    {
        Running = Task.Run(async () =>
        {
            try
            {
                await Source.RunAsync(Writer, _stop.Token);
            }
            catch (VideoSourceException e)
            {
                // Already logged and raised as a state change by the source; the other cameras carry on.
                logger.LogDebug("camera {Camera} ended: {Reason}", Id, e.Message);
            }
            catch (Exception e)
            {
                logger.LogError(e, "camera {Camera} failed unexpectedly; the other cameras carry on", Id);
            }
        });
    }

    /// <param name="forgetMetrics">Remove this camera's metric series (it left the config); at shutdown they stay readable.</param>
    public async Task StopAsync(TimeSpan timeout, bool forgetMetrics = false)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        if (Running is not null)
        {
            await Running.WaitAsync(timeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        while (Frames.TryRead(out var left))
        {
            left.Dispose();
        }

        if (forgetMetrics)
        {
            Metrics.Remove();
        }
        _stop.Dispose();
    }

    /// <summary>Wakes the detection stage when a frame arrives, so batching across cameras needs no polling.</summary>
    private sealed class SignallingWriter(ChannelWriter<VideoFrame> inner, Action signal) : ChannelWriter<VideoFrame>
    {
        public override bool TryWrite(VideoFrame item)
        {
            if (!inner.TryWrite(item))
            {
                return false;
            }

            signal();
            return true;
        }

        public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default) => inner.WaitToWriteAsync(cancellationToken);

        public override bool TryComplete(Exception? error = null) => inner.TryComplete(error);
    }
}
