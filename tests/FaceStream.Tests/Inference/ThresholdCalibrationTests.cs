using FaceStream.Core.Alignment;
using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;
using FaceStream.Inference;
using FaceStream.Inference.Detection;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;
using FaceStream.Media.Images;
using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Inference;

public class ThresholdCalibrationTests
{
    private static CalibratedThreshold Entry(string model, float t) =>
        new(model, t, 1e-3, 0.95, "identities_wild", 17, 370, "colour", new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void A_calibration_round_trips_and_keeps_the_other_models()
    {
        string file = Path.Combine(TestAssets.TempDirectory(), "config", ThresholdFile.FileName);
        ThresholdFile.Save(file, Entry("mobilefacenet-192", 0.4567f));
        ThresholdFile.Save(file, Entry("faceplugin-arcface-512", 0.3456f));
        ThresholdFile.Save(file, Entry("mobilefacenet-192", 0.5f));
        var loaded = ThresholdFile.Load(file);
        Assert.Equal(2, loaded.Count);
        Assert.Equal(Entry("mobilefacenet-192", 0.5f), loaded["mobilefacenet-192"]);
        Assert.Equal(0.3456f, loaded["faceplugin-arcface-512"].Threshold);
        Assert.Empty(ThresholdFile.Load(Path.Combine(TestAssets.TempDirectory(), "none.json")));
    }

    [Fact]
    public void The_thresholds_file_is_found_beside_the_config_file_whatever_the_working_directory()
    {
        // A service started with --config /etc/facestream/facestream.json from / must read /etc/facestream/thresholds.json.
        string config = Path.Combine("/etc", "facestream", "facestream.json");
        Assert.Equal("/etc/facestream/thresholds.json", ThresholdFile.Resolve(null, config));
        Assert.Equal("/etc/facestream/site/t.json", ThresholdFile.Resolve("site/t.json", config));
        Assert.Equal("/srv/t.json", ThresholdFile.Resolve("/srv/t.json", config));
        Assert.Equal(ThresholdFile.DefaultPath(), ThresholdFile.Resolve("", null));
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("{\"schema\": 2, \"models\": {}}")]
    [InlineData("{\"schema\": 1, \"models\": {\"m\": {\"modelId\": \"m\", \"threshold\": 1.5}}}")]
    public void A_damaged_file_is_an_error_that_names_it(string content)
    {
        string file = Path.Combine(TestAssets.TempDirectory(), ThresholdFile.FileName);
        File.WriteAllText(file, content);
        var e = Assert.Throws<InvalidDataException>(() => ThresholdFile.Load(file));
        Assert.Contains(file, e.Message);
    }

    [Fact]
    public void The_engine_uses_the_calibrated_threshold_of_its_embedder()
    {
        string file = Path.Combine(TestAssets.TempDirectory(), ThresholdFile.FileName);
        ThresholdFile.Save(file, Entry("mobilefacenet-192", 0.4321f));
        var options = new InferenceOptions { ModelsDirectory = TestAssets.Store.Directory, Embedder = "mobilefacenet-192", ThresholdsFile = file };
        using (var engine = new FaceEngine(options, new MtcnnOptions()))
        {
            Assert.Equal(0.4321f, engine.Embedder.Threshold);
        }

        // Another embedder's entry does not apply: the manifest's default stays.
        options.Embedder = "faceplugin-arcface-512";
        using var other = new FaceEngine(options, new MtcnnOptions());
        Assert.Equal(TestAssets.Store.Manifest.Get("faceplugin-arcface-512").Embedding!.Threshold, other.Embedder.Threshold);
    }

    [Trait("Category", "Live")]
    [Fact]
    public void The_eval_command_writes_a_calibration_the_cli_then_uses()
    {
        // A folder per "person": three sample photos, two copies each (the subject of each photo is its largest
        // confident face). Too few impostor pairs for FAR 1e-3, so a target this data can measure is used.
        string root = TestAssets.TempDirectory();
        for (int i = 1; i <= 3; i++)
        {
            Directory.CreateDirectory(Path.Combine(root, "people", $"p{i}"));
            File.Copy(TestAssets.Sample(i), Path.Combine(root, "people", $"p{i}", "a.jpg"));
            File.Copy(TestAssets.Sample(i), Path.Combine(root, "people", $"p{i}", "b.jpg"));
        }

        string file = Path.Combine(root, ThresholdFile.FileName);
        var r = CliRunner.Run("eval", "identities", Path.Combine(root, "people"), "--embedder", "mobilefacenet-192",
            "--calibrate", "--target-far", "0.5", "--thresholds", file, "--templates", "1", "--grey-probes", "--json");
        using var json = System.Text.Json.JsonDocument.Parse(r.Stdout);
        Assert.Equal("grey probes, colour gallery", json.RootElement.GetProperty("condition").GetString());
        Assert.True(json.RootElement.TryGetProperty("tarAtFar1e-4", out _));
        Assert.True(File.Exists(file), $"no calibration written (exit {r.ExitCode}): {r.Stderr}");
        var entry = ThresholdFile.Load(file)["mobilefacenet-192"];
        Assert.Equal(0.5, entry.TargetFar);
        Assert.Equal("grey probes", entry.Condition);
        Assert.Equal(entry.Threshold, json.RootElement.GetProperty("tarAtTargetFar").GetProperty("threshold").GetSingle(), 3);
        Assert.Contains($"threshold {entry.Threshold:F4}", r.Stderr);
    }

    [Trait("Category", "Live")]
    [Fact]
    public void Eval_json_on_a_set_too_small_to_measure_writes_null_instead_of_crashing()
    {
        // Three people, four photos: the watchlist simulation's thresholds are infinite; JSON has no infinity.
        string root = TestAssets.TempDirectory();
        foreach (var (person, sample) in new[] { ("p1", 1), ("p1", 1), ("p2", 3), ("p3", 4) })
        {
            Directory.CreateDirectory(Path.Combine(root, person));
            File.Copy(TestAssets.Sample(sample), Path.Combine(root, person, $"{Directory.GetFiles(Path.Combine(root, person)).Length}.jpg"));
        }

        var r = CliRunner.Run("eval", "identities", root, "--embedder", "mobilefacenet-192", "--json");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        using var json = System.Text.Json.JsonDocument.Parse(r.Stdout);
        Assert.Equal(3, json.RootElement.GetProperty("identities").GetInt32());
    }
}

public class ChipSamplingTests
{
    private static ImageFrame Stripes(int size, int period)
    {
        var px = new byte[size * size * 4];
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                byte v = (byte)((x / period) % 2 == 0 ? 0 : 255);
                px.AsSpan(((y * size) + x) * 4, 4).Fill(v);
            }
        }

