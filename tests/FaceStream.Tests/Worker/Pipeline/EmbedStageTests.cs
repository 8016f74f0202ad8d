using System.Threading.Channels;
using FaceStream.Core.Attributes;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
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
        var stage = new EmbedStage(options, engine.Embedder, attributes: null, Metrics(), NullLogger.Instance);
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
        Assert.All(got.OfType<EmbeddedView>(), e => Assert.Null(e.Attributes));
    }

    [Fact]
    public async Task With_attributes_each_view_carries_those_of_its_face_read_in_one_batch_as_when_read_alone()
    {
        var engine = fixture.Engine;
        var analyser = engine.Attributes;
        var stage = new EmbedStage(new PipelineOptions { EmbedBatchSize = 8, EmbedBatchTimeout = TimeSpan.FromMilliseconds(50) }, engine.Embedder, analyser, Metrics(),
            NullLogger.Instance);
        var input = Channel.CreateUnbounded<TrackMessage>();
        var output = Channel.CreateUnbounded<TrackMessage>();
        var frames = new Dictionary<long, (ImageFrame Image, DetectedFace Face)>();
        foreach (int sample in new[] { 1, 2, 6 })
        {
            var image = StillImageDecoder.DecodeFile(TestAssets.Sample(sample));
            var face = engine.Detector.Detect(image).MaxBy(f => f.Box.Width)!;
            frames[sample] = (image, face);
            input.Writer.TryWrite(View(new TrackKey("door", 1, sample), image, face));
        }

        input.Writer.Complete();
        await stage.RunAsync(input.Reader, output.Writer).WaitAsync(TimeSpan.FromMinutes(3));
        var got = await output.Reader.ReadAllAsync().Cast<EmbeddedView>().ToListAsync();

        Assert.Equal(3, got.Count);
        foreach (var e in got)
        {
            var batched = e.Attributes!.Values;
            Assert.Equal(analyser.Sources, e.Attributes.Sources);
            // One by one on the same crop: the same numbers (a batch shares network runs only).
            var alone = analyser.Analyze([(e.View.Crop.Image, e.View.Crop.Face)])[0];
            AssertClose(alone, batched, 1e-3f);
            Assert.Equal(alone.Eyes!.State, batched.Eyes!.State);
            Assert.Equal(alone.Expression!.Label, batched.Expression!.Label);
            // On the whole frame with the frame's face: the crop's box and landmarks are where the face is (resampling differs slightly).
            var (image, face) = frames[e.Track.Track];
            AssertClose(analyser.Analyze(image, [face])[0], batched, 1.5f);
            // The six sample photos show women only (labelled by looking); gender is the measured attribute.
            Assert.Equal(Gender.Female, batched.Gender!.Gender);
            e.View.Crop.Dispose();
        }
    }

    private static void AssertClose(FaceAttributes expected, FaceAttributes actual, float degreesOrYears)
    {
        Assert.Equal(expected.Gender!.Gender, actual.Gender!.Gender);
        Assert.Equal(expected.Gender.MaleScore, actual.Gender.MaleScore, degreesOrYears / 10);
        Assert.Equal(expected.Age!.Years, actual.Age!.Years, degreesOrYears);
        Assert.Equal(expected.Pose!.Yaw, actual.Pose!.Yaw, degreesOrYears);
        Assert.Equal(expected.Pose.Pitch, actual.Pose.Pitch, degreesOrYears);
        Assert.Equal(expected.Pose.Roll, actual.Pose.Roll, degreesOrYears);
    }
}
