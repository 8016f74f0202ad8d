using System.Diagnostics;
using System.Threading.Channels;
using FaceStream.Core.Matching;
using FaceStream.Media.Images;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Events;
using FaceStream.Worker.Metrics;

namespace FaceStream.Worker.Pipeline;

/// <summary>
/// embed ─► decide ─► describe: searches the watchlist with each embedded view, applies the open-set rule, adds the vote
/// to its track's tally (k of the last n views agree: a match; n views naming nobody: unknown) and quiets a match of the
/// same identity on the same camera within Events:Cooldown. The one owner of per-track decision state and of the
/// cooldown; tells the gate stage which tracks it recognised and which are clear strangers.
/// </summary>
/// <param name="faceSnapshots">Encode the face crop for the event's snapshot.</param>
/// <param name="previews">The console's camera previews: told each recognised track's name (null = none).</param>
internal sealed class DecideStage(WorkerSettings settings, Func<GalleryIndex> gallery, Func<float> threshold, ChannelWriter<TrackNews> news, PipelineMetrics metrics,
    bool faceSnapshots, TimeProvider? clock = null, CameraPreviews? previews = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Dictionary<TrackKey, TrackVotes> _votes = [];
    private readonly Dictionary<(string Camera, string Identity), DateTimeOffset> _lastMatch = [];

    /// <summary>Tracks with votes (their state goes when the gate says they ended).</summary>
    public int TracksHeld => _votes.Count;

    /// <summary>Until <paramref name="input"/> completes; then completes <paramref name="output"/>.</summary>
    public async Task RunAsync(ChannelReader<TrackMessage> input, ChannelWriter<Decision> output)
    {
        try
        {
            await foreach (var message in input.ReadAllAsync())
            {
                if (Decide(message) is { } decision)
                {
                    await output.WriteAsync(decision);
                }
            }
        }
        finally
        {
            output.TryComplete();
        }
    }

    /// <summary>The event this message leads to, if any; it takes the view's crop along (for its attributes), else the crop is disposed here.</summary>
    internal Decision? Decide(TrackMessage message)
    {
        switch (message)
        {
            case TrackEnded ended:
                _votes.Remove(ended.Track);
                previews?.Forget(ended.Track);
                return null;
            case EmbeddedView embedded:
                Decision? decision = null;
                try
                {
                    return decision = Decide(embedded);
                }
                finally
                {
                    if (decision is null)
                    {
                        embedded.View.Crop.Dispose();
                    }
                }

            default:
                throw new ArgumentException($"the decide stage takes track ends and embedded views, not {message.GetType().Name}");
        }
    }

    private Decision? Decide(EmbeddedView embedded)
    {
        var v = embedded.View;
        var index = gallery();
        var d = settings.Decision;
        float known = threshold();
        // A pre-screened view names nobody. Its similarity is NaN, not low: the screen's cut is not the clear-stranger
        // line (some views it skips would score within 0.1 of the threshold in full), so it never makes a track one.
        var vote = embedded.Embedding is null
            ? new Vote(null, float.NaN, 0, v.Quality)
            : OpenSetRule.Judge(index.Search(embedded.Embedding, 2), known, d.Margin, v.Quality);
        if (!_votes.TryGetValue(v.Track, out var votes))
        {
            _votes[v.Track] = votes = new TrackVotes();
        }

        var (verdict, evidence) = votes.Add(vote, d);
        if (verdict == Verdict.Known)
        {
            news.TryWrite(new TrackNews(v.Track, TrackOutlook.Recognised, votes.Added));
            previews?.Named(v.Track, evidence.Identity!.Name);
        }
        else if (votes.Published != Verdict.Known && settings.Pipeline.ClearUnknownMargin > 0 && votes.AllBelow(known - settings.Pipeline.ClearUnknownMargin, d))
        {
            news.TryWrite(new TrackNews(v.Track, TrackOutlook.ClearStranger, votes.Added));
        }

        if (verdict == Verdict.Undecided || (verdict == Verdict.Unknown && !d.ReportUnknown))
        {
            return null;
        }

        var now = _clock.GetUtcNow();
        if (verdict == Verdict.Known)
        {
            metrics.Matches.WithLabels(v.Track.Camera).Inc();
            // One alert per track already; the cooldown also quiets a person who re-enters (a new track) right away.
            var pair = (v.Track.Camera, evidence.Identity!.Id);
            if (_lastMatch.TryGetValue(pair, out var last) && now - last < settings.Events.Cooldown)
            {
                metrics.EventsSuppressed.WithLabels(v.Track.Camera).Inc();
                return null;
            }

            _lastMatch[pair] = now;
        }

        metrics.FrameToDecision.Observe(Stopwatch.GetElapsedTime(v.DeliveredTicks).TotalSeconds);
        TrackEvent e = verdict == Verdict.Known
            ? new MatchEvent(Guid.NewGuid(), v.Track.Camera, v.Track.Track, evidence.Identity!.Id, evidence.Identity.Name, evidence.Similarity, evidence.Margin, v.Face,
                v.FrameTimestamp, v.MediaTime, now, index.ModelId)
            : new UnknownEvent(Guid.NewGuid(), v.Track.Camera, v.Track.Track, evidence.Similarity, evidence.Margin, v.Face, v.FrameTimestamp, v.MediaTime, now, index.ModelId);
        var faceJpeg = faceSnapshots ? FaceAnnotator.EncodeJpeg(v.Crop.Image, TrackGateStage.SnapshotJpegQuality) : null;
        // The crop goes along: the describe stage reads the attributes of the view the event shows (its box, landmarks and snapshot).
        return new Decision(e, v.Crop, faceJpeg, v.FrameJpeg);
    }
}
