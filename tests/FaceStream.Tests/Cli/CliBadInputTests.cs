using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using FaceStream.Tests.Support;
using SkiaSharp;
using Xunit;

namespace FaceStream.Tests.Cli;

/// <summary>Bad input gets a clear error naming the file, exit code 1, and the other inputs are still processed.</summary>
[Trait("Category", "Live")]
public class CliBadInputTests
{
    /// <summary>A decompression bomb: a valid PNG claiming width × height, whose few compressed bytes stand for zeros.</summary>
    private static byte[] PngBomb(int width, int height)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(0), width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        using var z = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(z, System.IO.Compression.CompressionLevel.SmallestSize))
        {
            zlib.Write(new byte[1 << 16]);
        }

        var png = new List<byte> { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", z.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(List<byte> png, string type, byte[] data)
    {
        var len = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        png.AddRange(len);
        var body = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.AddRange(body);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(body));
        png.AddRange(crc);
    }

    private static uint Crc32(byte[] data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            }
        }

        return ~c;
    }

    private static byte[] OnePixelPng()
    {
        using var bmp = new SKBitmap(1, 1);
        bmp.SetPixel(0, 0, SKColors.Red);
        using var img = SKImage.FromBitmap(bmp);
        return img.Encode(SKEncodedImageFormat.Png, 100).ToArray();
    }

    [Fact]
    public void Detect_reports_each_bad_file_and_still_processes_the_good_one()
    {
        string dir = TestAssets.TempDirectory();
        var sample = File.ReadAllBytes(TestAssets.Sample(1));
        var files = new Dictionary<string, byte[]>
        {
            ["empty.jpg"] = [],
            ["truncated.jpg"] = sample[..(sample.Length / 3)],
            ["text.jpg"] = "this is not an image\n"u8.ToArray(),
            ["onepixel.png"] = OnePixelPng(),
            ["bomb.png"] = PngBomb(20000, 20000),
        };
        foreach (var (name, data) in files)
        {
            File.WriteAllBytes(Path.Combine(dir, name), data);
        }

        var args = new List<string> { "detect", "--json" };
        args.AddRange(files.Keys.Select(k => Path.Combine(dir, k)));
        args.Add(TestAssets.Sample(1));
        var r = CliRunner.Run(args.ToArray());

        Assert.Equal(1, r.ExitCode);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(files.Count + 1, lines.Count);
        var reasons = new Dictionary<string, string>
        {
            ["empty.jpg"] = "empty file",
            ["truncated.jpg"] = "truncated",
            ["text.jpg"] = "not a supported image",
            ["onepixel.png"] = "too small",
            ["bomb.png"] = "20000x20000",
        };
        foreach (var (name, reason) in reasons)
        {
            var line = lines.Single(l => l.GetProperty("image").GetString()!.EndsWith(name, StringComparison.Ordinal));
            Assert.Contains(reason, line.GetProperty("error").GetString());
            Assert.Contains(name, r.Stderr);
        }

        var good = lines.Single(l => l.GetProperty("image").GetString() == TestAssets.Sample(1));
        Assert.Equal(3, good.GetProperty("faces").GetArrayLength());
        Assert.True(good.GetProperty("ms").GetDouble() > 0);
        var face = good.GetProperty("faces")[0];
        Assert.Equal(4, face.GetProperty("box").GetArrayLength());
        Assert.Equal(5, face.GetProperty("landmarks").GetArrayLength());
    }

    [Fact]
    public void Compare_says_same_for_a_photo_and_its_reencoding_and_different_for_two_people()
    {
        string dir = TestAssets.TempDirectory();
        var frame = FaceStream.Media.Images.StillImageDecoder.DecodeFile(TestAssets.Sample(5));
        string copy = Path.Combine(dir, "copy.jpg");
        File.WriteAllBytes(copy, FaceStream.Media.Images.FaceAnnotator.EncodeJpeg(frame, 50));
        var same = JsonDocument.Parse(CliRunner.Run("compare", TestAssets.Sample(5), copy, "--json").Stdout).RootElement;
        Assert.True(same.GetProperty("same").GetBoolean());
        var diff = CliRunner.Run("compare", TestAssets.Sample(5), TestAssets.Sample(6), "--json");
        Assert.Equal(0, diff.ExitCode);
        Assert.False(JsonDocument.Parse(diff.Stdout).RootElement.GetProperty("same").GetBoolean());
    }

    [Fact]
    public void Usage_errors_exit_with_code_2()
    {
        Assert.Equal(2, CliRunner.Run("detect").ExitCode);
        Assert.Equal(2, CliRunner.Run("detect", TestAssets.Sample(1), "--no-such-option").ExitCode);
        Assert.Equal(2, CliRunner.Run("detect", TestAssets.Sample(1), "--min-face", "3").ExitCode);
        Assert.Equal(2, CliRunner.Run("compare", TestAssets.Sample(1)).ExitCode);
        var bad = CliRunner.Run("detect", TestAssets.Sample(1), "--provider", "tpu");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("ExecutionProvider", bad.Stderr);
    }

    [Theory]
    [InlineData("cuda", "cannot be loaded")]
    [InlineData("directml", "only on Windows")]
    public void An_execution_provider_that_cannot_load_is_a_clear_error_not_a_silent_fallback(string provider, string message)
    {
        var r = CliRunner.Run("detect", TestAssets.Sample(1), "--provider", provider);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(provider, r.Stderr);
        Assert.Contains(message, r.Stderr);
        Assert.DoesNotContain("face(s)", r.Stdout);
    }

    [Theory]
    [InlineData("detect")]
    [InlineData("embed")]
    [InlineData("run")]
    public void An_unknown_embedder_is_a_usage_error_naming_the_allowed_ids(string command)
    {
        var dir = TestAssets.TempDirectory();
        var config = Path.Combine(dir, "facestream.json");
        File.WriteAllText(config, """{ "Inference": { "Embedder": "nope" }, "Metrics": { "Port": 0 }, "Events": { "Console": false } }""");
        var r = command == "run" ? CliRunner.Run("run", "--config", config) : CliRunner.Run(command, TestAssets.Sample(1), "--embedder", "nope");
        Assert.True(r.ExitCode == 2, r.Stderr);
        Assert.Contains("embedder 'nope'", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("is not one of: mobilefacenet-192, faceplugin-arcface-512", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
    }
}
