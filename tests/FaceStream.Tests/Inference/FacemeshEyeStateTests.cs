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
/// MediaPipe's 468-point face mesh on real faces: the points land on the face MTCNN found, the mesh's eyes where
/// MTCNN's eye points are, and a face with closed eyelids painted in reads closed where the same face unpainted reads
/// open.
/// </summary>
[Trait("Category", "Live")]
public class FacemeshEyeStateTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private static PointF Mean(IReadOnlyList<PointF> mesh, int[] eye) =>
        new(eye.Average(i => mesh[i].X), eye.Average(i => mesh[i].Y));

    private static float Distance(PointF a, PointF b) => MathF.Sqrt(((a.X - b.X) * (a.X - b.X)) + ((a.Y - b.Y) * (a.Y - b.Y)));

    [Theory]
    [InlineData(3)]
    [InlineData(6)]
    public void The_mesh_lands_on_the_face_and_its_eyes_on_mtcnns_eye_points(int sample)
    {
        var (image, faces) = FaceAttributeTests.LabelledFaces(fixture.Engine, sample);
        Assert.NotEmpty(faces);
        using var mesh = new FacemeshEyeState(TestAssets.Store, fixture.Engine.Sessions);
        var meshes = mesh.Mesh(faces.Select(f => (image, f)).ToList());
        for (int i = 0; i < faces.Count; i++)
        {
            var face = faces[i];
            var points = meshes[i].Points;
            Assert.Equal(FacemeshEyeState.MeshPoints, points.Length);
            Assert.True(meshes[i].FaceScore > 0.5f, $"face {i}: mesh face score {meshes[i].FaceScore:F3}");
            // The mesh reaches the forehead and the jaw line, a little beyond MTCNN's box: nearly all its points
            // inside the box grown by a fifth, every eyelid point inside the box itself.
            float gx = face.Box.Width * 0.1f, gy = face.Box.Height * 0.1f;
            var grown = new BoxF(face.Box.X1 - gx, face.Box.Y1 - gy, face.Box.X2 + gx, face.Box.Y2 + gy);
            int inside = points.Count(grown.Contains);
            Assert.True(inside >= 0.95 * points.Length, $"face {i}: {inside}/{points.Length} mesh points inside the box grown by 20 %");
            Assert.All(FacemeshEyeState.ImageLeftEye.Concat(FacemeshEyeState.ImageRightEye), p => Assert.True(face.Box.Contains(points[p]), $"face {i}: eyelid point {p} at {points[p]} outside {face.Box}"));
            // The mesh's eye centres (mean of corners and lids) within 15 % of the eye distance of MTCNN's eye points.
            float eyes = Distance(face.Landmarks.LeftEye, face.Landmarks.RightEye);
            float left = Distance(Mean(points, FacemeshEyeState.ImageLeftEye), face.Landmarks.LeftEye);
            float right = Distance(Mean(points, FacemeshEyeState.ImageRightEye), face.Landmarks.RightEye);
            Assert.True(left <= 0.15f * eyes && right <= 0.15f * eyes, $"face {i}: mesh eyes {left:F1} / {right:F1} px from MTCNN's (eye distance {eyes:F1} px)");
        }
    }

    [Theory]
    [InlineData(1f, 20)]
    [InlineData(1f, 40)]
    [InlineData(0.8f, 20)]
    [InlineData(0.8f, 40)]
    public void A_face_painted_shut_reads_closed_by_all_three_eye_models_and_the_same_face_open_reads_open(float scale, int minFace)
    {
        // ShutEyeFace: sample3's right-hand woman with closed eyelids painted over MTCNN's eye points; at a second
        // detector setting and on a smaller copy, since MTCNN's landmarks moving by a pixel move the readings.
        using var engine = TestAssets.Engine(minFace: minFace);
        using var mesh = new FacemeshEyeState(TestAssets.Store, fixture.Engine.Sessions);
        using var consensus = new ConsensusEyeState(TestAssets.Store, fixture.Engine.Sessions);
        (float Openness, EyeState State) Read(byte[] photo)
        {
            var image = StillImageDecoder.Decode(photo, "portrait.png");
            var face = SubjectFace.Pick(engine.Detector.Detect(image));
            Assert.NotNull(face);
            var e = mesh.Estimate([(image, face)])[0];
            return (MathF.Max(e.LeftOpenness!.Value, e.RightOpenness!.Value), consensus.Estimate([(image, face)])[0].State);
        }

        var (closed, closedState) = Read(ShutEyeFace.ShutPortrait(engine, scale));
        var (opened, openState) = Read(ShutEyeFace.OpenPortrait(scale));
        Assert.True(closed < ConsensusEyeState.OpennessBelow, $"painted shut: more open eye {closed:F3}, enrollment's threshold {ConsensusEyeState.OpennessBelow}");
        Assert.True(opened >= ConsensusEyeState.OpennessBelow, $"open: more open eye {opened:F3}, enrollment's threshold {ConsensusEyeState.OpennessBelow}");
        Assert.Equal(EyeState.Closed, closedState);
        Assert.Equal(EyeState.Open, openState);
    }

    [Fact]
    public void Openness_is_the_mean_lid_gap_over_the_corner_distance()
    {
        var mesh = new PointF[FacemeshEyeState.MeshPoints];
        var eye = FacemeshEyeState.ImageLeftEye;
        // Corners 40 px apart; each upper lid point 10 px above its lower one: openness 0.25.
        mesh[eye[0]] = new PointF(0, 0);
        mesh[eye[1]] = new PointF(40, 0);
        for (int k = 2; k < eye.Length; k += 2)
        {
            mesh[eye[k]] = new PointF(5 * k, -5);
            mesh[eye[k + 1]] = new PointF(5 * k, 5);
        }

        Assert.Equal(0.25f, FacemeshEyeState.Openness(mesh, eye), 4);
        for (int k = 2; k < eye.Length; k += 2)
        {
            mesh[eye[k]] = mesh[eye[k + 1]];
        }

        Assert.Equal(0f, FacemeshEyeState.Openness(mesh, eye), 4);
    }
}
