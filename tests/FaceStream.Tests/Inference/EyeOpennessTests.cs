using FaceStream.Core.Attributes;
using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;
using FaceStream.Inference.Attributes;
using FaceStream.Media.Images;
using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Inference;

/// <summary>
/// Eye openness from MediaPipe's iris landmarks (eyelid gap over eye width) on real faces: open eyes looking into
/// the camera read well open, the same on a mirrored photo (left and right swap) and on a turned photo (the crop is
/// levelled on the eye line).
/// </summary>
[Trait("Category", "Live")]
public class EyeOpennessTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    // Open eyes measured 0.29–0.48 on the faces of sample3 and sample6 (docs/attributes.md, "Eyes"); the ORL
    // photos with both eyes shut read 0.10–0.27 on the more open eye.
    private const float WellOpen = 0.2f;

    private (ImageFrame Image, IReadOnlyList<DetectedFace> Faces) Labelled(int sample) => FaceAttributeTests.LabelledFaces(fixture.Engine, sample);

    [Theory]
    [InlineData(3)]
    [InlineData(6)]
    public void Open_eyes_looking_into_the_camera_read_well_open(int sample)
    {
        var (image, faces) = Labelled(sample);
        Assert.NotEmpty(faces);
        using var iris = new MediaPipeIrisEyeState(TestAssets.Store, fixture.Engine.Sessions);
        var eyes = iris.Estimate(faces.Select(f => (image, f)).ToList());
        Assert.All(eyes, (e, i) =>
        {
            Assert.True(e.LeftOpenness >= WellOpen && e.RightOpenness >= WellOpen, $"face {i}: openness {e.LeftOpenness:F3} / {e.RightOpenness:F3}");
            Assert.Equal(EyeState.Open, e.State);
        });
    }

    [Fact]
    public void A_mirrored_photo_swaps_the_eyes_openness()
    {
        var (image, faces) = Labelled(3);
        var mirror = ImageGeometry.Mirror(image);
        var found = fixture.Engine.Detector.Detect(mirror);
        using var iris = new MediaPipeIrisEyeState(TestAssets.Store, fixture.Engine.Sessions);
        foreach (var face in faces)
        {
            var c = face.Box.Center;
            var mirrored = found.Where(f => f.Box.Contains(new PointF(image.Width - 1 - c.X, c.Y))).MaxBy(f => f.Box.Area);
            Assert.NotNull(mirrored);
            var a = iris.Estimate([(image, face)])[0];
            var b = iris.Estimate([(mirror, mirrored)])[0];
            Assert.True(Math.Abs(a.LeftOpenness!.Value - b.RightOpenness!.Value) <= 0.06 && Math.Abs(a.RightOpenness!.Value - b.LeftOpenness!.Value) <= 0.06,
                $"openness {a.LeftOpenness:F3} / {a.RightOpenness:F3}, mirrored {b.LeftOpenness:F3} / {b.RightOpenness:F3}");
        }
    }

    [Theory]
    [InlineData(-25)]
    [InlineData(25)]
    public void Open_eyes_on_a_turned_photo_still_read_well_open(float turn)
    {
        var (image, faces) = Labelled(6);
        var turned = ImageGeometry.Rotate(image, turn);
        var found = fixture.Engine.Detector.Detect(turned);
        using var iris = new MediaPipeIrisEyeState(TestAssets.Store, fixture.Engine.Sessions);
        foreach (var face in faces)
        {
            var c = ImageGeometry.Turned(face.Box.Center, turn, image.Width, image.Height);
            var t = found.Where(f => f.Box.Contains(c)).MaxBy(f => f.Box.Area);
            Assert.NotNull(t);
            var e = iris.Estimate([(turned, t)])[0];
            Assert.True(e.LeftOpenness >= WellOpen && e.RightOpenness >= WellOpen, $"turned {turn}°: openness {e.LeftOpenness:F3} / {e.RightOpenness:F3}");
        }
    }

    [Fact]
    public void Openness_is_the_mean_gap_of_the_middle_lid_points_over_the_corner_distance()
    {
        // Corners at x 0 and 40; lower lid (points 1–7) at y +5, upper lid (9–15) at y −5 over the same x: gap 10.
        var points = new float[76 * 3];
        void Set(int i, float x, float y)
        {
            points[3 * i] = x;
            points[(3 * i) + 1] = y;
        }

        Set(0, 0, 0);
        Set(8, 40, 0);
        for (int k = 0; k < 7; k++)
        {
            Set(1 + k, 5 * (k + 1), 5);
            Set(9 + k, 5 * (k + 1), -5);
        }

        Assert.Equal(0.25f, MediaPipeIrisEyeState.Openness(points), 4);
        // Shut: the upper lid on the lower one.
        for (int k = 0; k < 7; k++)
        {
            Set(9 + k, 5 * (k + 1), 5);
        }

        Assert.Equal(0f, MediaPipeIrisEyeState.Openness(points), 4);
    }
}
