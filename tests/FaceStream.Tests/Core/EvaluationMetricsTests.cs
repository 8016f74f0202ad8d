using FaceStream.Core.Evaluation;
using FaceStream.Core.Geometry;
using Xunit;

namespace FaceStream.Tests.Core;

public class EvaluationMetricsTests
{
    [Fact]
    public void Best_threshold_separates_perfectly_separable_scores()
    {
        float[] s = [0.9f, 0.8f, 0.3f, 0.2f];
        bool[] same = [true, true, false, false];
        var r = VerificationMetrics.BestThreshold(s, same);
        Assert.Equal(1.0, r.Accuracy);
        Assert.InRange(r.Threshold, 0.3f, 0.8f);
    }

    [Fact]
    public void Best_threshold_accuracy_counts_an_overlap()
    {
        // One impostor (0.85) above one genuine (0.5): best is 3 of 4 correct.
        float[] s = [0.9f, 0.85f, 0.5f, 0.1f];
        bool[] same = [true, false, true, false];
        Assert.Equal(0.75, VerificationMetrics.BestThreshold(s, same).Accuracy);
    }

    [Fact]
    public void Tar_at_far_allows_exactly_the_permitted_impostors()
    {
        var impostor = Enumerable.Range(0, 100).Select(i => i / 100f).ToArray(); // 0.00 … 0.99
        float[] genuine = [0.995f, 0.985f, 0.975f, 0.5f];
        var r = VerificationMetrics.TarAt(genuine, impostor, 0.01);
        // 1 impostor of 100 may pass: threshold just above 0.98 → genuine 0.995 and 0.985 pass.
        Assert.Equal(0.5, r.Tar);
        Assert.True(double.IsNaN(VerificationMetrics.TarAt(genuine, impostor, 1e-3).Tar), "100 impostor pairs cannot measure FAR 1e-3");
    }

    [Fact]
    public void Rank1_skips_singletons_and_counts_nearest_neighbour_labels()
    {
        var sim = new float[,] { { 1, 0.9f, 0.1f, 0.2f }, { 0.9f, 1, 0.95f, 0 }, { 0.1f, 0.95f, 1, 0 }, { 0.2f, 0, 0, 1 } };
        int[] labels = [0, 0, 1, 2]; // sample 1's nearest is 2 (wrong label); 2 and 3 are singletons
        Assert.Equal((1, 2), VerificationMetrics.Rank1(sim, labels));
    }

    [Fact]
    public void Wider_ground_truth_parses_faces_invalid_flags_and_empty_images()
    {
        const string gt = "a/1.jpg\n2\n10 20 30 40 0 0 0 0 0 0\n5 5 10 10 0 0 0 1 0 0\nb/2.jpg\n0\n0 0 0 0 0 0 0 0 0 0\n";
        var parsed = DetectionMetrics.ParseWider(gt);
        Assert.Equal(2, parsed["a/1.jpg"].Count);
        Assert.Equal(new BoxF(10, 20, 40, 60), parsed["a/1.jpg"][0].Box);
        Assert.True(parsed["a/1.jpg"][1].Invalid);
        Assert.Empty(parsed["b/2.jpg"]);
    }

    [Fact]
    public void Detection_matching_counts_recall_by_size_and_precision()
    {
        var tally = new DetectionTally();
        GroundTruthFace[] truth = [new(new BoxF(0, 0, 50, 50)), new(new BoxF(100, 100, 130, 130)), new(new BoxF(200, 200, 210, 210))];
        (BoxF, float)[] dets = [(new BoxF(2, 2, 52, 52), 0.9f), (new BoxF(300, 300, 360, 360), 0.8f)];
        DetectionMetrics.Match(truth, dets, tally);
        Assert.Equal(1.0 / 3, tally.Recall, 6);
        Assert.Equal(1.0 / 2, tally.Recall20, 6); // faces ≥ 20 px tall: the 50 and the 30
        Assert.Equal(1.0, tally.Recall40, 6);
        Assert.Equal(0.5, tally.Precision40, 6);  // one of two ≥ 40 px detections is right
    }
}
