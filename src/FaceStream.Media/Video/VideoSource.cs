using System.Diagnostics;
using System.Threading.Channels;
using FaceStream.Media.Video.Interop;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceStream.Media.Video;

/// <summary>
/// Reads one camera or file on its own thread and writes converted frames to a channel. Live sources reconnect
/// forever with back-off; files end (or loop). No FFmpeg call can block past its deadline.
/// </summary>
public sealed class VideoSource
{
    private const int LogEveryNthRepeatedFailure = 10;

    private readonly VideoSourceOptions _options;
    private readonly VideoFramePool _pool;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly int _swsFlags;
    private readonly object _stateLock = new();
    private SourceState _state = SourceState.Idle;
    private DateTimeOffset _firstFrameAt;
    private long _sequence;
    private long _decodedIndex;
    private double _loopOffset;

    /// <summary>Validates the options; throws <see cref="ArgumentException"/> naming the bad key.</summary>
    public VideoSource(VideoSourceOptions options, VideoFramePool pool, ILogger? logger = null, TimeProvider? time = null)
    {
        options.ThrowIfInvalid($"camera '{options.Id}': ");
        _options = options;
        _pool = pool;
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        Url = SourceUrl.Parse(options.Url);
        IsLive = options.Live ?? Url.IsLive;
        _swsFlags = VideoSourceOptions.ScalingFlags[options.Scaling];
    }

    public string Id => _options.Id;

    /// <summary>The address with any password hidden.</summary>
    public SourceUrl Url { get; }

    public bool IsLive { get; }

    public SourceState State
    {
        get
        {
            lock (_stateLock)
            {
                return _state;
            }
        }
    }

    /// <summary>What the current or last connection delivers; null before the first successful open.</summary>
    public StreamInfo? Info { get; private set; }

    /// <summary>The last failure's message (safe to show).</summary>
    public string? LastError { get; private set; }

    public VideoSourceStats Stats { get; } = new();

    /// <summary>Raised on the source's thread at every transition; handlers must be quick and must not throw.</summary>
    public event Action<SourceStateChange>? StateChanged;

