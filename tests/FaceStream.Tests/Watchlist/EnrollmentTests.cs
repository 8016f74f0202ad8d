using System.Text.Json;
using FaceStream.Core.Geometry;
using FaceStream.Tests.Support;
using FaceStream.Application.Enrollment;
using FaceStream.Watchlist.Store;
using SkiaSharp;
using Xunit;

namespace FaceStream.Tests.Watchlist;

/// <summary>Which face of a real photo is enrolled: the dominant one, the one picked, or none when it is ambiguous.</summary>
[Trait("Category", "Live")]
public class EnrollmentTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    // Regions around faces found by `facestream detect`: sample1's left face (409,353)-(600,601), square, and sample3's
    // middle face (582,326)-(795,598) with a quarter of its size around it.
    private static readonly SKRectI Sample1LeftFace = new(255, 227, 755, 727);
    private static readonly SKRectI Sample3MiddleFace = new(529, 258, 848, 666);

    private Enroller Enroller() => new(fixture.Engine, new MemoryWatchlistStore(), new EnrollmentOptions());

    [Fact]
    public void A_portrait_with_a_small_face_in_the_background_enrols_the_large_face_and_reports_the_small_one()
    {
        // A 640×640 portrait (face ≈ 245×317 px) with another person's face (≈ 80×102 px) pasted into the bottom-right corner.
        using var portrait = new SKBitmap(640, 640);
        using (var canvas = new SKCanvas(portrait))
        using (var sample1 = SKBitmap.Decode(TestAssets.Sample(1)))
        using (var sample3 = SKBitmap.Decode(TestAssets.Sample(3)))
        {
            canvas.DrawBitmap(sample1, Sample1LeftFace, new SKRect(0, 0, 640, 640));
            canvas.DrawBitmap(sample3, Sample3MiddleFace, new SKRect(500, 480, 620, 634));
        }

        using var jpeg = portrait.Encode(SKEncodedImageFormat.Jpeg, 92);
        var (result, template) = Enroller().Prepare(jpeg.ToArray(), "portrait.jpg");

        Assert.True(result.Accepted, result.Reason);
        Assert.NotNull(template);
        Assert.Equal(2, result.Faces.Count);
        Assert.Equal(1, result.Face);
        Assert.True(template.Face.Box.Contains(new(320, 300)), $"enrolled {template.Face.Box}");
        var small = result.Faces[1];
        Assert.True(small.Box.Contains(new(560, 550)), $"second face {small.Box}");
        Assert.StartsWith("enrolled the largest of 2 faces (#1); ignored 1 smaller face: #2 (", result.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void A_face_with_both_eyes_shut_is_refused_with_how_to_override_and_enrolled_when_allowed()
    {
        // Both eyes painted shut over a sample face (ShutEyeFace); the same face unpainted, eyes open.
        using var eyes = new FaceStream.Inference.Attributes.ConsensusEyeState(TestAssets.Store, fixture.Engine.Sessions);
        var enroller = new Enroller(fixture.Engine, new MemoryWatchlistStore(), new EnrollmentOptions(), eyes);
        var shut = ShutEyeFace.ShutPortrait(fixture.Engine);

        var (refused, none) = enroller.Prepare(shut, "shut.png", FacePick.Dominant);
        Assert.False(refused.Accepted);
        Assert.Null(none);
        Assert.StartsWith("eyes closed (", refused.Reason, StringComparison.Ordinal);
        Assert.Contains("--allow-closed-eyes", refused.Reason, StringComparison.Ordinal);
        Assert.Contains("allowClosedEyes", refused.Reason, StringComparison.Ordinal);

        Assert.True(enroller.Prepare(shut, "shut.png", FacePick.Dominant, allowClosedEyes: true).Result.Accepted, "allowed closed eyes");
        Assert.True(new Enroller(fixture.Engine, new MemoryWatchlistStore(), new EnrollmentOptions { RefuseClosedEyes = false }, eyes).Prepare(shut, "shut.png").Result.Accepted, "RefuseClosedEyes off");
        var open = enroller.Prepare(ShutEyeFace.OpenPortrait(), "open.png");
        Assert.True(open.Result.Accepted, open.Result.Reason);
        // The 22 labelled faces of the sample photos, all open (smiles, squints and downward looks among them;
        // faceplugin alone calls 7 of them closed): none reads closed.
        for (int sample = 1; sample <= 6; sample++)
        {
            var (image, faces) = FaceStream.Tests.Inference.FaceAttributeTests.LabelledFaces(fixture.Engine, sample);
            var states = eyes.Estimate(faces.Select(f => (image, f)).ToList());
            Assert.All(states, (e, i) => Assert.True(e.State == FaceStream.Core.Attributes.EyeState.Open, $"sample{sample} face {i}: openness {e.LeftOpenness:F3} / {e.RightOpenness:F3}"));
        }
    }

    [Fact]
    public void A_group_photo_is_refused_with_every_face_listed_largest_first()
    {
        var (result, template) = Enroller().Prepare(File.ReadAllBytes(TestAssets.Sample(1)), "sample1.jpg");

        Assert.False(result.Accepted);
        Assert.Null(template);
        Assert.Equal(3, result.Faces.Count);
        Assert.Equal([1, 2, 3], result.Faces.Select(f => f.Number));
        Assert.True(result.Faces.Zip(result.Faces.Skip(1)).All(p => p.First.Box.Area >= p.Second.Box.Area), "listed largest first");
        Assert.StartsWith("3 faces found and none is clearly the subject", result.Reason, StringComparison.Ordinal);
        foreach (var face in result.Faces)
        {
            Assert.Contains(face.ToString(), result.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_group_photo_whose_other_people_score_low_is_still_refused()
    {
        // sample2.jpg: one face scores 1.00, the other two people look down or aside (0.88, larger, and 0.76) and stand
        // well apart from it, so they are people, not a hand or a chest of the confident one.
        var (result, template) = Enroller().Prepare(File.ReadAllBytes(TestAssets.Sample(2)), "sample2.jpg");

        Assert.False(result.Accepted, result.Note);
        Assert.Null(template);
        Assert.Equal(3, result.Faces.Count);
        Assert.Contains(result.Faces, f => f.Score < 0.95f);
        Assert.StartsWith("3 faces found and none is clearly the subject", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_headshot_cropped_so_tight_that_the_detector_misses_it_is_enrolled_after_a_padded_second_look()
    {
        // sample1's left face cropped to eyebrows-to-chin, 140×150 px: no context around the face, and MTCNN finds nothing.
        using var headshot = new SKBitmap(140, 150);
        using (var canvas = new SKCanvas(headshot))
        using (var sample1 = SKBitmap.Decode(TestAssets.Sample(1)))
        {
            canvas.DrawBitmap(sample1, new SKRectI(420, 420, 560, 570), new SKRect(0, 0, 140, 150));
        }

        using var png = headshot.Encode(SKEncodedImageFormat.Png, 100);
        var photo = png.ToArray();
        Assert.Empty(fixture.Engine.Detector.Detect(FaceStream.Media.Images.StillImageDecoder.Decode(photo, "headshot.png")));

        var (result, template) = Enroller().Prepare(photo, "headshot.png");
        Assert.True(result.Accepted, result.Reason);
        // Reported in the photo's own coordinates, not the padded copy's: the face covers the photo's centre.
        Assert.True(template!.Face.Box.Contains(new(70, 75)), $"enrolled {template.Face.Box}");
        Assert.True(template.Face.Box.X1 < 20 && template.Face.Box.X2 > 120, $"enrolled {template.Face.Box}");

        var once = new Enroller(fixture.Engine, new MemoryWatchlistStore(), new EnrollmentOptions { RetryPadding = 0 }).Prepare(photo, "headshot.png");
        Assert.False(once.Result.Accepted);
        Assert.StartsWith("no face found", once.Result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_user_picks_a_face_of_a_group_photo_by_number_or_by_box()
    {
        var photo = File.ReadAllBytes(TestAssets.Sample(1));
        var byNumber = Enroller().Prepare(photo, "sample1.jpg", new FacePick(Number: 2)).Template;
        Assert.NotNull(byNumber);
        Assert.True(byNumber.Face.Box.Contains(new(500, 480)), $"face 2 is the one on the left, got {byNumber.Face.Box}");

        var (byBox, template) = Enroller().Prepare(photo, "sample1.jpg", new FacePick(Box: new BoxF(400, 340, 610, 610)));
        Assert.True(byBox.Accepted, byBox.Reason);
        Assert.Equal(2, byBox.Face);
        Assert.Equal(byNumber.Face.Box, template!.Face.Box);
        Assert.StartsWith("enrolled face #2 of 3 as asked", byBox.Note, StringComparison.Ordinal);

        Assert.StartsWith("face 4 requested but only 3 faces were found", Enroller().Prepare(photo, "sample1.jpg", new FacePick(Number: 4)).Result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_cli_enrols_the_face_given_by_face_and_lists_the_faces_when_it_refuses()
    {
        var picked = CliRunner.Run("enroll", "--name", "Left Face", "--face", "2", "--json", "--watchlist", "memory:", TestAssets.Sample(1));
        Assert.Equal(0, picked.ExitCode);
        var json = JsonDocument.Parse(picked.Stdout.Trim()).RootElement;
        Assert.True(json.GetProperty("accepted").GetBoolean());
        Assert.Equal(2, json.GetProperty("face").GetInt32());
        Assert.Equal(3, json.GetProperty("faces").GetArrayLength());

        var refused = CliRunner.Run("enroll", "--name", "Someone", "--watchlist", "memory:", TestAssets.Sample(1));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("3 faces found and none is clearly the subject", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("#3 (", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("with --face N", refused.Stderr, StringComparison.Ordinal);

        var misuse = CliRunner.Run("enroll", "--folders", TestAssets.TempDirectory(), "--face", "1", "--watchlist", "memory:");
        Assert.Equal(2, misuse.ExitCode);
    }
}
