using FaceStream.Core.Faces;
using FaceStream.Inference;
using FaceStream.Inference.Detection;
using FaceStream.Inference.Runtime;
using FaceStream.Media.Images;
using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Inference;

/// <summary>Detector:Mtcnn:PNetArenaPixels: P-Net's memory arena and the runs it bounds.</summary>
public class MtcnnArenaTests
{
    [Theory]
    [InlineData(-1L)]
    [InlineData(100_000_001L)]
    public void An_arena_budget_out_of_range_is_refused_naming_the_key(long pixels)
    {
        var problems = new MtcnnOptions { PNetArenaPixels = pixels }.Validate().ToList();
        Assert.Contains(problems, p => p.Contains("Detector:Mtcnn:PNetArenaPixels", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1_000_000L)]
    public void No_arena_and_the_default_budget_are_valid(long pixels) =>
        Assert.Empty(new MtcnnOptions { PNetArenaPixels = pixels }.Validate());

    /// <summary>
    /// The arena changes where P-Net's memory comes from, not what it computes: with no arena, the default budget and a
    /// budget so small that every same-size batch is split into single images and every large level hands its memory
    /// back, a batch of real photos gets the same faces.
    /// </summary>
    [Fact]
    [Trait("Category", "Live")]
    public void The_arena_budget_does_not_change_what_is_found()
    {
        var a = StillImageDecoder.DecodeFile(TestAssets.Sample(1));
        var b = StillImageDecoder.DecodeFile(TestAssets.Sample(3));
        IReadOnlyList<IReadOnlyList<DetectedFace>> Detect(long budget)
        {
            using var engine = new FaceEngine(new InferenceOptions { ModelsDirectory = TestAssets.Store.Directory }, new MtcnnOptions { MinFaceSize = 40, PNetArenaPixels = budget });
            return engine.Detector.DetectBatch([a, b, a]);
        }

        var none = Detect(0);
        Assert.Equal(3, none[0].Count);
        foreach (long budget in new[] { 1_000_000L, 50_000L })
        {
            var found = Detect(budget);
            for (int k = 0; k < 3; k++)
            {
                Assert.Equal(none[k].Count, found[k].Count);
                for (int i = 0; i < none[k].Count; i++)
                {
                    Assert.Equal(none[k][i].Box, found[k][i].Box);
                    Assert.Equal(none[k][i].Score, found[k][i].Score, 5);
                }
            }
        }
    }
}
