using FaceStream.Core.Detection.Adaptive;
using FaceStream.Core.Faces;
using FaceStream.Inference.Detection;
using FaceStream.Core.Geometry;
using FaceStream.Media.Images;
using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Inference;

/// <summary>MTCNN on the six real group photos of the pinned @vladmandic/face-api package.</summary>
[Trait("Category", "Live")]
public class MtcnnDetectorTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    /// <summary>Face centres (x, y) counted and placed by looking at each photo.</summary>
    public static readonly Dictionary<int, (int X, int Y)[]> LabelledFaces = new()
    {
        [1] = [(505, 477), (933, 542), (1581, 322)],
        [2] = [(413, 283), (977, 355), (1545, 283)],
        [3] = [(689, 462), (1171, 354), (1592, 432)],
        [4] = [(345, 333), (741, 180), (1067, 299), (1349, 264)],
        [5] = [(463, 1017), (683, 540), (868, 221), (1204, 324), (1506, 532)],
        [6] = [(362, 626), (766, 483), (1266, 452), (1583, 407)],
    };

    /// <summary>
    /// Known false positive at the default 20 px minimum face: the patterned dress in sample4 (≈80 px box at
    /// (1035, 942), score 0.98). It is absent at 40 px. Listed so a new false positive anywhere still fails.
    /// </summary>
    private static readonly Dictionary<int, int> KnownFalsePositives = new() { [4] = 1 };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void Every_labelled_face_is_found_once_and_nothing_else(int sample)
    {
        var image = StillImageDecoder.DecodeFile(TestAssets.Sample(sample));
        var faces = fixture.Engine.Detector.Detect(image);
        var labelled = LabelledFaces[sample];
        foreach (var (x, y) in labelled)
        {
            int hits = faces.Count(f => f.Box.Contains(new PointF(x, y)));
            Assert.True(hits == 1, $"sample{sample}: face at ({x},{y}) matched {hits} detections");
        }

        int extra = faces.Count(f => !labelled.Any(l => f.Box.Contains(new PointF(l.X, l.Y))));
        Assert.True(extra <= KnownFalsePositives.GetValueOrDefault(sample), $"sample{sample}: {extra} detection(s) on no labelled face");
    }

    [Fact]
    public void Landmarks_lie_inside_their_box_in_anatomical_order()
    {
        for (int sample = 1; sample <= 6; sample++)
        {
            var image = StillImageDecoder.DecodeFile(TestAssets.Sample(sample));
            var labelled = LabelledFaces[sample];
            foreach (var f in fixture.Engine.Detector.Detect(image).Where(f => labelled.Any(l => f.Box.Contains(new PointF(l.X, l.Y)))))
            {
                var l = f.Landmarks;
                Assert.All(l.Points, p => Assert.True(f.Box.Contains(p), $"sample{sample}: landmark {p} outside {f.Box}"));
                float eyes = (l.LeftEye.Y + l.RightEye.Y) / 2, mouth = (l.MouthLeft.Y + l.MouthRight.Y) / 2;
                Assert.True(eyes < l.Nose.Y && l.Nose.Y < mouth, $"sample{sample}: eyes {eyes:F0}, nose {l.Nose.Y:F0}, mouth {mouth:F0} out of order");
                Assert.True(l.LeftEye.X < l.RightEye.X && l.MouthLeft.X < l.MouthRight.X, $"sample{sample}: left/right swapped");
            }
        }
    }

    [Fact]
    public void Batch_detection_equals_one_by_one_detection()
    {
        var a = StillImageDecoder.DecodeFile(TestAssets.Sample(1));
        var b = StillImageDecoder.DecodeFile(TestAssets.Sample(3));
        var batch = fixture.Engine.Detector.DetectBatch([a, b, a]);
        Assert.Equal(3, batch.Count);
        AssertSame(fixture.Engine.Detector.Detect(a), batch[0]);
        AssertSame(fixture.Engine.Detector.Detect(b), batch[1]);
        AssertSame(batch[0], batch[2]);
    }

    private static void AssertSame(IReadOnlyList<DetectedFace> expected, IReadOnlyList<DetectedFace> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Box.X1, actual[i].Box.X1, 2);
            Assert.Equal(expected[i].Box.Y2, actual[i].Box.Y2, 2);
            Assert.Equal(expected[i].Score, actual[i].Score, 4);
        }
    }

    [Fact]
    public void A_window_around_a_face_finds_it_where_the_full_frame_pass_did()
    {
        var image = StillImageDecoder.DecodeFile(TestAssets.Sample(1));
        var full = fixture.Engine.Detector.Detect(image);
        foreach (var (x, y) in LabelledFaces[1])
        {
            var face = full.Single(f => f.Box.Contains(new PointF(x, y)));
            float size = face.Size;
            int x1 = (int)Math.Max(0, face.Box.X1 - size), y1 = (int)Math.Max(0, face.Box.Y1 - size);
            int x2 = (int)Math.Min(image.Width, face.Box.X2 + size), y2 = (int)Math.Min(image.Height, face.Box.Y2 + size);
            var window = image.Crop(x1, y1, x2 - x1, y2 - y1);
            var found = fixture.Engine.Detector.DetectBatch([window], [new FaceSizeRange(size / 1.6f, size * 1.6f)])[0]
                .Select(f => WindowDetections.ToFrame(f, x1, y1)).ToList();
            var same = Assert.Single(found, f => f.Box.Contains(new PointF(x, y)));
            Assert.True(same.Box.IoU(face.Box) > 0.8f, $"window box {same.Box} vs full-frame box {face.Box}");
        }
    }

    [Fact]
    public void One_windowed_call_serves_a_full_frame_a_windowed_frame_and_an_idle_frame()
    {
        var image = StillImageDecoder.DecodeFile(TestAssets.Sample(1));
        var full = fixture.Engine.Detector.Detect(image);
        var (x, y) = LabelledFaces[1][1];
        var face = full.Single(f => f.Box.Contains(new PointF(x, y)));
        int size = (int)face.Size;
        var window = new ScanWindow((int)face.Box.X1 - size, (int)face.Box.Y1 - size, 3 * size, 3 * size, size / 1.6f, size * 1.6f);
        var plans = new[]
        {
            new ScanPlan(true, [], ScanReason.Periodic),
            new ScanPlan(false, [window], ScanReason.Windows),
            new ScanPlan(false, [], ScanReason.Idle),
        };
        var found = WindowedDetection.Detect(fixture.Engine.Detector, [image, image, image], plans);
        AssertSame(full, found[0]);
        var same = Assert.Single(found[1]);
        Assert.True(same.Box.IoU(face.Box) > 0.8f, $"window box {same.Box} vs full-frame box {face.Box}");
        Assert.Empty(found[2]);
    }

    [Fact]
    public void Windows_of_several_frames_searched_in_one_call_find_what_each_window_finds_alone()
    {
        // Each window has its own size and size range, so each is its own P-Net group; R-Net and O-Net run once over
        // all of them (and over a whole frame in the same call). Every image must still get exactly its own faces.
        var detector = fixture.Engine.Detector;
        var images = new List<FaceStream.Core.Imaging.ImageFrame>();
        var sizes = new List<FaceSizeRange>();
        foreach (int sample in new[] { 1, 3, 5 })
        {
            var image = StillImageDecoder.DecodeFile(TestAssets.Sample(sample));
            foreach (var face in detector.Detect(image))
            {
                int size = (int)face.Size;
                int x1 = (int)Math.Max(0, face.Box.X1 - size), y1 = (int)Math.Max(0, face.Box.Y1 - size);
                int x2 = (int)Math.Min(image.Width, face.Box.X2 + size), y2 = (int)Math.Min(image.Height, face.Box.Y2 + size);
                images.Add(image.Crop(x1, y1, x2 - x1, y2 - y1));
                sizes.Add(new FaceSizeRange(size / 1.6f, size * 1.6f));
            }
        }

        var whole = StillImageDecoder.DecodeFile(TestAssets.Sample(6));
        images.Add(whole);
        sizes.Add(FaceSizeRange.Any);
        // A window looking only for faces far smaller than the one it holds: its answer must stay empty in the batch.
        images.Add(images[0]);
        sizes.Add(new FaceSizeRange(12, 14));

        var batch = detector.DetectBatch(images, sizes);

        Assert.Equal(images.Count, batch.Count);
        Assert.True(images.Count >= 12, $"{images.Count} images");
        for (int i = 0; i < images.Count; i++)
        {
            // R-Net and O-Net see other batch sizes here, which moves boxes by float rounding (≈ 0.1 px), not more.
            var alone = detector.DetectBatch([images[i]], [sizes[i]])[0];
            Assert.Equal(alone.Count, batch[i].Count);
            for (int k = 0; k < alone.Count; k++)
            {
                Assert.True(alone[k].Box.IoU(batch[i][k].Box) > 0.99f, $"image {i}: box {batch[i][k].Box} vs {alone[k].Box} alone");
                Assert.Equal(alone[k].Score, batch[i][k].Score, 3);
            }
        }

        Assert.All(batch.Take(images.Count - 2), faces => Assert.NotEmpty(faces));
        Assert.Equal(LabelledFaces[6].Length, batch[^2].Count);
        Assert.Empty(batch[^1]);
    }

    [Fact]
    public void A_window_searched_only_for_much_smaller_faces_does_not_report_the_face_it_holds()
    {
        var image = StillImageDecoder.DecodeFile(TestAssets.Sample(1));
        var (x, y) = LabelledFaces[1][0];
        var face = fixture.Engine.Detector.Detect(image).Single(f => f.Box.Contains(new PointF(x, y)));
        var sizes = new FaceSizeRange(12, face.Size / 4);
        var found = fixture.Engine.Detector.DetectBatch([image], [sizes])[0];
        Assert.DoesNotContain(found, f => f.Box.IoU(face.Box) > 0.5f);
    }

    [Fact]
    public void An_image_too_small_for_the_minimum_face_has_no_faces()
    {
        var tiny = new FaceStream.Core.Imaging.ImageFrame(16, 16, 64, FaceStream.Core.Imaging.PixelFormat.Bgra32, new byte[16 * 64]);
        Assert.Empty(fixture.Engine.Detector.Detect(tiny));
    }
}
