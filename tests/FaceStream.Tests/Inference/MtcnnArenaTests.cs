using FaceStream.Core.Detection;
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
    /// <summary>
    /// A level of one image over the budget runs in horizontal strips (a large photo; 1080p at 20 px): P-Net's windows,
    /// score and regression included, are exactly those of one run over the whole level, every row once. Compared
    /// before any suppression across levels, where a gap at a seam would show (a row run twice gives windows the NMS within
    /// the level removes).
    /// </summary>
    [Fact]
    [Trait("Category", "Live")]
    public void Strips_of_a_large_level_give_the_windows_of_one_run()
    {
        var photo = StillImageDecoder.DecodeFile(TestAssets.Sample(5));
        List<Candidate> Windows(long budget)
        {
            using var engine = new FaceEngine(new InferenceOptions { ModelsDirectory = TestAssets.Store.Directory }, new MtcnnOptions { MinFaceSize = 20, PNetArenaPixels = budget });
            return [.. ((MtcnnDetector)engine.Detector).PNetWindows(photo).OrderBy(c => c.Y1).ThenBy(c => c.X1).ThenBy(c => c.X2)];
        }

        var whole = Windows(0);
        Assert.True(whole.Count > 100, $"{whole.Count} windows");
        // 20 000 pixels: strips of a few dozen rows on the first levels, so there are many seams.
        foreach (long budget in new[] { 20_000L, 333_333L })
        {
            var strips = Windows(budget);
            Assert.Equal(whole.Count, strips.Count);
            for (int i = 0; i < whole.Count; i++)
            {
                Assert.Equal((whole[i].X1, whole[i].Y1, whole[i].X2, whole[i].Y2), (strips[i].X1, strips[i].Y1, strips[i].X2, strips[i].Y2));
                Assert.Equal(whole[i].Score, strips[i].Score, 5);
                Assert.Equal(whole[i].Dy2, strips[i].Dy2, 5);
            }
        }
    }
}
