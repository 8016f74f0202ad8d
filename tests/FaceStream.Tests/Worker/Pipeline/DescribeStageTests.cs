using System.Threading.Channels;
using FaceStream.Core.Attributes;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Media.Images;
using FaceStream.Tests.Support;
using FaceStream.Worker.Events;
using FaceStream.Worker.Pipeline;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using static FaceStream.Tests.Worker.Pipeline.StageMessages;

namespace FaceStream.Tests.Worker.Pipeline;

/// <summary>The describe stage fed decisions on real photos: each event gets the attributes of its own face, the waiting ones in one analyser call, and the crops go back.</summary>
public class DescribeStageTests(WorkerEngineFixture fixture) : IClassFixture<WorkerEngineFixture>
{
    private static Decision Decided(TrackKey track, ImageFrame image, DetectedFace face) =>
        new(new UnknownEvent(Guid.NewGuid(), track.Camera, track.Track, 0.2f, 0.1f, face, T0, TimeSpan.Zero, T0, "test"), FaceCrop.From(image, face), null, null);

    private static async Task<List<Decision>> RunAsync(DescribeStage stage, IEnumerable<Decision> decisions)
    {
        var input = Channel.CreateUnbounded<Decision>();
        var output = Channel.CreateUnbounded<Decision>();
        foreach (var d in decisions)
        {
            input.Writer.TryWrite(d);
        }

        input.Writer.Complete();
        await stage.RunAsync(input.Reader, output.Writer).WaitAsync(TimeSpan.FromMinutes(3));
        return await output.Reader.ReadAllAsync().ToListAsync();
    }

    [Fact]
    public async Task Each_event_carries_the_attributes_of_its_face_read_together_in_one_call_as_when_read_alone()
    {
        var engine = fixture.Engine;
        var analyser = engine.Attributes;
        var metrics = Metrics();
        var stage = new DescribeStage(analyser, batchSize: 8, metrics, NullLogger.Instance);
        var expected = new Dictionary<long, (FaceAttributes OnCrop, FaceAttributes OnFrame)>();
        var decisions = new List<Decision>();
        foreach (int sample in new[] { 1, 2, 6 })
        {
            var image = StillImageDecoder.DecodeFile(TestAssets.Sample(sample));
            var face = engine.Detector.Detect(image).MaxBy(f => f.Box.Width)!;
            var d = Decided(new TrackKey("door", 1, sample), image, face);
            // One by one, before the stage returns the crop: on the same crop, and on the whole frame with the frame's face.
            expected[sample] = (analyser.Analyze([(d.Crop!.Image, d.Crop.Face)])[0], analyser.Analyze(image, [face])[0]);
            decisions.Add(d);
        }

        var got = await RunAsync(stage, decisions);

        Assert.Equal(decisions.Select(d => d.Event.EventId), got.Select(d => d.Event.EventId));
        foreach (var d in got)
        {
            Assert.Null(d.Crop);
            var batched = Assert.IsType<EventAttributes>(d.Event.Attributes);
            Assert.Equal(analyser.Sources, batched.Sources);
            var (onCrop, onFrame) = expected[d.Event.TrackId];
            // A batch shares network runs only: the same numbers.
            AssertClose(onCrop, batched.Values, 1e-3f);
            Assert.Equal(onCrop.Eyes!.State, batched.Values.Eyes!.State);
            Assert.Equal(onCrop.Expression!.Label, batched.Values.Expression!.Label);
            // The crop's box and landmarks are where the face is (resampling differs slightly).
            AssertClose(onFrame, batched.Values, 1.5f);
            // The six sample photos show women only (labelled by looking); gender is the measured attribute.
            Assert.Equal(Gender.Female, batched.Values.Gender!.Gender);
        }

        // Three events, three faces read, in one analyser call.
        Assert.Equal(3, metrics.AttributesAnalysed.WithLabels("door").Value);
        var batches = metrics.StageBatchSize.WithLabels(DescribeStage.Name);
        Assert.Equal((1L, 3.0), (batches.Count, batches.Sum));
    }

    [Fact]
    public async Task Without_an_analyser_the_events_go_on_without_attributes_and_nothing_is_read()
    {
        var metrics = Metrics();
        var stage = new DescribeStage(null, batchSize: 8, metrics, NullLogger.Instance);
        var decisions = Enumerable.Range(1, 3).Select(t => Decided(new TrackKey("door", 1, t), Grey(), Face())).ToList();

        var got = await RunAsync(stage, decisions);

        Assert.Equal(decisions.Select(d => d.Event), got.Select(d => d.Event));
        Assert.All(got, d => Assert.Null(d.Crop));
        Assert.All(got, d => Assert.Null(d.Event.Attributes));
        Assert.Equal(0, metrics.AttributesAnalysed.WithLabels("door").Value);
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
