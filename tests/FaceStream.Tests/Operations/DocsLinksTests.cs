using System.Text.RegularExpressions;
using Xunit;

namespace FaceStream.Tests.Operations;

/// <summary>
/// Relative links in README.md and docs/*.md lead somewhere: the file exists and, for a #fragment into a Markdown page,
/// a heading of that page has that anchor (GitHub's rule: lower case, punctuation dropped, spaces to hyphens). Headings
/// in benchmarks.md carry dates and issue numbers, so an edited heading silently broke links to it.
/// </summary>
public partial class DocsLinksTests
{
    [Fact]
    public void Every_relative_link_of_the_readme_and_the_manual_reaches_its_file_and_heading()
    {
        var pages = Directory.GetFiles(Path.Combine(Repository.Root, "docs"), "*.md").Prepend(Path.Combine(Repository.Root, "README.md"));

        var broken = BrokenLinks(pages).ToList();

        Assert.True(broken.Count == 0, "broken links:\n" + string.Join("\n", broken));
    }

    [Fact]
    public void A_link_to_a_missing_heading_or_file_is_reported_and_good_ones_are_not()
    {
        var dir = Directory.CreateTempSubdirectory("docslinks");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "b.md"), "# B\n\n### The issue's rows, issue 12 (2026-12-03, idle machine)\n\n## Same\n\n## Same\n");
            var a = Path.Combine(dir.FullName, "a.md");
            File.WriteAllText(a, string.Join("\n",
                "[ok](b.md#the-issues-rows-issue-12-2026-12-03-idle-machine) [ok](b.md#same-1) [ok](#top) [web](https://example.org/#x)",
                "# Top",
                "[gone](b.md#the-issues-rows) [missing](c.md)",
                "```sh",
                "echo '[not a link](nowhere.md)'",
                "```"));

            var broken = BrokenLinks([a]).ToList();

            Assert.Equal(2, broken.Count);
            Assert.Contains(broken, b => b.Contains("b.md#the-issues-rows", StringComparison.Ordinal) && b.Contains("no heading", StringComparison.Ordinal));
            Assert.Contains(broken, b => b.Contains("c.md", StringComparison.Ordinal) && b.Contains("no such file", StringComparison.Ordinal));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static IEnumerable<string> BrokenLinks(IEnumerable<string> pages)
    {
        var anchors = new Dictionary<string, HashSet<string>>();
        foreach (var page in pages)
        {
            var text = WithoutCodeBlocks(File.ReadAllText(page));
            foreach (Match m in LinkPattern().Matches(text))
            {
                var target = m.Groups[1].Value;
                if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    continue;
                }

                var hash = target.IndexOf('#');
                var path = hash < 0 ? target : target[..hash];
                var fragment = hash < 0 ? "" : target[(hash + 1)..];
                var file = path.Length == 0 ? page : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, path));
                if (!File.Exists(file) && !Directory.Exists(file))
                {
                    yield return $"{Path.GetFileName(page)}: ({target}): no such file";
                    continue;
                }

                if (fragment.Length > 0 && file.EndsWith(".md", StringComparison.Ordinal))
                {
                    if (!anchors.TryGetValue(file, out var known))
                    {
                        anchors[file] = known = Anchors(File.ReadAllText(file));
                    }

                    if (!known.Contains(fragment))
                    {
                        yield return $"{Path.GetFileName(page)}: ({target}): no heading with that anchor in {Path.GetFileName(file)}";
                    }
                }
            }
        }
    }

    /// <summary>GitHub's heading anchors: lower case, everything but letters, digits, '_', '-' and spaces dropped, spaces to '-', repeats numbered.</summary>
    private static HashSet<string> Anchors(string markdown)
    {
        var seen = new Dictionary<string, int>();
        var anchors = new HashSet<string>();
        foreach (Match m in HeadingPattern().Matches(WithoutCodeBlocks(markdown)))
        {
            var slug = NotInSlug().Replace(m.Groups[1].Value.Trim().ToLowerInvariant(), "").Replace(' ', '-');
            int n = seen.GetValueOrDefault(slug);
            seen[slug] = n + 1;
            anchors.Add(n == 0 ? slug : $"{slug}-{n}");
        }

        return anchors;
    }

    private static string WithoutCodeBlocks(string markdown) => CodeBlock().Replace(markdown.ReplaceLineEndings("\n"), "");

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex LinkPattern();

    [GeneratedRegex(@"^#{1,6} (.+)$", RegexOptions.Multiline)]
    private static partial Regex HeadingPattern();

    [GeneratedRegex(@"[^\p{L}\p{N}_\- ]")]
    private static partial Regex NotInSlug();

    [GeneratedRegex(@"^```.*?^```[^\n]*$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex CodeBlock();
}
