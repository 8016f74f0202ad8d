using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using Xunit;

namespace FaceStream.Tests.Core;

public class LandmarkGeometryTests
{
    // Real MTCNN output on models/samples/sample1.jpg (`facestream detect --json`): a frontal face and a head rolled by
    // about 45° (the woman on the right).
    private static readonly BoxF FrontalBox = new(408.89f, 352.72f, 600.48f, 600.68f);
    private static readonly Landmarks5 Frontal = new(new(440.8f, 460.54f), new(523.04f, 462.15f), new(466.99f, 513.48f), new(444.15f, 542.43f), new(524.68f, 542.99f));
    private static readonly BoxF RolledBox = new(1478.97f, 212.5f, 1682.74f, 430.84f);
    private static readonly Landmarks5 Rolled = new(new(1561.55f, 273.9f), new(1624.46f, 338.19f), new(1552.19f, 341.29f), new(1493.27f, 341.9f), new(1553.93f, 398.14f));

    [Fact]
    public void A_frontal_face_and_a_head_tilted_sideways_are_plausible()
    {
        Assert.Equal(GeometryFault.None, LandmarkGeometry.Check(FrontalBox, Frontal));
        Assert.Equal(GeometryFault.None, LandmarkGeometry.Check(RolledBox, Rolled));
    }

    [Fact]
    public void Swapped_eyes_fail() =>
        Assert.Equal(GeometryFault.EyesSwapped, LandmarkGeometry.Check(FrontalBox, Frontal with { LeftEye = Frontal.RightEye, RightEye = Frontal.LeftEye }));

    [Fact]
    public void A_mouth_above_the_eyes_fails()
    {
        // Mouth corners moved above the eye line: the nose is then below the eyes but above no mouth corner.
        var l = Frontal with { MouthLeft = new(444, 420), MouthRight = new(524, 420) };
        Assert.Equal(GeometryFault.MouthAboveNose, LandmarkGeometry.Check(FrontalBox, l));
    }

    [Fact]
    public void A_nose_above_the_eyes_fails() =>
        Assert.Equal(GeometryFault.NoseAboveEyes, LandmarkGeometry.Check(FrontalBox, Frontal with { Nose = new(480, 440) }));

    [Fact]
    public void A_tiny_or_huge_eye_distance_fails()
    {
        // Box width 191.6 px: eyes 10 px apart (0.05) and 150 px apart (0.78).
        Assert.Equal(GeometryFault.EyeDistance, LandmarkGeometry.Check(FrontalBox, Frontal with { LeftEye = new(477, 461), RightEye = new(487, 461) }));
        Assert.Equal(GeometryFault.EyeDistance, LandmarkGeometry.Check(FrontalBox, Frontal with { LeftEye = new(410, 461), RightEye = new(560, 461) }));
    }

    [Fact]
    public void A_landmark_well_outside_the_box_fails()
    {
        // 10 % of the box side is tolerated (MTCNN boxes are tight on chins), 30 % is not.
        Assert.Equal(GeometryFault.None, LandmarkGeometry.Check(FrontalBox, Frontal with { MouthRight = new(524.68f, 610) }));
        Assert.Equal(GeometryFault.OutsideBox, LandmarkGeometry.Check(FrontalBox, Frontal with { MouthRight = new(524.68f, 675) }));
    }

    [Fact]
    public void Detected_faces_are_checked_with_their_own_box() =>
        Assert.False(LandmarkGeometry.IsPlausible(new DetectedFace(FrontalBox, 0.99f, Frontal with { Nose = new(480, 440) })));
}
