using System.Collections.Concurrent;
using System.Threading.Channels;
using FaceStream.Media.Video;
using FaceStream.Tests.Support;
using Microsoft.Extensions.Logging;
using FaceStream.Tests.Worker;
using Xunit;

namespace FaceStream.Tests.Media;

/// <summary>A source running against the real RTSP test server: kill, restart, freeze, several cameras at once.</summary>
[Trait("Category", "Live")]
public sealed class LiveSourceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>A running source with everything it reported; frames are counted and returned at once.</summary>
    private sealed class Running : IAsyncDisposable
    {
        private readonly CancellationTokenSource _cancel = new();
        private readonly Task _run;
        private readonly Task _consume;
        private long _frames;

        /// <param name="fullMode">Live cameras drop the oldest frame when the consumer lags; a file waits (as in the worker), so
        /// every frame of it arrives however busy the machine is.</param>
        public Running(VideoSourceOptions options, ILogger? logger = null, BoundedChannelFullMode fullMode = BoundedChannelFullMode.DropOldest)
        {
            Pool = new VideoFramePool();
            Source = new VideoSource(options, Pool, logger);
            Source.StateChanged += c => Changes.Enqueue(c);
            var channel = System.Threading.Channels.Channel.CreateBounded<VideoFrame>(new BoundedChannelOptions(2) { FullMode = fullMode }, f => f.Dispose());
            _run = Source.RunAsync(channel.Writer, _cancel.Token);
            _consume = Task.Run(async () =>
            {
                await foreach (var f in channel.Reader.ReadAllAsync())
                {
                    f.Dispose();
                    Interlocked.Increment(ref _frames);
                }
            });
            Channel = channel;
        }

        public VideoFramePool Pool { get; }

        public VideoSource Source { get; }

        public Channel<VideoFrame> Channel { get; }

        public ConcurrentQueue<SourceStateChange> Changes { get; } = new();

        public long Frames => Interlocked.Read(ref _frames);

        public bool Saw(SourceState state) => Changes.Any(c => c.To == state);

        /// <summary>For failure messages.</summary>
        public string Describe() =>
            $"{Source.State}, {Frames} frames, last error '{Source.LastError}', changes: {string.Join(" → ", Changes.TakeLast(6).Select(c => $"{c.To} ({c.Reason})"))}";

        public async Task StopAsync()
        {
            await _cancel.CancelAsync();
            await _run.WaitAsync(Patience);
            Channel.Writer.TryComplete();
            await _consume;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_run.IsCompleted)
            {
                await StopAsync();
            }

            _cancel.Dispose();
        }
    }

    private static Task Eventually(Func<bool> condition, string what, TimeSpan? within = null, Func<string>? diagnose = null) =>
        Wait.Until(condition, what, within ?? Patience, diagnose);

    private static VideoSourceOptions Camera(string id, string url) => LiveCamera.Options<VideoSourceOptions>(id, url, fps: 0);

    [Fact]
    public Task Streams_reports_a_killed_server_keeps_retrying_and_recovers_when_it_returns() => Bounded.Run(async () =>
    {
        using var server = new RtspServer(VideoClips.Instance.H264_720);
        await using var cam = new Running(Camera("cam1", server.Url));
        await Eventually(() => cam.Frames >= 25, "25 frames from the RTSP server");
        Assert.Equal(SourceState.Streaming, cam.Source.State);
        Assert.Equal("h264", cam.Source.Info!.Codec);

        server.Kill();
        await Eventually(() => cam.Saw(SourceState.Reconnecting), "disconnect reported", TimeSpan.FromSeconds(5));
        Assert.Contains(cam.Changes, c => c.To == SourceState.Reconnecting && c.Reason.Contains("disconnected", StringComparison.Ordinal));
        // While the server is down the source keeps trying (refused connections), never blocking.
        await Eventually(() => cam.Changes.Count(c => c.To == SourceState.Connecting) >= 3, "repeated connection attempts", TimeSpan.FromSeconds(10));
        Assert.Contains("refused", cam.Source.LastError, StringComparison.OrdinalIgnoreCase);

        var before = cam.Frames;
        server.Start();
        await Eventually(() => cam.Frames >= before + 10, "frames again after restart", TimeSpan.FromSeconds(5));
        Assert.Equal(SourceState.Streaming, cam.Source.State);
        Assert.True(cam.Source.Stats.Reconnects >= 1);

        await cam.StopAsync();
        Assert.Equal(SourceState.Stopped, cam.Source.State);
        Assert.Equal(0, cam.Pool.Outstanding);
    });

    [Fact]
    public Task A_frozen_server_trips_the_read_deadline_and_the_source_reconnects_after_it_thaws() => Bounded.Run(async () =>
    {
        using var server = new RtspServer(VideoClips.Instance.H264_720);
        await using var cam = new Running(Camera("frozen", server.Url));
        await Eventually(() => cam.Frames >= 10, "frames before the freeze");

        server.Freeze();
        // The server has pushed a few seconds ahead into socket buffers; the deadline counts from the last packet.
        await Eventually(() => cam.Saw(SourceState.Stalled), "stall detected");
        Assert.Contains(cam.Changes, c => c.To == SourceState.Stalled && c.Reason.Contains("no data within 2 s", StringComparison.Ordinal));

        var before = cam.Frames;
        server.Resume();
        await Eventually(() => cam.Frames >= before + 10 && cam.Source.State == SourceState.Streaming, "frames after the thaw");
    });

    [Fact]
    public Task A_frozen_server_is_noticed_within_the_read_timeout() => Bounded.Run(async () =>
    {
        using var server = new RtspServer(VideoClips.Instance.H264_720);
        var options = Camera("frozen-deadline", server.Url);
        options.ReadTimeout = TimeSpan.FromSeconds(3);
        await using var cam = new Running(options);
        await Eventually(() => cam.Frames >= 10, "frames before the freeze");

        var frozenAt = DateTimeOffset.UtcNow;
        server.Freeze();
        await Eventually(() => cam.Saw(SourceState.Stalled), "stall detected", diagnose: cam.Describe);
        var noticed = (cam.Changes.First(c => c.To == SourceState.Stalled).At - frozenAt).TotalSeconds;
        server.Resume();
        // Was 2 × ReadTimeout: the read whose deadline fired returned the H.264 parser's last packet as a success (FfmpegDecoder.TryReadFrame).
        Assert.InRange(noticed, 0, options.ReadTimeout.TotalSeconds + 1.5);
    });

    [Fact]
    public Task One_camera_dying_does_not_disturb_the_others() => Bounded.Run(async () =>
    {
        using var serverA = new RtspServer(VideoClips.Instance.H264_720);
        using var serverB = new RtspServer(VideoClips.Instance.H264_720);
        await using var a = new Running(Camera("a", serverA.Url));
        await using var b = new Running(Camera("b", serverB.Url));
        await using var file = new Running(Camera("file", VideoClips.Instance.H264_720), fullMode: BoundedChannelFullMode.Wait);
        string Diagnose() => $"a: {a.Describe()}; b: {b.Describe()}; a's {serverA.Describe()}; b's {serverB.Describe()}";
        await Eventually(() => a.Frames >= 10 && b.Frames >= 10, "both cameras streaming", diagnose: Diagnose);

        serverA.Kill();
        await Eventually(() => a.Saw(SourceState.Reconnecting), "camera a down");
        var bBefore = b.Frames;
        await Eventually(() => b.Frames >= bBefore + 25, "camera b keeps streaming while a is down");
        Assert.Equal(SourceState.Streaming, b.Source.State);
        Assert.DoesNotContain(b.Changes, c => c.To is SourceState.Reconnecting or SourceState.Stalled);
        await Eventually(() => file.Source.State == SourceState.Completed, "the file camera completes");
        Assert.Equal(100, file.Frames);
    });

    [Fact]
    public Task A_closed_port_is_retried_without_blocking_and_stops_promptly() => Bounded.Run(async () =>
    {
        await using var cam = new Running(Camera("closed", "rtsp://127.0.0.1:9/cam"));
        await Eventually(() => cam.Changes.Count(c => c.To == SourceState.Reconnecting) >= 2, "retries against a closed port");
        Assert.Contains("refused", cam.Source.LastError, StringComparison.OrdinalIgnoreCase);
        await cam.StopAsync();
        Assert.Equal(SourceState.Stopped, cam.Source.State);
        Assert.Equal(0, cam.Frames);
    });

    [Fact]
    public Task A_password_in_the_url_never_reaches_logs_errors_or_state_reasons() => Bounded.Run(async () =>
    {
        var logger = new CollectingLogger();
        using var server = new RtspServer(VideoClips.Instance.H264_720);
        const string password = "Sup3r-s3cret";
        await using (var cam = new Running(Camera("creds", server.Url.Replace("rtsp://", $"rtsp://admin:{password}@", StringComparison.Ordinal)), logger))
        {
            await Eventually(() => cam.Frames >= 5, "frames with credentials in the URL");
            server.Kill();
            await Eventually(() => cam.Changes.Count(c => c.To == SourceState.Reconnecting) >= 2, "failures with credentials in the URL");
            Assert.DoesNotContain(password, cam.Source.LastError ?? "", StringComparison.Ordinal);
            Assert.All(cam.Changes, c => Assert.DoesNotContain(password, c.Reason, StringComparison.Ordinal));
            Assert.Contains(cam.Changes, c => c.Reason.Contains("admin:***@", StringComparison.Ordinal));
            Assert.DoesNotContain(password, cam.Source.Url.ToString(), StringComparison.Ordinal);
        }

        Assert.NotEmpty(logger.Lines);
        Assert.All(logger.Lines, l => Assert.DoesNotContain(password, l, StringComparison.Ordinal));
    });

    private sealed class CollectingLogger : ILogger
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Enqueue(formatter(state, exception) + exception);
    }
}