        return new ImageFrame(size, size, size * 4, PixelFormat.Bgra32, px);
    }

    [Fact]
    public void Antialiasing_averages_detail_finer_than_a_chip_pixel_and_changes_nothing_at_full_scale()
    {
        // 1-px stripes shrunk 4×: each chip pixel covers two black and two white columns, so its true value is 127.5.
        // Plain bilinear sampling lands on every 4th column, always the same colour: the stripes alias to black.
        var image = Stripes(448, 1);
        var shrink = new SimilarityTransform(0.25f, 0, 0, 0);
        var plain = new float[3 * 112 * 112];
        var smooth = new float[3 * 112 * 112];
        AffineWarp.ToTensor(image, shrink, new ChipFormat(112, false, 0, 1), plain);
        AffineWarp.ToTensor(image, shrink, new ChipFormat(112, false, 0, 1, Antialias: true), smooth);
        float Error(float[] c) => c.Average(v => MathF.Abs(v - 127.5f));
        Assert.True(Error(plain) > 100, $"plain bilinear should alias (mean error {Error(plain):F0})");
        Assert.True(Error(smooth) < 20, $"antialiased chip mean error {Error(smooth):F0}");

        // At 1:1 (a face no larger than the chip) both paths sample identically.
        var same = new SimilarityTransform(1, 0, 0, 0);
        AffineWarp.ToTensor(image, same, new ChipFormat(112, false, 0, 1), plain);
        AffineWarp.ToTensor(image, same, new ChipFormat(112, false, 0, 1, Antialias: true), smooth);
        Assert.Equal(plain, smooth);
    }

    [Fact]
    public void A_mirrored_chip_is_the_chip_of_the_mirrored_image()
    {
        var chip = Enumerable.Range(0, 3 * 4 * 4).Select(i => (float)i).ToArray();
        AffineWarp.MirrorChip(chip, 4);
        Assert.Equal([3f, 2, 1, 0], chip[..4]);
        Assert.Equal([47f, 46, 45, 44], chip[^4..]);
    }
}

[Trait("Category", "Live")]
public class FlipFusionTests
{
    [Fact]
    public void With_flip_fusion_a_face_and_its_mirror_image_embed_alike()
    {
        var image = StillImageDecoder.DecodeFile(TestAssets.Sample(2));
        var mirror = EmbeddingIdentityTests.Mirror(image);
        float Similarity(bool flip)
        {
            var options = new InferenceOptions { ModelsDirectory = TestAssets.Store.Directory, Embedder = "mobilefacenet-192", FlipFusion = flip };
            using var engine = new FaceEngine(options, new MtcnnOptions());
            var a = engine.SubjectFaceOf(image)!;
            var c = a.Face.Box.Center;
            var b = engine.DetectAndEmbed(mirror).Single(f => f.Face.Box.Contains(new PointF(image.Width - 1 - c.X, c.Y)));
            return a.Embedding.Similarity(b.Embedding);
        }

        // Fused, the descriptor no longer depends on which way the face is seen (only detection noise is left); a
        // single embedding of the mirrored face is measurably further away.
        float fused = Similarity(flip: true), single = Similarity(flip: false);
        Assert.True(fused > 0.97f && fused > single + 0.01f, $"fused {fused:F3}, single {single:F3}");
    }
}
