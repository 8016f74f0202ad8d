using System.Text.RegularExpressions;
using Xunit;
using FaceStream.Tests.Support;

namespace FaceStream.Tests.Worker;

/// <summary>docs/configuration.md's key table is the option classes' keys, defaults and summaries (issue 11).</summary>
public partial class ConfigurationDocsTests
{
    private static string Page => Path.Combine(Operations.Repository.Root, "docs", "configuration.md");

    [Fact]
    public void The_key_walk_reaches_nested_sections_lists_of_cameras_and_the_defaults_of_a_fresh_options_object()
    {
        var keys = ConfigKeyTable.Keys().ToDictionary(k => k.Key);

        Assert.Equal("`cpu`", keys["Inference:ExecutionProvider"].Default);
        Assert.Equal("20", keys["Detector:Mtcnn:MinFaceSize"].Default);
        Assert.Equal("`00:00:05`", keys["Cameras:<n>:ReadTimeout"].Default);
        Assert.Equal("`true`", keys["Cameras:<n>:Enabled"].Default);
        // Enrollment's own gates, not a fresh QualityOptions' 40 px.
        Assert.Equal("60", keys["Enrollment:Quality:MinFaceSize"].Default);
        Assert.Equal("`facestream:events`", keys["Events:RedisStream:Key"].Default);
        Assert.Contains("0.01–1", keys["Detector:Adaptive:MaxMovingShare"].Meaning, StringComparison.Ordinal);
        Assert.StartsWith("Longest wait for the next packet", keys["Cameras:<n>:ReadTimeout"].Meaning, StringComparison.Ordinal);
        // Computed, read-only properties are not settings.
        Assert.DoesNotContain("Events:Snapshots:Enabled", keys.Keys);
        Assert.DoesNotContain("Detector:IsAdaptive", keys.Keys);
        Assert.DoesNotContain(keys.Keys, k => k.StartsWith("Mtcnn:", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_key_has_a_row_with_its_real_default_in_docs_configuration_md_and_every_row_names_a_key()
    {
        var keys = ConfigKeyTable.Keys();
        string expected = ConfigKeyTable.Markdown(keys);
        string page = File.ReadAllText(Page).ReplaceLineEndings("\n");
        int begin = page.IndexOf(ConfigKeyTable.Begin, StringComparison.Ordinal);
        int end = page.IndexOf(ConfigKeyTable.End, StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, $"{Page} has no section between '{ConfigKeyTable.Begin}' and '{ConfigKeyTable.End}'");
        string actual = page[begin..(end + ConfigKeyTable.End.Length)];

        if (Environment.GetEnvironmentVariable("FACESTREAM_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(Page, page[..begin] + expected + page[(end + ConfigKeyTable.End.Length)..]);
            return;
        }

        var documented = Rows(actual);
        var problems = keys.Where(k => !documented.ContainsKey(k.Key)).Select(k => $"{k.Key} has no row")
            .Concat(documented.Keys.Where(d => keys.All(k => k.Key != d)).Select(d => $"the row of {d} names no setting"))
            .Concat(keys.Where(k => documented.TryGetValue(k.Key, out var row) && row != k.Row).Select(k => $"{k.Key}: the page says\n  {documented[k.Key]}\n  the code says\n  {k.Row}"))
            .ToList();
        if (actual != expected && problems.Count == 0)
        {
            problems.Add("the rows or sections are out of order");
        }

        Assert.True(problems.Count == 0, $"docs/configuration.md's key table is out of date; regenerate it with FACESTREAM_UPDATE_DOCS=1 dotnet test FaceStream.sln -c Release --filter ConfigurationDocsTests:\n{string.Join("\n", problems)}");
    }

    [Fact]
    public void Rows_of_the_hand_written_tables_above_the_generated_one_name_existing_keys()
    {
        var keys = ConfigKeyTable.Keys().Select(k => k.Key).ToHashSet();
        string page = File.ReadAllText(Page).ReplaceLineEndings("\n");
        string prose = page[..page.IndexOf(ConfigKeyTable.Begin, StringComparison.Ordinal)];
        var stale = new List<string>();
        foreach (Match row in HandRow().Matches(prose))
        {
            // "| `Detector:Mtcnn:PNetThreshold` / `RNetThreshold` |": later names are siblings of the first.
            var names = Regex.Matches(row.Groups[1].Value, "`([^`]+)`").Select(m => m.Groups[1].Value).ToList();
            string parent = names[0][..names[0].LastIndexOf(':')];
            stale.AddRange(names.Select((n, i) => i == 0 ? n : $"{parent}:{n}").Where(n => !keys.Contains(n)));
        }

        Assert.True(stale.Count == 0, "docs/configuration.md names keys that do not exist: " + string.Join(", ", stale));
    }

    private static Dictionary<string, string> Rows(string table) =>
        table.Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal))
            .GroupBy(l => l[3..l.IndexOf('`', 3)]).ToDictionary(g => g.Key, g => g.First());

    [GeneratedRegex(@"^\| ((?:`[A-Za-z]+:[^`]+`)(?: / `[^`]+`)*) \|", RegexOptions.Multiline)]
    private static partial Regex HandRow();
}
