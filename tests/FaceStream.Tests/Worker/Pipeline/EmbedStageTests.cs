using System.Numerics.Tensors;
using System.Threading.Channels;
using FaceStream.Core.Matching;
using FaceStream.Media.Images;
using FaceStream.Tests.Support;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Pipeline;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using static FaceStream.Tests.Worker.Pipeline.StageMessages;

namespace FaceStream.Tests.Worker.Pipeline;

/// <summary>The embed stage fed face views of real photos: batched embeddings equal single ones, and order is kept.</summary>
public class EmbedStageTests(WorkerEngineFixture fixture) : IClassFixture<WorkerEngineFixture>
{
    [Fact]
    public async Task Views_come_out_embedded_in_their_order_with_track_ends_in_place()
    {
        var engine = fixture.Engine;
        var options = new PipelineOptions { EmbedBatchSize = 8, EmbedBatchTimeout = TimeSpan.FromMilliseconds(50) };
        var stage = new EmbedStage(options, engine.Embedder, screen: null, () => GalleryIndex.Empty(engine.Embedder.ModelId, engine.Embedder.Dimension), () => 0, Metrics(),
            NullLogger.Instance);
        var input = Channel.CreateUnbounded<TrackMessage>();
        var output = Channel.CreateUnbounded<TrackMessage>();
        var expected = new List<TrackMessage>();
        for (int sample = 1; sample <= 3; sample++)
        {
            var image = StillImageDecoder.DecodeFile(TestAssets.Sample(sample));
            var face = engine.Detector.Detect(image).MaxBy(f => f.Box.Width)!;
            var key = new TrackKey("door", 1, sample);
            expected.Add(View(key, image, face));
            expected.Add(new TrackEnded(key));
        }

        expected.ForEach(m => input.Writer.TryWrite(m));
        input.Writer.Complete();
        await stage.RunAsync(input.Reader, output.Writer).WaitAsync(TimeSpan.FromMinutes(2));
        var got = await output.Reader.ReadAllAsync().ToListAsync();

        Assert.Equal(expected.Select(m => (m.GetType() == typeof(FaceView) ? typeof(EmbeddedView) : m.GetType(), m.Track)), got.Select(m => (m.GetType(), m.Track)));
        foreach (var embedded in got.OfType<EmbeddedView>())
        {
            var crop = embedded.View.Crop;
            var alone = engine.Embedder.EmbedMany([(crop.Image, crop.Landmarks)])[0].Vector;
            float cosine = alone.Zip(embedded.Embedding!, (a, b) => a * b).Sum();
            Assert.True(cosine > 0.9999f, $"batched and single embeddings differ (cosine {cosine})");
            crop.Dispose();
        }

        Assert.Equal(3, got.OfType<EmbeddedView>().Count());
    }

    [Fact]
    public async Task With_the_pre_screen_only_views_that_could_be_someone_on_the_watchlist_are_embedded_in_full()
    {
        var engine = fixture.Engine;
        using var screen = engine.CreatePreScreen();
        Assert.NotNull(screen);
        var metrics = Metrics();
        var options = new PipelineOptions { EmbedBatchSize = 8, EmbedBatchTimeout = TimeSpan.FromMilliseconds(50) };

        // The watchlist: the blonde woman of sample3, enrolled from that photo with the full embedder.
        var her = StillImageDecoder.DecodeFile(TestAssets.Sample(3));
        var herFace = engine.Detector.Detect(her).MaxBy(f => f.Box.Width)!;
        var template = engine.Embedder.Embed(her, [herFace.Landmarks])[0].Vector;
        var watchlist = new GalleryIndex(engine.Embedder.ModelId, engine.Embedder.Dimension, [(new Identity("blonde", "Blonde Woman"), template)]);
        var input = Channel.CreateUnbounded<TrackMessage>();
        var output = Channel.CreateUnbounded<TrackMessage>();
        input.Writer.TryWrite(View(new TrackKey("door", 1, 0), her, herFace));
        int strangers = 0;
        foreach (int sample in new[] { 1, 2, 4 })
        {
            var image = StillImageDecoder.DecodeFile(TestAssets.Sample(sample));
            foreach (var face in engine.Detector.Detect(image).Where(f => f.Box.Width >= 40))
            {
                input.Writer.TryWrite(View(new TrackKey("door", 1, ++strangers), image, face));
            }
        }

        input.Writer.Complete();
        float cut = EmbedStage.PreScreenCut(screen, options.PreScreenMargin, engine.Embedder.Threshold, engine.Embedder.Threshold);
        var stage = new EmbedStage(options, engine.Embedder, screen, () => watchlist, () => cut, metrics, NullLogger.Instance);
        // A known-person threshold set 0.05 lower for more recall lowers the cut with it.
        Assert.Equal(cut - 0.05f, EmbedStage.PreScreenCut(screen, options.PreScreenMargin, engine.Embedder.Threshold - 0.05f, engine.Embedder.Threshold), 5);
        await stage.RunAsync(input.Reader, output.Writer).WaitAsync(TimeSpan.FromMinutes(2));
        var got = await output.Reader.ReadAllAsync().Cast<EmbeddedView>().ToListAsync();

        Assert.Equal(strangers + 1, got.Count);
        var herView = got.Single(v => v.Track.Track == 0);
        Assert.NotNull(herView.Embedding);
        float same = TensorPrimitives.Dot(template, herView.Embedding);
        Assert.True(same > 0.99f, $"her view's full embedding differs from her template (cosine {same})");
        // Each stranger is screened out exactly when the member alone scores it below the cut; most are.
        var others = got.Where(v => v.Track.Track != 0).ToList();
        var scores = screen.BestScores(watchlist, others.Select(v => (v.View.Crop.Image, v.View.Crop.Landmarks)).ToList());
        Assert.Equal(scores.Select(s => s < cut), others.Select(v => v.Embedding is null));
        int screened = others.Count(v => v.Embedding is null);
        Assert.True(strangers >= 5 && screened * 2 > strangers, $"{screened} of {strangers} strangers' faces in samples 1, 2 and 4 screened out (scores {string.Join(", ", scores.Select(s => s.ToString("F3")))}, cut {cut:F3})");
        Assert.Equal(1 + strangers - screened, metrics.Embeddings.WithLabels("door").Value);
        Assert.Equal(screened, metrics.ViewsPreScreened.WithLabels("door").Value);
        got.ForEach(v => v.View.Crop.Dispose());
    }

    [Fact]
    public async Task With_the_pre_screen_and_an_empty_watchlist_no_view_is_embedded()
    {
        var engine = fixture.Engine;
        using var screen = engine.CreatePreScreen();
        var image = StillImageDecoder.DecodeFile(TestAssets.Sample(1));
        var views = engine.Detector.Detect(image).Select((f, i) => View(new TrackKey("door", 1, i), image, f)).ToList();
        var stage = new EmbedStage(new PipelineOptions(), engine.Embedder, screen, () => GalleryIndex.Empty(engine.Embedder.ModelId, engine.Embedder.Dimension), () => 0.3f,
            Metrics(), NullLogger.Instance);

        using var thread = new StageThread("test-embed");
        var got = await stage.EmbedAsync(thread, views);

        Assert.Equal(views.Count, got.Count);
        Assert.All(got, m => Assert.Null(Assert.IsType<EmbeddedView>(m).Embedding));
        views.ForEach(v => v.Crop.Dispose());
    }
}
