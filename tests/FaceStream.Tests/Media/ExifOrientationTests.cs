using FaceStream.Media.Images;
using FaceStream.Tests.Support;
using SkiaSharp;
using Xunit;

namespace FaceStream.Tests.Media;

/// <summary>Phone photos stored sideways with an EXIF orientation tag are turned upright before detection.</summary>
public class ExifOrientationTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    /// <summary>A minimal APP1 Exif segment holding only the orientation tag (0x0112, SHORT).</summary>
    private static byte[] WithOrientation(byte[] jpeg, ushort orientation)
    {
        byte[] app1 =
        [
            0xFF, 0xE1, 0x00, 0x22, (byte)'E', (byte)'x', (byte)'i', (byte)'f', 0, 0,
            (byte)'I', (byte)'I', 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, // little-endian TIFF header, IFD at 8
            0x01, 0x00, // one entry
            0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, (byte)orientation, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, // no next IFD
        ];
        return [.. jpeg[..2], .. app1, .. jpeg[2..]];
    }

    [Fact]
    public void A_sideways_photo_tagged_rotate_90_is_decoded_upright_and_its_faces_found()
    {
        var upright = StillImageDecoder.DecodeFile(TestAssets.Sample(1));
        // Stored pixels turned 90° counter-clockwise; orientation 6 says "rotate 90° clockwise to display".
        var sideways = StillImageDecoder.Orient(upright, SKEncodedOrigin.LeftBottom);
        var tagged = WithOrientation(FaceAnnotator.EncodeJpeg(sideways, 92), 6);

        var decoded = StillImageDecoder.Decode(tagged, "phone.jpg");
        Assert.Equal((upright.Width, upright.Height), (decoded.Width, decoded.Height));
        Assert.Equal(3, fixture.Engine.Detector.Detect(decoded).Count);
        // Without the tag the same pixels stay sideways (the test would fail if orientation were ignored).
        var untagged = StillImageDecoder.Decode(FaceAnnotator.EncodeJpeg(sideways, 92), "untagged.jpg");
        Assert.Equal((upright.Height, upright.Width), (untagged.Width, untagged.Height));
    }

    [Theory]
    [InlineData(SKEncodedOrigin.TopRight)]
    [InlineData(SKEncodedOrigin.BottomRight)]
    [InlineData(SKEncodedOrigin.BottomLeft)]
    [InlineData(SKEncodedOrigin.LeftTop)]
    [InlineData(SKEncodedOrigin.RightTop)]
    [InlineData(SKEncodedOrigin.RightBottom)]
    [InlineData(SKEncodedOrigin.LeftBottom)]
    public void Each_orientation_moves_the_corner_pixels_where_exif_says(SKEncodedOrigin origin)
    {
        // 3×2 image with distinct pixels; the expected positions follow the EXIF definitions.
        var src = new FaceStream.Core.Imaging.ImageFrame(3, 2, 12, FaceStream.Core.Imaging.PixelFormat.Bgra32, Enumerable.Range(0, 24).Select(i => (byte)(i / 4)).ToArray());
        var o = StillImageDecoder.Orient(src, origin);
        byte At(int x, int y) => o.Pixels.Span[(y * o.Stride) + (x * 4)];
        // Source pixel values: (x, y) → y * 3 + x.
        var expectedTopLeft = origin switch
        {
            SKEncodedOrigin.TopRight => 2,
            SKEncodedOrigin.BottomRight => 5,
            SKEncodedOrigin.BottomLeft => 3,
            SKEncodedOrigin.LeftTop => 0,
            SKEncodedOrigin.RightTop => 3,
            SKEncodedOrigin.RightBottom => 5,
            _ => 2, // LeftBottom
        };
        Assert.Equal(expectedTopLeft, At(0, 0));
        bool turned = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        Assert.Equal(turned ? (2, 3) : (3, 2), (o.Width, o.Height));
        // Every source pixel appears exactly once.
        Assert.Equal(Enumerable.Range(0, 6), Enumerable.Range(0, o.Height).SelectMany(y => Enumerable.Range(0, o.Width).Select(x => (int)At(x, y))).Order());
    }
}
