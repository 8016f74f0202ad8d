using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Core.Tracking;
using FaceStream.Media.Images;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Review;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Pipeline;

/// <summary>One camera's latest preview: a JPEG of an analysed frame with its faces drawn.</summary>
/// <param name="Timestamp">The frame's timestamp (capture time for a live camera; for a file, its start plus the frame's media time).</param>
/// <param name="AnalysedAt">When the pipeline took the frame, after tracking it (the age the console shows).</param>
public sealed record CameraPreview(byte[] Jpeg, int Width, int Height, DateTimeOffset Timestamp, DateTimeOffset AnalysedAt);

/// <summary>
/// The console's camera previews (Console:PreviewInterval): at most one per camera and interval, from a frame the track +
/// gate stage has just tracked, with each face's box, track id and (once the decide stage recognised the track) name.
/// Made only while someone watches the camera: a request for its frame (<see cref="Watch"/>) marks it watched for
/// Console:PreviewWatchWindow; outside that window no frame is copied or encoded. The gate only copies the frame into a
/// reused buffer, and only when the encoder is idle (else it tries again with a later frame); scaling, drawing and JPEG
/// encoding run on the encoder's own task. Kept in memory only, newest per camera.
/// </summary>
public sealed class CameraPreviews
{
    public const string StageName = "preview";
    private const int JpegQuality = 75;

    private readonly ConsoleOptions _options;
    private readonly ConcurrentDictionary<string, CameraPreview> _latest = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<TrackKey, string> _names = new();
    private readonly Dictionary<string, long> _lastTaken = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _watchedAt = new(StringComparer.Ordinal);
    private readonly TimeProvider _clock;
    private readonly PipelineMetrics? _metrics;
    private readonly Channel<Pending> _pending = Channel.CreateBounded<Pending>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
    private readonly Prometheus.Histogram.Child? _latency;
    private readonly ILogger? _log;
    private byte[] _buffer = [];
    private int _busy;

    /// <param name="clock">Times the interval and the watch window (tests move it by hand).</param>
    public CameraPreviews(ConsoleOptions options, PipelineMetrics? metrics = null, ILogger? log = null, TimeProvider? clock = null)
    {
        _options = options;
        _metrics = metrics;
        _latency = metrics?.StageLatency.WithLabels(StageName);
        _log = log;
        _clock = clock ?? TimeProvider.System;
    }

    public bool Enabled => _options.PreviewInterval > TimeSpan.Zero;

    /// <summary>
    /// Someone looks at the camera (its frame was requested): its previews are made for the next
    /// Console:PreviewWatchWindow, the first from the next tracked frame.
    /// </summary>
    public void Watch(string camera)
    {
        if (Enabled)
        {
            _watchedAt[camera] = _clock.GetTimestamp();
        }
    }

    /// <summary>Whether the camera's frame was requested within Console:PreviewWatchWindow (its previews are being made).</summary>
    public bool Watched(string camera) => Watched(camera, _clock.GetTimestamp());

    private bool Watched(string camera, long now) =>
        _watchedAt.TryGetValue(camera, out var at) && _clock.GetElapsedTime(at, now) < _options.PreviewWatchWindow;

    /// <summary>The camera's newest preview, or null (no frame analysed yet, previews off, or not a camera of this worker).</summary>
    public CameraPreview? Latest(string camera) => _latest.GetValueOrDefault(camera);

    /// <summary>
    /// Track + gate stage (its thread): offers a tracked frame. Takes it (a copy of the pixels, nothing else) when
    /// someone watches the camera, its interval has passed and the encoder is free; never waits.
    /// </summary>
    /// <param name="faces">The frame's faces with their tracks (the tracker's assignment).</param>
    internal void Offer(DetectedFrame frame, IReadOnlyList<(DetectedFace Face, Track Track, bool IsNew)> faces)
    {
        if (!Enabled)
        {
            return;
        }

        long now = _clock.GetTimestamp();
        var camera = frame.Camera.Id;
        if (!Watched(camera, now) || (_lastTaken.TryGetValue(camera, out var last) && _clock.GetElapsedTime(last, now) < _options.PreviewInterval))
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            return;
        }

        // The encoder is idle: the buffer is free to reuse (grown once to the largest frame seen).
        var image = frame.Image;
        int rowBytes = image.Width * image.Format.BytesPerPixel();
        int length = rowBytes * image.Height;
        if (_buffer.Length < length)
        {
            _buffer = new byte[length];
        }

        var src = image.Pixels.Span;
        for (int y = 0; y < image.Height; y++)
        {
            src.Slice(y * image.Stride, rowBytes).CopyTo(_buffer.AsSpan(y * rowBytes, rowBytes));
        }

        _lastTaken[camera] = now;
        var copy = new ImageFrame(image.Width, image.Height, rowBytes, image.Format, _buffer.AsMemory(0, length));
        var labels = faces.Select(f => Label(new TrackKey(camera, frame.Camera.Generation, f.Track.Id))).ToArray();
        if (!_pending.Writer.TryWrite(new Pending(camera, copy, faces.Select(f => f.Face).ToArray(), labels, frame.Timestamp, DateTimeOffset.UtcNow)))
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Decide stage: the track was recognised as <paramref name="name"/> (drawn next to its id from now on).</summary>
    internal void Named(TrackKey track, string name)
    {
        if (Enabled)
        {
            _names[track] = name;
        }
    }

    /// <summary>The track ended: its name is no longer needed.</summary>
    internal void Forget(TrackKey track) => _names.TryRemove(track, out _);

    /// <summary>The camera is gone from this worker (removed, or handed to another worker): its preview goes too.</summary>
    internal void Remove(string camera)
    {
        _latest.TryRemove(camera, out _);
        _lastTaken.Remove(camera);
        _watchedAt.TryRemove(camera, out _);
        foreach (var key in _names.Keys.Where(k => k.Camera == camera))
        {
            _names.TryRemove(key, out _);
        }
    }

    /// <summary>The encoder: until <see cref="Complete"/>; the previews encoded so far stay readable afterwards.</summary>
    public async Task RunAsync()
    {
        await foreach (var p in _pending.Reader.ReadAllAsync())
        {
            long start = Stopwatch.GetTimestamp();
            CameraPreview? preview = null;
            try
            {
                var (jpeg, width, height) = FaceAnnotator.EncodePreviewJpeg(p.Image, p.Faces, p.Labels, _options.PreviewMaxWidth, JpegQuality);
                preview = new CameraPreview(jpeg, width, height, p.Timestamp, p.AnalysedAt);
                _latency?.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _log?.PreviewFailed(e, p.Camera);
            }
            finally
            {
                // The copied frame is no longer read: the gate may fill the buffer again.
                Volatile.Write(ref _busy, 0);
            }

            if (preview is not null)
            {
                _latest[p.Camera] = preview;
                _metrics?.Previews.WithLabels(p.Camera).Inc();
            }
        }
    }

    /// <summary>No more frames: the encoder finishes the one it has and ends.</summary>
    public void Complete() => _pending.Writer.TryComplete();

    /// <summary>What is drawn next to a track's box: its id, and its name once recognised.</summary>
    internal string Label(TrackKey key) => _names.TryGetValue(key, out var name) ? $"#{key.Track} {name}" : $"#{key.Track}";

    private sealed record Pending(string Camera, ImageFrame Image, DetectedFace[] Faces, string[] Labels, DateTimeOffset Timestamp, DateTimeOffset AnalysedAt);
}
