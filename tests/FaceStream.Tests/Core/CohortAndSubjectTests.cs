using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Core.Matching;
using Xunit;

namespace FaceStream.Tests.Core;

public class CohortThresholdsTests
{
    // Unit vectors in 3-D with known dot products.
    private static float[] Unit(params float[] v)
    {
        float n = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / n).ToArray();
    }

    [Fact]
    public void A_look_alike_in_the_cohort_raises_that_identity_s_bar_and_no_other()
    {
        var lookAlikeOf = new Identity("a", "A");
        var other = new Identity("b", "B");
        float[] a = Unit(1, 0, 0), b = Unit(0, 1, 0);
        // A stranger resembling A at cos 0.6 (above the 0.5 threshold) is in the cohort.
        float[] stranger = Unit(0.6f, 0, 0.8f);
        var fitted = CohortThresholds.Fit([(lookAlikeOf, a), (other, b)], [stranger], threshold: 0.5f);

        Assert.Equal(0.6f + CohortThresholds.Delta - 0.5f, fitted.Raise("a"), 4);
        Assert.Equal(0f, fitted.Raise("b"));
        // The same stranger seen again scores 0.6 against A in plain cosine (a false alarm at 0.5) …
        var hits = new[] { new SearchHit(lookAlikeOf, 0.6f), new SearchHit(other, 0f) };
        var plain = OpenSetRule.Judge(hits, 0.5f, 0.05f, 1);
        Assert.Equal("a", plain.Identity?.Id);
        // … and below the bar once normalised; B's scores are untouched.
        var normalised = fitted.Apply(hits);
        Assert.True(normalised.Single(h => h.Identity.Id == "a").Similarity < 0.5f);
        Assert.Null(OpenSetRule.Judge(normalised, 0.5f, 0.05f, 1).Identity);
        Assert.Equal(0.7f, fitted.Normalise(other, b, 0.7f));
    }

    [Fact]
    public void The_real_person_still_passes_the_raised_bar()
    {
        var id = new Identity("a", "A");
        var fitted = CohortThresholds.Fit([(id, Unit(1, 0, 0))], [Unit(0.55f, 0, 0.835f)], threshold: 0.5f);
        // A genuine view at 0.8 stays above 0.5 after the 0.07 raise.
        Assert.True(fitted.Normalise(id, Unit(1, 0, 0), 0.8f) >= 0.5f);
    }
}

public class SubjectFaceTests
{
    private static DetectedFace Face(float x, float size, float score) =>
        new(new BoxF(x, 0, x + size, size), score, new Landmarks5(new(x + (0.3f * size), 0.4f * size), new(x + (0.7f * size), 0.4f * size), new(x + (0.5f * size), 0.6f * size), new(x + (0.35f * size), 0.8f * size), new(x + (0.65f * size), 0.8f * size)));

    [Fact]
    public void A_larger_but_doubtful_face_loses_to_the_confident_one()
    {
        // The identities_wild case: a chest detected as a 266 px "face" at 0.88 beside the real 168 px face at 1.00.
        var real = Face(0, 168, 1.0f);
        var chest = Face(300, 266, 0.88f);
        Assert.Same(real, SubjectFace.Pick([chest, real]));
    }

    [Fact]
    public void Among_confident_faces_the_largest_wins_and_without_any_the_largest_doubtful_one()
    {
        var small = Face(0, 50, 0.99f);
        var large = Face(100, 120, 0.97f);
        Assert.Same(large, SubjectFace.Pick([small, large]));
        var d1 = Face(0, 60, 0.8f);
        var d2 = Face(100, 90, 0.9f);
        Assert.Same(d2, SubjectFace.Pick([d1, d2]));
        Assert.Null(SubjectFace.Pick([]));
    }
}
