using System.Threading.Channels;
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
        var stage = new EmbedStage(options, engine.Embedder, Metrics(), NullLogger.Instance);
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
            float cosine = alone.Zip(embedded.Embedding, (a, b) => a * b).Sum();
            Assert.True(cosine > 0.9999f, $"batched and single embeddings differ (cosine {cosine})");
            crop.Dispose();
        }

        Assert.Equal(3, got.OfType<EmbeddedView>().Count());
    }
}
