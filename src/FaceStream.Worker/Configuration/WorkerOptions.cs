using System.ComponentModel.DataAnnotations;
using FaceStream.Media.Video;

namespace FaceStream.Worker.Configuration;

/// <summary>One camera in config "Cameras": the video source settings plus an on/off switch.</summary>
public sealed class CameraOptions : VideoSourceOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Smallest face this camera is searched for, in pixels of the analysed frame (after MaxWidth/MaxHeight); 0 = the
    /// worker's (the larger of Detector:Mtcnn:MinFaceSize and Quality:MinFaceSize, 40). It only raises that: a door
    /// camera whose faces are always large searches a whole 1080p frame from 80 px for 38 % of the CPU from 40 px. Set it
    /// well below the smallest face that matters (about two thirds of it): faces near the floor are found less often.
    /// </summary>
    public int MinFaceSize { get; set; }
}

/// <summary>Config section "Pipeline": queue sizes and batching (DeepStream's nvstreammux idea: N items or a timeout).</summary>
public sealed class PipelineOptions
{
    public const string Section = "Pipeline";

    /// <summary>Frames queued per camera. Live cameras drop the oldest when full; files wait.</summary>
    public int FrameQueueCapacity { get; set; } = 2;

    /// <summary>Most frames (from any cameras) per detector call.</summary>
    public int DetectBatchSize { get; set; } = 4;

