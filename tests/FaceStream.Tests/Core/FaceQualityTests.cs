using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;
using FaceStream.Core.Quality;
using Xunit;

namespace FaceStream.Tests.Core;

public class FaceQualityTests
{
    // A flat grey frame: a face that passes size, score, geometry and pose is then refused for blur, the last gate.
    private static readonly ImageFrame Grey = new(640, 640, 640 * 3, PixelFormat.Rgb24, Enumerable.Repeat((byte)128, 640 * 640 * 3).ToArray());

    private static readonly DetectedFace Frontal = new(
        new BoxF(200, 200, 400, 400),
        0.99f,
        new Landmarks5(new(260, 280), new(340, 280), new(300, 320), new(270, 360), new(330, 360)));

    [Fact]
    public void Landmarks_that_cannot_be_a_face_are_refused_by_the_geometry_gate_before_pose_and_blur()
    {
        var swapped = Frontal with { Landmarks = Frontal.Landmarks with { LeftEye = Frontal.Landmarks.RightEye, RightEye = Frontal.Landmarks.LeftEye } };
        var scratch = new float[64 * 64];
        Assert.Equal(GateRejection.Geometry, FaceQuality.Assess(Grey, swapped, new QualityOptions(), scratch).Rejection);
        Assert.Equal(GateRejection.Blur, FaceQuality.Assess(Grey, Frontal, new QualityOptions(), scratch).Rejection);
    }
}
