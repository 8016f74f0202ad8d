using FaceStream.Media.Video;
using FaceStream.Worker.Configuration;

namespace FaceStream.Worker.Api;

/// <summary>
/// Runs <c>facestream probe</c> on a registered camera for <c>POST /api/cameras/{id}/probe</c>, on the worker that
/// received the call: at most <see cref="Slots"/> at once (each holds a thread and a connection to a camera for up to
/// twice its timeout), each under a deadline the caller cannot outlast.
/// </summary>
internal sealed class CameraProber
{
    public const int Slots = 2;

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan MaxTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Beyond open + first frame: FFmpeg's own checks of the deadline are not instant.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(2);

    private readonly SemaphoreSlim _slots = new(Slots, Slots);

    /// <summary>
    /// Opens the camera's URL (its transport and live setting; <paramref name="timeout"/> for opening and for the first
    /// frame, as <c>probe --timeout</c>) and decodes one frame; null when <see cref="Slots"/> probes are running already.
    /// </summary>
    public async Task<ProbeOutcome?> TryProbeAsync(CameraOptions camera, TimeSpan timeout, CancellationToken cancel)
    {
        if (!_slots.Wait(0))
        {
            return null;
        }

        var options = new VideoSourceOptions { Id = camera.Id, Url = camera.Url, Transport = camera.Transport, Live = camera.Live, OpenTimeout = timeout, ReadTimeout = timeout };
        var limit = timeout * 2 + Slack;
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        deadline.CancelAfter(limit);
        var probing = Task.Run(() => VideoProbe.TryProbe(options, deadline.Token), CancellationToken.None);
        // The slot (and the token the probe watches) is given back when the probe has really ended, not when the caller stops waiting.
        _ = probing.ContinueWith(_ =>
        {
            deadline.Dispose();
            _slots.Release();
        }, TaskScheduler.Default);
        try
        {
            return await probing.WaitAsync(limit + Slack, cancel);
        }
        catch (TimeoutException)
        {
            return new ProbeOutcome(SourceUrl.Redact(camera.Url), null, $"the probe did not end within {(limit + Slack).TotalSeconds:0.#} s");
        }
    }
}
