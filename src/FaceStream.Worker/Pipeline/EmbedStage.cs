using System.Diagnostics;
using System.Threading.Channels;
using FaceStream.Core.Embeddings;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Core.Matching;
using FaceStream.Inference.Embedding;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Metrics;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Pipeline;

/// <summary>
/// track + gate ─► embed ─► decide: batches face views across cameras (up to Pipeline:EmbedBatchSize, or whatever
/// arrived within Pipeline:EmbedBatchTimeout), embeds each batch in one network run on a thread of its own, and
/// passes everything on in the order it came (a track's end never overtakes its views). With a pre-screen, each view
/// is first scored by the embedder's cheapest member alone, and only views that could be someone on the watchlist
/// are embedded in full (Pipeline:PreScreen). Face attributes are not read here but once per event, for the view it
/// shows (<see cref="DescribeStage"/>). Holds no per-track state.
/// </summary>
/// <param name="screen">The pre-screen, or null to embed every view in full.</param>
/// <param name="gallery">The watchlist the pre-screen scores against (the decide stage searches the same one).</param>
/// <param name="cut">The screen score below which a view skips the full embedder (<see cref="PreScreenCut"/>).</param>
internal sealed class EmbedStage(PipelineOptions options, IFaceEmbedder embedder, PreScreen? screen, Func<GalleryIndex> gallery, Func<float> cut, PipelineMetrics metrics, ILogger log)
{
    public const string Name = "embed";

    private readonly Prometheus.Histogram.Child _latency = metrics.StageLatency.WithLabels(Name);
    private readonly Prometheus.Histogram.Child _batchSize = metrics.StageBatchSize.WithLabels(Name);
    private readonly Prometheus.Gauge.Child _queueDepth = metrics.QueueDepth.WithLabels(Name);

    /// <summary>Until <paramref name="input"/> completes and is drained; then completes <paramref name="output"/>.</summary>
    /// <param name="abandon">Set when shutdown's drain time is over: the views still queued are dropped (their track ends go on) and no new network run starts, so the engine can be freed.</param>
    public async Task RunAsync(ChannelReader<TrackMessage> input, ChannelWriter<TrackMessage> output, CancellationToken abandon = default)
    {
        using var thread = new StageThread("facestream-embed");
        var batch = new List<TrackMessage>(options.EmbedBatchSize);
        try
        {
            while (await input.WaitToReadAsync())
            {
                await TakeBatchAsync(input, batch);
                _queueDepth.Set(input.Count);
                foreach (var message in abandon.IsCancellationRequested ? Drop(batch) : await EmbedAsync(thread, batch))
                {
                    await output.WriteAsync(message);
                }

                batch.Clear();
            }
        }
        finally
        {
            output.TryComplete();
        }
    }

    /// <summary>Embeds the batch's views; on failure they are skipped (logged) and only the track ends go on.</summary>
    internal async Task<IReadOnlyList<TrackMessage>> EmbedAsync(StageThread thread, IReadOnlyList<TrackMessage> batch)
    {
        var views = batch.OfType<FaceView>().ToList();
        if (views.Count == 0)
        {
            return batch;
        }

        try
        {
            long start = Stopwatch.GetTimestamp();
            var faces = views.Select(v => (v.Crop.Image, v.Crop.Landmarks)).ToList();
            var embeddings = await thread.RunAsync(() => Embed(faces));
            _latency.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
            _batchSize.Observe(views.Count);
            var byView = new Dictionary<FaceView, EmbeddedView>(ReferenceEqualityComparer.Instance);
            for (int i = 0; i < views.Count; i++)
            {
                (embeddings[i] is null ? metrics.ViewsPreScreened : metrics.Embeddings).WithLabels(views[i].Track.Camera).Inc();
                byView[views[i]] = new EmbeddedView(views[i], embeddings[i]);
            }

            return batch.Select(m => m is FaceView v ? byView[v] : m).ToList();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            log.EmbeddingFailed(e, views.Count);
            return Drop(batch);
        }
    }

    /// <summary>Each face's full embedding, or null where the pre-screen found it far from everyone on the watchlist.</summary>
    private float[]?[] Embed(List<(ImageFrame Image, Landmarks5 Face)> faces)
    {
        var result = new float[]?[faces.Count];
        var full = Enumerable.Range(0, faces.Count).ToList();
        if (screen is not null)
        {
            float below = cut();
            var scores = screen.BestScores(gallery(), faces);
            full.RemoveAll(i => scores[i] < below);
        }

        if (full.Count > 0)
        {
            IReadOnlyList<FaceEmbedding> embedded = embedder.EmbedMany(full.Count == faces.Count ? faces : full.Select(i => faces[i]).ToList());
            for (int k = 0; k < full.Count; k++)
            {
                result[full[k]] = embedded[k].Vector;
            }
        }

        return result;
    }

    /// <summary>
    /// The screen's cut: its member's threshold less Pipeline:PreScreenMargin, moved by as much as the known-person
    /// threshold in use (Decision:KnownThreshold) differs from the embedder's own, so a lower threshold set for more
    /// recall lowers the cut with it and the screen keeps the margin it was measured with.
    /// </summary>
    public static float PreScreenCut(PreScreen screen, float margin, float knownThreshold, float embedderThreshold) =>
        screen.Threshold - margin + (knownThreshold - embedderThreshold);

    /// <summary>The batch without its views (their crops returned): only the track ends go on.</summary>
    private static List<TrackMessage> Drop(IReadOnlyList<TrackMessage> batch)
    {
        foreach (var v in batch.OfType<FaceView>())
        {
            v.Crop.Dispose();
        }

        return batch.OfType<TrackEnded>().Cast<TrackMessage>().ToList();
    }

    private async Task TakeBatchAsync(ChannelReader<TrackMessage> input, List<TrackMessage> batch)
    {
        int views = Take(input, batch, 0);
        if (views < options.EmbedBatchSize && options.EmbedBatchTimeout > TimeSpan.Zero)
        {
            using var wait = new CancellationTokenSource(options.EmbedBatchTimeout);
            try
            {
                while (views < options.EmbedBatchSize && await input.WaitToReadAsync(wait.Token))
                {
                    views = Take(input, batch, views);
                }
            }
            catch (OperationCanceledException)
            {
                // batch timeout: go with what we have
            }
        }
    }

    /// <summary>Reads until the batch holds Pipeline:EmbedBatchSize views; returns the views it holds.</summary>
    private int Take(ChannelReader<TrackMessage> input, List<TrackMessage> batch, int views)
    {
        while (views < options.EmbedBatchSize && input.TryRead(out var m))
        {
            batch.Add(m);
            views += m is FaceView ? 1 : 0;
        }

        return views;
    }
}