    /// <summary>
    /// Runs until a file ends, the token is cancelled, or a file fails (then the task faults with
    /// <see cref="VideoSourceException"/>). Live sources only end by cancellation.
    /// </summary>
    /// <param name="output">Frames go here. Live sources never wait on it: when it is full the frame is dropped (use a
    /// drop-oldest channel to keep the newest). File sources wait, so every due frame is analysed.</param>
    public Task RunAsync(ChannelWriter<VideoFrame> output, CancellationToken cancel) =>
        Task.Factory.StartNew(() => Run(output, cancel), cancel, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            .ContinueWith(t => t.IsCanceled ? Task.CompletedTask : t, TaskScheduler.Default).Unwrap();

    private void Run(ChannelWriter<VideoFrame> output, CancellationToken cancel)
    {
        FfmpegLibrary.EnsureLoaded();
        var attempt = 0;
        string? lastFailure = null;
        var looping = false;
        while (!cancel.IsCancellationRequested)
        {
            // A looping file stays streaming from one pass to the next: one streaming event, not one per pass.
            if (!looping)
            {
                SetState(SourceState.Connecting, attempt == 0 ? $"opening {Url.Safe}" : $"attempt {attempt + 1} to open {Url.Safe}");
            }

            looping = false;
            FfmpegDecoder decoder;
            try
            {
                decoder = FfmpegDecoder.Open(Url, _options, IsLive, cancel);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (VideoSourceException e) when (IsLive)
            {
                LastError = e.Message;
                var repeated = e.Message == lastFailure;
                lastFailure = e.Message;
                SetState(SourceState.Reconnecting, e.Message, repeated && (attempt + 1) % LogEveryNthRepeatedFailure != 0 ? LogLevel.Debug : LogLevel.Warning);
                WaitBeforeRetry(attempt++, cancel);
                continue;
            }
            catch (VideoSourceException e)
            {
                LastError = e.Message;
                SetState(SourceState.Failed, e.Message);
                throw;
            }

            string reason;
            var stalled = false;
            using (decoder)
            {
                Info = decoder.Info;
                // Stopping aborts a read in progress instead of waiting out its deadline.
                using var abortOnStop = cancel.Register(decoder.Abort);
                try
                {
                    reason = Pump(decoder, output, ref attempt, cancel);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                catch (VideoSourceException e) when (e.Failure == SourceFailure.Timeout)
                {
                    LastError = reason = e.Message;
                    stalled = true;
                }
                finally
                {
                    Stats.DecodeErrorsSeen(decoder.DecodeErrors);
                }
            }

            if (cancel.IsCancellationRequested)
            {
                break;
            }

            if (!IsLive && !stalled)
            {
                if (_options.Loop && _sequence > 0)
                {
                    looping = true;
                    continue;
                }

                SetState(SourceState.Completed, $"{reason} after {Stats.FramesDecoded} frames");
                return;
            }

            if (stalled)
            {
                SetState(SourceState.Stalled, reason);
            }

            lastFailure = null;
            Stats.Reconnected();
            SetState(SourceState.Reconnecting, stalled ? "stalled, reconnecting" : $"disconnected ({reason}), reconnecting");
            WaitBeforeRetry(attempt++, cancel);
        }

        SetState(SourceState.Stopped, "stopped");
    }

    /// <summary>Decodes every frame and converts the ones due at the analysis rate. Returns why the stream ended.</summary>
    private string Pump(FfmpegDecoder decoder, ChannelWriter<VideoFrame> output, ref int attempt, CancellationToken cancel)
    {
        var interval = _options.AnalysisFps > 0 ? 1.0 / _options.AnalysisFps : 0;
        var nextDue = double.NaN;
        var frameDuration = decoder.Info.Fps > 0 ? 1.0 / decoder.Info.Fps : 0.04;
        var sessionStart = Stopwatch.GetTimestamp();
        var firstInSession = true;
        var lastMedia = double.NaN;
        double anchorPts = double.NaN;
        var anchorWall = default(DateTimeOffset);
        var fileOpenedAt = _time.GetUtcNow();
        var loopOffset = _loopOffset;
        long leftOut = 0;

        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            if (!decoder.TryReadFrame(_options.ReadTimeout, out var frame))
            {
                Stats.LeftOut(decoder.FramesLeftOut - leftOut);
                if (!IsLive && !double.IsNaN(lastMedia))
                {
                    // A looping file continues where this pass ended, so timestamps stay monotonic.
                    _loopOffset = lastMedia + frameDuration;
                }

                return decoder.EndReason.Length > 0 ? decoder.EndReason : "end of stream";
            }

            var now = _time.GetUtcNow();
            Stats.Decoded(now);
            Stats.LeftOut(decoder.FramesLeftOut - leftOut);
            _decodedIndex += 1 + decoder.FramesLeftOut - leftOut;
            leftOut = decoder.FramesLeftOut;
            if (firstInSession)
            {
                firstInSession = false;
                attempt = 0;
                if (_firstFrameAt == default)
                {
                    _firstFrameAt = now;
                    fileOpenedAt = now;
                }

                var info = decoder.Info;
                if (State != SourceState.Streaming)
                {
                    SetState(SourceState.Streaming, $"{info.Codec} {frame.Width}x{frame.Height} @ {info.Fps:0.##} fps, first frame after {Stopwatch.GetElapsedTime(sessionStart).TotalMilliseconds:0} ms");
                }
            }

            double media;
            DateTimeOffset timestamp;
            if (IsLive)
            {
                // Stream clock anchored at arrival; re-anchored when it jumps (camera reboot, server loop, missing pts).
                if (double.IsNaN(frame.PtsSeconds))
                {
                    timestamp = now;
                }
                else
                {
                    if (double.IsNaN(anchorPts) || Math.Abs((anchorWall.AddSeconds(frame.PtsSeconds - anchorPts) - now).TotalSeconds) > 2)
                    {
                        anchorPts = frame.PtsSeconds;
                        anchorWall = now;
                    }

                    timestamp = anchorWall.AddSeconds(frame.PtsSeconds - anchorPts);
                }

                media = (timestamp - _firstFrameAt).TotalSeconds;
            }
            else
            {
                media = (double.IsNaN(frame.PtsSeconds) ? (double.IsNaN(lastMedia) ? 0 : lastMedia - loopOffset + frameDuration) : frame.PtsSeconds) + loopOffset;
                timestamp = _firstFrameAt.AddSeconds(media);
            }

            lastMedia = media;
            if (interval > 0)
            {
                var jumpedBack = !double.IsNaN(nextDue) && media < nextDue - (4 * interval);
                if (!double.IsNaN(nextDue) && !jumpedBack && media < nextDue - (interval * 0.01))
                {
                    continue;
                }

                nextDue = double.IsNaN(nextDue) || jumpedBack || media - nextDue > interval ? media + interval : nextDue + interval;
                if (_options.SkipNonReferenceFrames && !double.IsNaN(frame.PtsSeconds))
                {
                    // The same test as above, on the packets' clock: frames stamped before the next due time are never
                    // delivered, so those that no other frame refers to need not be decoded at all.
                    decoder.SkipNonReferenceBefore = nextDue - (interval * 0.01) - (media - frame.PtsSeconds);
                    decoder.SkipJumpGuard = 4 * interval;
                }
            }

            if (!IsLive && _options.Realtime)
            {
                var wait = fileOpenedAt.AddSeconds(media - loopOffset) - _time.GetUtcNow();
                if (wait > TimeSpan.Zero && cancel.WaitHandle.WaitOne(wait))
                {
                    throw new OperationCanceledException(cancel);
                }
            }

            var (width, height) = FitWithin(frame.Width, frame.Height, _options.MaxWidth, _options.MaxHeight);
            var delivered = _pool.Rent(width, height, _options.PixelFormat);
            delivered.Describe(_options.Id, _sequence, _decodedIndex, timestamp, TimeSpan.FromSeconds(media), width, height, _options.PixelFormat);
            try
            {
                decoder.Convert(frame, delivered, _swsFlags);
            }
            catch
            {
                delivered.Dispose();
                throw;
            }

            _sequence++;
            if (output.TryWrite(delivered))
            {
                Stats.Delivered();
                continue;
            }

            if (IsLive)
            {
                delivered.Dispose();
                Stats.Dropped();
                continue;
            }

            bool written;
            try
            {
                written = WriteBlocking(output, delivered, cancel);
            }
            catch
            {
                delivered.Dispose();
                throw;
            }

            if (!written)
            {
                delivered.Dispose();
                throw new OperationCanceledException("the frame consumer closed");
            }

            Stats.Delivered();
        }
    }

    private static bool WriteBlocking(ChannelWriter<VideoFrame> output, VideoFrame frame, CancellationToken cancel)
    {
        // Blocking on purpose: this runs on the source's own decode thread (FFmpeg's calls are synchronous), and a file
        // source must wait for the pipeline to take the frame (live sources never wait: their queue drops the oldest).
        while (output.WaitToWriteAsync(cancel).AsTask().GetAwaiter().GetResult())
        {
            if (output.TryWrite(frame))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Largest even size within the limits with the source's aspect ratio (even: chroma-subsampled encoders downstream).</summary>
    internal static (int Width, int Height) FitWithin(int width, int height, int maxWidth, int maxHeight)
    {
        if (width <= maxWidth && height <= maxHeight)
        {
            return (width, height);
        }

        var scale = Math.Min((double)maxWidth / width, (double)maxHeight / height);
        return (Math.Max(2, (int)(width * scale) & ~1), Math.Max(2, (int)(height * scale) & ~1));
    }

    /// <summary>Exponential back-off with jitter: initial × 2^attempt, capped, ± jitter.</summary>
    internal static TimeSpan BackoffDelay(int attempt, TimeSpan initial, TimeSpan max, double jitter, double random01)
    {
        var baseSeconds = Math.Min(max.TotalSeconds, initial.TotalSeconds * Math.Pow(2, Math.Min(attempt, 30)));
        return TimeSpan.FromSeconds(baseSeconds * (1 + (jitter * ((2 * random01) - 1))));
    }

    private void WaitBeforeRetry(int attempt, CancellationToken cancel)
    {
        var delay = BackoffDelay(attempt, _options.ReconnectInitialDelay, _options.ReconnectMaxDelay, _options.ReconnectJitter, Random.Shared.NextDouble());
        cancel.WaitHandle.WaitOne(delay);
    }

    private void SetState(SourceState next, string reason, LogLevel? level = null)
    {
        SourceStateChange change;
        lock (_stateLock)
        {
            change = new SourceStateChange(_options.Id, _state, next, reason, _time.GetUtcNow());
            _state = next;
        }

        var logLevel = level ?? next switch
        {
            SourceState.Failed => LogLevel.Error,
            SourceState.Stalled or SourceState.Reconnecting => LogLevel.Warning,
            SourceState.Connecting => LogLevel.Debug,
            _ => LogLevel.Information,
        };
        if (_logger.IsEnabled(logLevel))
        {
            _logger.Log(logLevel, "camera {Camera}: {From} → {To}: {Reason}", _options.Id, change.From, change.To, reason);
        }

        StateChanged?.Invoke(change);
    }
}
