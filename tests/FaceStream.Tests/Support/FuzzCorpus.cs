using SkiaSharp;

namespace FaceStream.Tests.Support;

/// <summary>
/// Mutated images and videos from real seeds, reproducible from (seed, index): bit flips, truncations, swapped chunks
/// and corrupted header fields over JPEG, PNG, WebP, GIF, BMP and PPM made from the sample photos, and over small
/// H.264 MP4 and MKV clips made by the ffmpeg CLI.
/// </summary>
public sealed class FuzzCorpus
{
    private readonly int _seed;
    private readonly IReadOnlyList<(string Ext, byte[] Bytes)> _imageSeeds;
    private readonly IReadOnlyList<(string Ext, byte[] Bytes)> _videoSeeds;

    public string Directory { get; }

    public FuzzCorpus(int seed)
    {
        _seed = seed;
        Directory = TestAssets.TempDirectory();
        _imageSeeds = MakeImageSeeds(Directory);
        _videoSeeds = MakeVideoSeeds(Directory, Path.Combine(Directory, "seed-1.png"));
    }

    public IReadOnlyList<string> SeedFormats => _imageSeeds.Select(s => s.Ext).Concat(_videoSeeds.Select(s => s.Ext)).ToList();

    /// <summary>Writes mutated image <paramref name="index"/> and returns its path.</summary>
    public string Image(int index) => Write("img", index, _imageSeeds);

    /// <summary>An unmutated video seed (the H.264 MP4: 1 s at 10 fps).</summary>
    public string IntactVideo => Path.Combine(Directory, "seed.mp4");

    /// <summary>Writes mutated video <paramref name="index"/> and returns its path.</summary>
    public string Video(int index) => Write("vid", index, _videoSeeds);

    private string Write(string kind, int index, IReadOnlyList<(string Ext, byte[] Bytes)> seeds)
    {
        // One generator per input: any single input can be rebuilt from (seed, kind, index) alone.
        // (HashCode.Combine is salted per process, so the mix is spelled out.)
        var random = new Random((int)((((long)_seed * 1_000_003) + (kind == "img" ? 0 : 500_000_009) + index) & int.MaxValue));
        var (ext, bytes) = seeds[random.Next(seeds.Count)];
        var path = Path.Combine(Directory, $"{kind}-{index:D5}.{ext}");
        File.WriteAllBytes(path, Mutate(bytes, random));
        return path;
    }

    /// <summary>One to three mutations; the first is chosen evenly among the four kinds.</summary>
    public static byte[] Mutate(byte[] seed, Random random)
    {
        var data = (byte[])seed.Clone();
        int count = 1 + (random.Next(4) == 0 ? random.Next(1, 3) : 0);
        for (int m = 0; m < count; m++)
        {
            data = random.Next(4) switch
            {
                0 => FlipBits(data, random),
                1 => data[..random.Next(data.Length)],
                2 => SwapChunks(data, random),
                _ => CorruptHeader(data, random),
            };
        }

        return data;
    }

    private static byte[] FlipBits(byte[] data, Random random)
    {
        int flips = 1 + random.Next(32);
        for (int i = 0; i < flips && data.Length > 0; i++)
        {
            data[random.Next(data.Length)] ^= (byte)(1 << random.Next(8));
        }

        return data;
    }

    private static byte[] SwapChunks(byte[] data, Random random)
    {
        if (data.Length < 16)
        {
            return data;
        }

        int len = 1 + random.Next(data.Length / 8);
        int a = random.Next(data.Length - len), b = random.Next(data.Length - len);
        var tmp = data.AsSpan(a, len).ToArray();
        data.AsSpan(b, len).CopyTo(data.AsSpan(a, len));
        tmp.CopyTo(data.AsSpan(b, len));
        return data;
    }

    /// <summary>Overwrites 16- or 32-bit fields near the start (sizes, offsets, lengths, counts) with edge values.</summary>
    private static byte[] CorruptHeader(byte[] data, Random random)
    {
        uint[] edges = [0, 1, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 0x10000, 8000];
        int fields = 1 + random.Next(4), span = Math.Min(data.Length, 512);
        for (int i = 0; i < fields && span > 4; i++)
        {
            uint v = random.Next(3) == 0 ? (uint)random.NextInt64(0, 1L << 32) : edges[random.Next(edges.Length)];
            int at = random.Next(span - 4), width = random.Next(2) == 0 ? 2 : 4;
            bool bigEndian = random.Next(2) == 0;
            for (int k = 0; k < width; k++)
            {
                int shift = 8 * (bigEndian ? width - 1 - k : k);
                data[at + k] = (byte)(v >> shift);
            }
        }

        return data;
    }

    /// <summary>Two sample photos at 256 px wide in six formats (small: the fuzz is about parsing, not detection time).</summary>
    private static List<(string, byte[])> MakeImageSeeds(string dir)
    {
        var seeds = new List<(string, byte[])>();
        foreach (int sample in new[] { 1, 5 })
        {
            using var photo = SKBitmap.Decode(TestAssets.Sample(sample));
            var info = new SKImageInfo(256, (int)(256f * photo.Height / photo.Width), SKColorType.Bgra8888, SKAlphaType.Opaque);
            using var small = photo.Resize(info, new SKSamplingOptions(SKCubicResampler.Mitchell));
            using var image = SKImage.FromBitmap(small);
            foreach (var (ext, format) in new[] { ("jpg", SKEncodedImageFormat.Jpeg), ("png", SKEncodedImageFormat.Png), ("webp", SKEncodedImageFormat.Webp) })
            {
                using var encoded = image.Encode(format, 85);
                seeds.Add((ext, encoded.ToArray()));
            }

            // Skia encodes none of these: the ffmpeg CLI makes them from the PNG.
            var png = Path.Combine(dir, $"seed-{sample}.png");
            File.WriteAllBytes(png, seeds[^2].Item2);
            foreach (var (ext, args) in new[] { ("gif", ""), ("bmp", "-pix_fmt bgr24"), ("ppm", "-pix_fmt rgb24") })
            {
                var path = Path.Combine(dir, $"seed-{sample}.{ext}");
                VideoClips.Ffmpeg($"-i \"{png}\" {args} \"{path}\"");
                seeds.Add((ext, File.ReadAllBytes(path)));
            }
        }

        return seeds;
    }

    /// <summary>One second of a sample photo at 10 fps, 160 px wide, H.264 in MP4 and in Matroska.</summary>
    private static List<(string, byte[])> MakeVideoSeeds(string dir, string png)
    {
        var seeds = new List<(string, byte[])>();
        foreach (var ext in new[] { "mp4", "mkv" })
        {
            var path = Path.Combine(dir, $"seed.{ext}");
            VideoClips.Ffmpeg($"-loop 1 -i \"{png}\" -t 1 -r 10 -vf scale=160:-2 -c:v libx264 -preset ultrafast -g 5 -pix_fmt yuv420p \"{path}\"");
            seeds.Add((ext, File.ReadAllBytes(path)));
        }

        return seeds;
    }
}
