using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Application.Enrollment;
using Xunit;

namespace FaceStream.Tests.Watchlist;

/// <summary>The dominant-face rule and the user's pick, on made-up detections (the real-photo cases are in EnrollmentTests).</summary>
public class SubjectSelectorTests
{
    private const float Ratio = 2.5f;

    [Fact]
    public void A_face_with_enough_times_the_area_of_the_next_is_enrolled_and_the_others_are_reported()
    {
        // 200² vs 120² = 2.78× the area; listed largest first whatever the detector's order.
        var choice = SubjectSelector.Choose([Face(900, 50, 120), Face(100, 100, 200), Face(20, 600, 40)], FacePick.Dominant, Ratio);
        Assert.Null(choice.Refusal);
        Assert.Equal(1, choice.Number);
        Assert.Equal(new BoxF(100, 100, 300, 300), choice.Face!.Box);
        Assert.Equal([200f, 120f, 40f], choice.Seen.Select(s => s.Box.Width));
        Assert.Equal("enrolled the largest of 3 faces (#1); ignored 2 smaller faces: #2 (900,50)-(1020,170) 120×120 px score 0.99; #3 (20,600)-(60,640) 40×40 px score 0.99", choice.Note);
    }

    [Fact]
    public void Two_faces_of_similar_size_are_ambiguous_and_refused_with_the_faces_listed()
    {
        // 200² vs 130² = 2.37× the area: below the ratio.
        var choice = SubjectSelector.Choose([Face(100, 100, 200), Face(500, 100, 130)], FacePick.Dominant, Ratio);
        Assert.Null(choice.Face);
        Assert.StartsWith("2 faces found and none is clearly the subject", choice.Refusal, StringComparison.Ordinal);
        Assert.EndsWith("#1 (100,100)-(300,300) 200×200 px score 0.99; #2 (500,100)-(630,230) 130×130 px score 0.99", choice.Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void A_detection_with_impossible_landmarks_neither_counts_nor_is_enrolled()
    {
        // The "face in the hair": as large as the real one but with the mouth above the eyes.
        var hair = Face(400, 100, 190);
        hair = hair with { Landmarks = hair.Landmarks with { MouthLeft = new(450, 110), MouthRight = new(550, 110) } };
        var choice = SubjectSelector.Choose([hair, Face(100, 100, 200)], FacePick.Dominant, Ratio);
        Assert.Equal(new BoxF(100, 100, 300, 300), choice.Face!.Box);
        Assert.Single(choice.Seen);
        Assert.Equal("enrolled the only face; ignored 1 detection whose landmarks are not a face's", choice.Note);

        var none = SubjectSelector.Choose([hair], FacePick.Dominant, Ratio);
        Assert.Equal("no face found; ignored 1 detection whose landmarks are not a face's", none.Refusal);
    }

    [Fact]
    public void A_larger_low_score_detection_touching_a_confident_face_is_taken_for_the_same_person()
    {
        // Boxes of a real portrait (identities_wild alia_bhatt/nn_21): the face scored 1.00; MTCNN also found a "face"
        // on the chest, 2.2× its area, scoring 0.88, starting 12 px below the chin.
        var face = Face(344, 142, 200) with { Score = 0.9999f };
        var chest = Face(425, 389, 280) with { Score = 0.88f };
        var choice = SubjectSelector.Choose([chest, face], FacePick.Dominant, Ratio);
        Assert.Null(choice.Refusal);
        Assert.Equal(2, choice.Number);
        Assert.Equal(face.Box, choice.Face!.Box);
        Assert.StartsWith("enrolled the largest confident face (#2 of 2); larger detections scoring below 0.95", choice.Note, StringComparison.Ordinal);

        // The same detection a few face sizes away is another person (looking down, as in sample2.jpg): ambiguous.
        var apart = SubjectSelector.Choose([Face(1100, 389, 280) with { Score = 0.88f }, face], FacePick.Dominant, Ratio);
        Assert.Null(apart.Face);
        Assert.StartsWith("2 faces found and none is clearly the subject", apart.Refusal, StringComparison.Ordinal);

        // Scoring 0.95 or more, the touching detection is a face like any other: ambiguous too.
        Assert.Null(SubjectSelector.Choose([chest with { Score = 0.97f }, face], FacePick.Dominant, Ratio).Face);
    }

    [Fact]
    public void The_user_picks_a_face_by_number_or_by_box()
    {
        DetectedFace[] faces = [Face(100, 100, 200), Face(500, 100, 130)];
        var second = SubjectSelector.Choose(faces, new FacePick(Number: 2), Ratio);
        Assert.Equal(2, second.Number);
        Assert.Equal(new BoxF(500, 100, 630, 230), second.Face!.Box);
        Assert.StartsWith("enrolled face #2 of 2 as asked; ignored 1 other face: #1", second.Note, StringComparison.Ordinal);

        var boxed = SubjectSelector.Choose(faces, FacePick.Parse(null, "490,90,640,240"), Ratio);
        Assert.Equal(2, boxed.Number);

        Assert.StartsWith("face 3 requested but only 2 faces were found: #1", SubjectSelector.Choose(faces, new FacePick(Number: 3), Ratio).Refusal, StringComparison.Ordinal);
        Assert.StartsWith("no face overlaps the box (0,0)-(50,50)", SubjectSelector.Choose(faces, FacePick.Parse(null, "0,0,50,50"), Ratio).Refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", null)]
    [InlineData("two", null)]
    [InlineData(null, "1,2,3")]
    [InlineData(null, "10,10,5,20")]
    [InlineData("1", "1,2,3,4")]
    public void Bad_picks_are_refused(string? face, string? box) => Assert.Throws<FormatException>(() => FacePick.Parse(face, box));

    /// <summary>A square face at (x, y) of side s with frontal landmarks.</summary>
    private static DetectedFace Face(float x, float y, float s) => new(
        new BoxF(x, y, x + s, y + s),
        0.99f,
        new Landmarks5(new(x + (0.3f * s), y + (0.4f * s)), new(x + (0.7f * s), y + (0.4f * s)), new(x + (0.5f * s), y + (0.55f * s)), new(x + (0.35f * s), y + (0.75f * s)), new(x + (0.65f * s), y + (0.75f * s))));
}
