using FaceStream.Cli.Bench;
using FaceStream.Core.Detection.Adaptive;
using FaceStream.Core.Tracking;
using FaceStream.Inference.Detection;
using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Cli;

/// <summary>
/// `facestream bench adaptive --mode full [--reference-scale-factor F]`: a second full pass compared with the reference
/// full pass on the real sample photos' clip (each face of the reference counted once, matched against the other side).
/// </summary>
[Trait("Category", "Live")]
public class AdaptiveComparisonTests : IClassFixture<EngineFixture>
{
    private readonly EngineFixture _fixture;

    public AdaptiveComparisonTests(EngineFixture fixture) => _fixture = fixture;

    private Task<AdaptiveComparisonResult> Compare(IFaceDetector reference, IFaceDetector compared, float countFrom = 0) =>
        AdaptiveComparison.RunAsync(new ComparedDetectors(reference, compared, Adaptive: false), VideoClips.Instance.Faces, fps: 1, loops: 1,
            new MotionOptions(), new ScanOptions(), minFace: 40, countFrom, new TrackerOptions(), trace: null, CancellationToken.None);

    private MtcnnDetector Detector(int minFace) =>
        new(TestAssets.Store, _fixture.Engine.Sessions, new MtcnnOptions { MinFaceSize = minFace });

    [Fact]
    public async Task A_full_pass_compared_with_itself_finds_every_face_and_track_at_once_and_scans_every_pixel()
    {
        using var detector = Detector(40);
        var r = await Compare(detector, detector);
        Assert.True(r.ReferenceFaces >= r.Frames, $"{r.ReferenceFaces} faces in {r.Frames} frames of the sample photos");
        Assert.Equal(r.ReferenceFaces, r.FacesAlsoFound);
        Assert.True(r.ReferenceTracks > 0);
        Assert.Equal(r.ReferenceTracks, r.TracksAlsoFound);
        Assert.Equal(0, r.TracksFoundLate);
        Assert.Equal(r.Frames, r.FullScans);
        Assert.Equal(1, r.MeanScannedShare, 6);
    }

    [Fact]
    public async Task The_reference_detector_gives_the_faces_and_the_compared_one_is_matched_against_them()
    {
        // Faces in the 1280x720 clip are far smaller than 700 px: the compared side can find none of the reference's.
        using var reference = Detector(40);
        using var blind = Detector(700);
        var r = await Compare(reference, blind);
        Assert.True(r.ReferenceFaces >= r.Frames, $"{r.ReferenceFaces} faces in {r.Frames} frames");
        Assert.Equal(0, r.FacesAlsoFound);
        Assert.Equal(0, r.TracksAlsoFound);
        Assert.Equal(0, r.FaceAgreement);

        // Swapped, the reference finds nothing, so there is nothing to miss.
        var swapped = await Compare(blind, reference);
        Assert.Equal(0, swapped.ReferenceFaces);
        Assert.Equal(1, swapped.FaceAgreement);
    }

    [Fact]
    public async Task Faces_smaller_than_count_from_are_neither_counted_nor_awaited()
    {
        // --count-from: only faces the size gate would pass count (and tracks with two of them); none is 4000 px.
        using var detector = Detector(40);
        var all = await Compare(detector, detector);
        var none = await Compare(detector, detector, countFrom: 4000);
        Assert.True(all.ReferenceFaces > 0 && all.ReferenceTracks > 0);
        Assert.Equal(0, none.ReferenceFaces);
        Assert.Equal(0, none.ReferenceTracks);
        Assert.Equal(all.Frames, none.Frames);
    }
}