    /// <summary>How long the detector waits to fill a batch once it has one frame.</summary>
    public TimeSpan DetectBatchTimeout { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Most detector batches searched at once, each of other cameras (a camera is in one batch at a time). Another starts only while a full batch (DetectBatchSize frames) waits: a node behind its cameras sheds fewer frames, one that keeps up runs one batch at a time as before; 1 = always one after another.</summary>
    [Range(1, 8)]
    public int DetectBatchesInFlight { get; set; } = 2;

    /// <summary>Most face crops per embedder call.</summary>
    public int EmbedBatchSize { get; set; } = 8;

    public TimeSpan EmbedBatchTimeout { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Face crops waiting for the embedder; when full the detector waits (crops are never dropped silently).</summary>
    public int EmbedQueueCapacity { get; set; } = 64;

    /// <summary>Embeddings per track at most (Frigate caps at about a dozen).</summary>
    public int MaxEmbedsPerTrack { get; set; } = 12;

    /// <summary>After the first votes, a view is embedded only when its quality beats the best so far by this factor.</summary>
    [Range(1.0, 100.0)]
    public float BetterViewFactor { get; set; } = 1.15f;

    /// <summary>Least time between two embedded views of a track (consecutive frames at 5 fps are 0.2 s apart and nearly the same picture); a closer view is embedded only while the first votes are collected and only if it beats the best by BetterViewFactor; 0 = no spacing.</summary>
    public TimeSpan MinEmbedInterval { get; set; } = TimeSpan.FromSeconds(0.4);

    /// <summary>Hold a track's first views back until it has Decision:VotesNeeded of them (fewer decide nothing): a track that never gets that many costs no embedding.</summary>
    public bool HoldFirstViews { get; set; } = true;

    /// <summary>A track whose last Decision:VoteWindow views all scored below the known threshold by more than this is a clear stranger: no more views until one beats its best quality by UnknownRetryFactor; 0 = off.</summary>
    [Range(0.0, 1.0)]
    public float ClearUnknownMargin { get; set; } = 0.15f;

    /// <summary>How much better (quality factor) a clear stranger's view must be than its best embedded one to be embedded.</summary>
    [Range(1.0, 100.0)]
    public float UnknownRetryFactor { get; set; } = 1.5f;

    /// <summary>
    /// Look at each view with the embedder's first member alone first (one network pass without flip fusion, a quarter
    /// of the default ensemble's runs) and embed it in full only if that look scores within PreScreenMargin of the
    /// member's known-person threshold against some watchlist template. Most faces a camera sees are strangers; they
    /// cost the one pass. Not used while Decision:ReportUnknown is on (unknown events report the full similarity).
    /// </summary>
    public bool PreScreen { get; set; } = true;

    /// <summary>How far below the first member's known-person threshold a view's best score must be to skip the full embedding (measured: docs/accuracy.md, the pre-screen); a Decision:KnownThreshold below the embedder's own lowers the cut by as much.</summary>
    [Range(0.0, 2.0)]
    public float PreScreenMargin { get; set; } = 0.15f;

    /// <summary>Longest wait for in-flight work at shutdown.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Stop the worker when every source has ended (files only; for demos and batch runs).</summary>
    public bool StopWhenSourcesEnd { get; set; }

    /// <summary>With <see cref="StopWhenSourcesEnd"/>: once the files are analysed, the HTTP listener (API, console, metrics) keeps serving until Ctrl+C or SIGTERM (the demo's --stay).</summary>
    public bool ServeAfterSourcesEnd { get; set; }

    public IEnumerable<string> Validate()
    {
        if (FrameQueueCapacity is < 1 or > 1000)
        {
            yield return $"{Section}:FrameQueueCapacity = {FrameQueueCapacity} must be between 1 and 1000";
        }

        if (DetectBatchSize is < 1 or > 64 || EmbedBatchSize is < 1 or > 256)
        {
            yield return $"{Section}:DetectBatchSize must be 1–64 and {Section}:EmbedBatchSize 1–256";
        }

        if (DetectBatchTimeout < TimeSpan.Zero || EmbedBatchTimeout < TimeSpan.Zero || DetectBatchTimeout > TimeSpan.FromSeconds(5) || EmbedBatchTimeout > TimeSpan.FromSeconds(5))
        {
            yield return $"{Section}:DetectBatchTimeout and {Section}:EmbedBatchTimeout must be between 0 and 5 s";
        }

        if (EmbedQueueCapacity is < 1 or > 100_000)
        {
            yield return $"{Section}:EmbedQueueCapacity = {EmbedQueueCapacity} must be between 1 and 100000";
        }

        if (MaxEmbedsPerTrack is < 1 or > 1000)
        {
            yield return $"{Section}:MaxEmbedsPerTrack = {MaxEmbedsPerTrack} must be between 1 and 1000";
        }

        if (BetterViewFactor < 1)
        {
            yield return $"{Section}:BetterViewFactor = {BetterViewFactor} must be ≥ 1";
        }

        if (MinEmbedInterval < TimeSpan.Zero || MinEmbedInterval > TimeSpan.FromSeconds(10))
        {
            yield return $"{Section}:MinEmbedInterval = {MinEmbedInterval} must be between 0 and 10 s";
        }

        if (ClearUnknownMargin is < 0 or > 1)
        {
            yield return $"{Section}:ClearUnknownMargin = {ClearUnknownMargin} must be in [0, 1] (0 = off)";
        }

        if (UnknownRetryFactor is < 1 or > 100)
        {
            yield return $"{Section}:UnknownRetryFactor = {UnknownRetryFactor} must be between 1 and 100";
        }
    }
}

/// <summary>Config section "Metrics": the Prometheus endpoint (also /healthz and /readyz).</summary>
public sealed class MetricsOptions
{
    public const string Section = "Metrics";

    public bool Enabled { get; set; } = true;

    /// <summary>Bind address; 127.0.0.1 unless you mean to expose it.</summary>
    public string Host { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 9464;

    public IEnumerable<string> Validate()
    {
        if (!System.Net.IPAddress.TryParse(Host, out _) && Host != "localhost")
        {
            yield return $"{Section}:Host = '{Host}' is not an IP address (use 127.0.0.1, 0.0.0.0 or an interface address)";
        }

        if (Port is < 0 or > 65535)
        {
            yield return $"{Section}:Port = {Port} must be between 0 (any free port) and 65535";
        }
    }
}

/// <summary>Config section "Gallery": the in-memory watchlist enrolled at start from a folder of folders (one per person).</summary>
public sealed class GalleryOptions
{
    public const string Section = "Gallery";

    /// <summary>Folder with one sub-folder of photos per person (folder name = identity id and name); empty = no gallery.</summary>
    public string Directory { get; set; } = "";
}

/// <summary>Config section "Events": where decisions go.</summary>
public sealed class EventsOptions
{
    public const string Section = "Events";

    /// <summary>Write each event as a JSON line on standard output.</summary>
    public bool Console { get; set; } = true;

    /// <summary>Also append JSON lines to this file (empty = off).</summary>
    public string JsonLinesFile { get; set; } = "";

    /// <summary>Publish camera state changes (connected, stalled, reconnecting) as events too.</summary>
    public bool CameraState { get; set; } = true;

    /// <summary>Events each sink may hold while it is down; beyond it events are counted as lost (never silently).</summary>
    public int BufferSize { get; set; } = 10_000;

    /// <summary>After a match for a camera × identity, further matches of that pair within this time are suppressed (counted).</summary>
    public TimeSpan Cooldown { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Match and unknown events carry their view's face attributes (age, gender, head pose, expression, eyes;
    /// docs/attributes.md). They are computed for every embedded view, in the embedder's batches.
    /// </summary>
    public bool Attributes { get; set; } = true;

    public RedisStreamOptions RedisStream { get; set; } = new();

    public WebhookOptions Webhook { get; set; } = new();

    public MqttOptions Mqtt { get; set; } = new();

    public SnapshotOptions Snapshots { get; set; } = new();

    public IEnumerable<string> Validate()
    {
        if (BufferSize is < 1 or > 10_000_000)
        {
            yield return $"{Section}:BufferSize = {BufferSize} must be between 1 and 10000000";
        }

        if (Cooldown < TimeSpan.Zero)
        {
            yield return $"{Section}:Cooldown must not be negative";
        }

        if (RedisStream.Enabled && (string.IsNullOrWhiteSpace(RedisStream.Key) || RedisStream.MaxLength < 1))
        {
            yield return $"{Section}:RedisStream:Key must be set and {Section}:RedisStream:MaxLength positive";
        }

        if (Webhook.Url.Length > 0 && (!Uri.TryCreate(Webhook.Url, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https")))
        {
            yield return $"{Section}:Webhook:Url = '{Media.Video.SourceUrl.Redact(Webhook.Url)}' is not an http(s) URL";
        }

        if (Webhook.Timeout <= TimeSpan.Zero)
        {
            yield return $"{Section}:Webhook:Timeout must be positive";
        }

        if (Mqtt.Host.Length > 0 && Mqtt.Port is < 1 or > 65535)
        {
            yield return $"{Section}:Mqtt:Port = {Mqtt.Port} must be between 1 and 65535";
        }

        if (Mqtt.Timeout <= TimeSpan.Zero || Mqtt.Timeout > TimeSpan.FromMinutes(5))
        {
            yield return $"{Section}:Mqtt:Timeout = {Mqtt.Timeout} must be positive and at most 5 minutes";
        }

        if (Snapshots.RetentionHours < 0)
        {
            yield return $"{Section}:Snapshots:RetentionHours must not be negative";
        }
    }
}

/// <summary>Events:RedisStream: XADD to a stream (consumers read it with consumer groups).</summary>
public sealed class RedisStreamOptions
{
    public bool Enabled { get; set; }

    /// <summary>Redis address; empty = the watchlist's (Watchlist:Uri) when that is Redis.</summary>
    public string Uri { get; set; } = "";

    public string Key { get; set; } = "facestream:events";

    /// <summary>Approximate length the stream is trimmed to (XADD MAXLEN ~).</summary>
    public int MaxLength { get; set; } = 100_000;
}

/// <summary>Events:Webhook: HTTP POST of each event's JSON.</summary>
public sealed class WebhookOptions
{
    /// <summary>http(s) URL; empty = off.</summary>
    public string Url { get; set; } = "";

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Sent as "Authorization: Bearer …" when set (from the environment, preferably).</summary>
    public string Token { get; set; } = "";
}

/// <summary>Events:Mqtt: publish each event to TopicPrefix/CAMERA/KIND.</summary>
public sealed class MqttOptions
{
    /// <summary>Broker host; empty = off.</summary>
    public string Host { get; set; } = "";

    public int Port { get; set; } = 1883;

    public string TopicPrefix { get; set; } = "facestream";

    public string Username { get; set; } = "";

    public string Password { get; set; } = "";

    /// <summary>Longest wait for the broker to accept the connection and acknowledge a publish; past it the attempt failed (counted, retried).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Events:Snapshots: JPEGs of the best view, referenced by the event.</summary>
public sealed class SnapshotOptions
{
    /// <summary>Folder for snapshot files; empty = no files.</summary>
    public string Directory { get; set; } = "";

    /// <summary>Keep snapshots in Redis (the event stream's Redis) for this long instead of files; zero = off.</summary>
    public TimeSpan RedisTtl { get; set; } = TimeSpan.Zero;

    /// <summary>Save the face crop (with some context around it).</summary>
    public bool Face { get; set; } = true;

    /// <summary>Also save the whole frame (costs a JPEG encode per embedded view, ≈ 20 ms at 1080p).</summary>
    public bool Frame { get; set; }

    /// <summary>Snapshot files older than this are deleted (0 = never).</summary>
    [Range(0.0, 1_000_000.0)]
    public double RetentionHours { get; set; } = 168;

    public bool Enabled => Directory.Length > 0 || RedisTtl > TimeSpan.Zero;
}
