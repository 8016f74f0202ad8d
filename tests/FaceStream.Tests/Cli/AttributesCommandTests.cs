using System.Text.Json;
using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Cli;

/// <summary>`facestream attributes --json`: one line per image with every face's attributes; bad inputs reported like `detect` reports them.</summary>
[Trait("Category", "Live")]
public class AttributesCommandTests
{
    [Fact]
    public void Json_lines_carry_each_faces_attributes_and_bad_inputs_do_not_stop_the_others()
    {
        string dir = TestAssets.TempDirectory();
        string garbage = Path.Combine(dir, "garbage.jpg");
        File.WriteAllText(garbage, "not an image");
        string missing = Path.Combine(dir, "missing.jpg");
        var r = CliRunner.Run("attributes", "--json", TestAssets.Sample(3), garbage, missing);
        Assert.Equal(1, r.ExitCode);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, lines.Count);
        Assert.Equal(TestAssets.Sample(3), lines[0].GetProperty("image").GetString());
        Assert.Equal(garbage, lines[1].GetProperty("image").GetString());
        Assert.True(lines[1].TryGetProperty("error", out _));
        Assert.True(lines[2].TryGetProperty("error", out _));
        Assert.Contains("missing.jpg", r.Stderr, StringComparison.Ordinal);

        // sample3: three women looking at the camera, all near-frontal (labelled by looking at the photo).
        var faces = lines[0].GetProperty("faces").EnumerateArray().ToList();
        Assert.Equal(3, faces.Count);
        foreach (var f in faces)
        {
            Assert.Equal(5, f.GetProperty("landmarks").GetArrayLength());
            Assert.Equal("female", f.GetProperty("gender").GetString());
            Assert.InRange(f.GetProperty("gender_score").GetDouble(), 0.5, 1);
            Assert.InRange(f.GetProperty("age").GetDouble(), 16, 70);
            var pose = f.GetProperty("pose");
            Assert.InRange(pose.GetProperty("yaw").GetDouble(), -30, 30);
            Assert.InRange(pose.GetProperty("pitch").GetDouble(), -15, 15);
            Assert.InRange(pose.GetProperty("roll").GetDouble(), -15, 15);
            Assert.Contains(f.GetProperty("expression").GetString(), f.GetProperty("expression_scores").EnumerateObject().Select(p => p.Name));
            Assert.Contains(f.GetProperty("eyes").GetString(), new[] { "open", "closed" });
            Assert.Equal("hopenet-lite-pose", f.GetProperty("models").GetProperty("pose").GetString());
            var experimental = f.GetProperty("experimental").EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.Contains("expression", experimental);
            Assert.DoesNotContain("gender", experimental);
        }
    }

    [Fact]
    public void Identify_with_attributes_adds_them_to_each_face_beside_the_decision()
    {
        var r = CliRunner.Run("identify", "--watchlist", "memory:", "--attributes", "--json", TestAssets.Sample(3));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var faces = JsonDocument.Parse(r.Stdout.Trim()).RootElement.GetProperty("faces").EnumerateArray().ToList();
        Assert.Equal(3, faces.Count);
        foreach (var f in faces)
        {
            Assert.Equal("unknown", f.GetProperty("decision").GetString());
            Assert.Equal("female", f.GetProperty("gender").GetString());
            Assert.True(f.GetProperty("pose").TryGetProperty("yaw", out _));
            Assert.Contains("expression", f.GetProperty("experimental").EnumerateArray().Select(e => e.GetString()));
        }

        var plain = CliRunner.Run("identify", "--watchlist", "memory:", "--json", TestAssets.Sample(3));
        Assert.DoesNotContain("\"gender\"", plain.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--pose-colour", "rgb")]
    [InlineData("--pose-crop", "tight")]
    public void Eval_attributes_refuses_an_unknown_pose_crop_or_colour_as_a_usage_error(string option, string value)
    {
        var r = CliRunner.Run("eval", "attributes", TestAssets.TempDirectory(), option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"'{value}' not recognized", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("facestream eval attributes --help", r.Stderr, StringComparison.Ordinal);
    }
}
