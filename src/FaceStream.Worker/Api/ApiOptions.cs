namespace FaceStream.Worker.Api;

/// <summary>Config section "Api": the watchlist HTTP API on the worker's HTTP listener (Metrics:Host/Port).</summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>Bearer token every /api call must present. Empty = the API answers 503 (set it in a secret file Api__Token or FACESTREAM__Api__Token, not in the config file).</summary>
    public string Token { get; set; } = "";

    /// <summary>Bearer token of operators: everything the console does (feedback, enroll, delete), like <see cref="Token"/>. Empty = no such role.</summary>
    public string OperatorToken { get; set; } = "";

    /// <summary>Bearer token of viewers: read-only (GET calls and the console's pages); any change answers 403. Empty = no such role.</summary>
    public string ViewerToken { get; set; } = "";

    /// <summary>Events kept in this worker's memory for GET /api/events and the console (with Events:RedisStream the stream is read instead).</summary>
    public int RecentEvents { get; set; } = 1000;

    /// <summary>Largest image upload accepted.</summary>
    public int MaxUploadBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>
    /// Largest decoded image accepted per upload (width × height, read from the header before decoding). A small
    /// JPEG can decode to hundreds of MB: 4 bytes per pixel, 256 MB for 8000×8000, plus the detector's work.
    /// </summary>
    public long MaxImagePixels { get; set; } = 50_000_000;

    /// <summary>Uploads decoded and analysed at the same time, by enrollment, analyse and feedback together; the rest wait (see <see cref="UploadQueueTimeout"/>).</summary>
    public int MaxConcurrentUploads { get; set; } = 2;

    /// <summary>
    /// Decoded pixels of the uploads analysed at the same time, together: an upload's memory grows with its pixels
    /// (≈ 0.55 GB for a 48 MP photo, docs/benchmarks.md), so two phone photos run side by side while one near
    /// <see cref="MaxImagePixels"/> runs alone. An image larger than this budget runs alone.
    /// </summary>
    public long MaxUploadPixelsInFlight { get; set; } = 50_000_000;

    /// <summary>
    /// CPU priority (Linux nice, 0–19) of the threads that analyse uploads, against the cameras' 0: at 10 a node at its
    /// cameras' capacity gives an upload what the cameras leave (about a tenth of the cores when they want them all),
    /// so an enrollment at a busy moment takes longer instead of making the cameras shed frames (docs/benchmarks.md).
    /// 0 = the same priority as the cameras.
    /// </summary>
    public int UploadNice { get; set; } = 10;

    /// <summary>How long an upload waits for a free slot before it is answered 429 with Retry-After.</summary>
    public TimeSpan UploadQueueTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public IEnumerable<string> Validate()
    {
        foreach (var (key, token) in new[] { ("Token", Token), ("OperatorToken", OperatorToken), ("ViewerToken", ViewerToken) })
        {
            if (token.Length is > 0 and < 16)
            {
                yield return $"{Section}:{key} is too short (at least 16 characters)";
            }
        }

        if (ViewerToken.Length > 0 && (ViewerToken == Token || ViewerToken == OperatorToken))
        {
            yield return $"{Section}:ViewerToken must differ from {Section}:Token and {Section}:OperatorToken (a viewer's token must not grant changes)";
        }

        if (RecentEvents is < 1 or > 100_000)
        {
            yield return $"{Section}:RecentEvents = {RecentEvents} must be between 1 and 100000";
        }

        if (MaxUploadBytes is < 1024 or > 100 * 1024 * 1024)
        {
            yield return $"{Section}:MaxUploadBytes = {MaxUploadBytes} must be between 1 KiB and 100 MiB";
        }

        if (MaxImagePixels is < 10_000 or > 64_000_000)
        {
            yield return $"{Section}:MaxImagePixels = {MaxImagePixels} must be between 10000 and 64000000 (the decoder's own limit)";
        }

        if (UploadNice is < 0 or > 19)
        {
            yield return $"{Section}:UploadNice = {UploadNice} must be between 0 (the cameras' priority) and 19 (the lowest)";
        }

        if (MaxConcurrentUploads is < 1 or > 64)
        {
            yield return $"{Section}:MaxConcurrentUploads = {MaxConcurrentUploads} must be between 1 and 64";
        }

        if (MaxUploadPixelsInFlight is < 1_000_000 or > 1_000_000_000)
        {
            yield return $"{Section}:MaxUploadPixelsInFlight = {MaxUploadPixelsInFlight} must be between 1000000 and 1000000000";
        }

        if (UploadQueueTimeout < TimeSpan.Zero || UploadQueueTimeout > TimeSpan.FromMinutes(5))
        {
            yield return $"{Section}:UploadQueueTimeout = {UploadQueueTimeout} must be between 00:00:00 and 00:05:00";
        }
    }
}
