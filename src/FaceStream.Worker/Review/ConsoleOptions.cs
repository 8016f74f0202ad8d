namespace FaceStream.Worker.Review;

/// <summary>Config section "Console": what the review console's pages get from the pipeline (docs/console.md).</summary>
public sealed class ConsoleOptions
{
    public const string Section = "Console";

    /// <summary>
    /// How often each camera's preview (GET /api/cameras/{id}/frame: an analysed frame with its faces, track ids and
    /// names drawn) is renewed while someone watches it (PreviewWatchWindow); 0 = no previews. Kept in memory only,
    /// encoded off the detect stage's thread.
    /// </summary>
    public TimeSpan PreviewInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a request for a camera's frame (GET /api/cameras/{id}/frame, the console's Cameras page polls it every
    /// 3 s) keeps its previews coming; outside it no frame is copied or encoded. Longer than PreviewInterval.
    /// </summary>
    public TimeSpan PreviewWatchWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Previews wider than this are scaled down (pixels).</summary>
    public int PreviewMaxWidth { get; set; } = 640;

    public IEnumerable<string> Validate()
    {
        if (PreviewInterval < TimeSpan.Zero || PreviewInterval > TimeSpan.FromHours(1))
        {
            yield return $"{Section}:PreviewInterval = {PreviewInterval} must be between 00:00:00 (off) and 01:00:00";
        }

        if (PreviewInterval > TimeSpan.Zero && (PreviewWatchWindow <= PreviewInterval || PreviewWatchWindow > TimeSpan.FromDays(1)))
        {
            yield return $"{Section}:PreviewWatchWindow = {PreviewWatchWindow} must be longer than {Section}:PreviewInterval ({PreviewInterval}) and at most 1.00:00:00";
        }

        if (PreviewMaxWidth is < 64 or > 3840)
        {
            yield return $"{Section}:PreviewMaxWidth = {PreviewMaxWidth} must be between 64 and 3840";
        }
    }
}
