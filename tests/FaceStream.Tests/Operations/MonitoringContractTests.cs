using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FaceStream.Tests.Support;
using FaceStream.Tests.Worker;
using Xunit;

namespace FaceStream.Tests.Operations;

/// <summary>
/// The Grafana dashboard and the Prometheus alert rules under charts/facestream against the real worker: every metric
/// they query is exported by a running `facestream run`, so renaming a metric breaks the build instead of a dashboard.
/// </summary>
[Trait("Category", "Live")]
public class MonitoringContractTests
{
    /// <summary>Series Prometheus makes itself (scrape health); not on the worker's /metrics.</summary>
    private static readonly HashSet<string> ScrapeSeries = ["up"];

    /// <summary>Labels Prometheus attaches from the scrape target.</summary>
    private static readonly HashSet<string> TargetLabels = ["job", "instance"];

    [Fact]
    public Task Every_metric_the_dashboard_and_the_alert_rules_use_is_exported_by_a_running_worker() => Bounded.Run(async () =>
    {
        var expressions = Expressions().ToList();
        var used = expressions.SelectMany(e => PromQl.Metrics(e.Expr).Select(m => (Metric: m, e.Where)))
            .Where(m => !ScrapeSeries.Contains(m.Metric))
            .ToList();
        var labelled = expressions.SelectMany(e => PromQl.Labels(e.Expr).Select(l => (l.Metric, l.Label, e.Where)))
            .Where(l => !ScrapeSeries.Contains(l.Metric) && !TargetLabels.Contains(l.Label))
            .ToList();
        // The extraction itself must work: a parser that finds nothing would pass vacuously.
        var names = used.Select(u => u.Metric).ToHashSet();
        foreach (var expected in new[] { "facestream_frame_to_decision_seconds_bucket", "facestream_camera_last_frame_age_seconds", "facestream_events_lost_total",
                     "process_cpu_seconds_total", "dotnet_collection_count_total", "facestream_info" })
        {
            Assert.Contains(expected, names);
        }

        // A separate process, as deployed: the default registry with prometheus-net's process and runtime metrics.
        var dir = TestAssets.TempDirectory();
        var config = Path.Combine(dir, "facestream.json");
        int port = TestPorts.Free();
        await File.WriteAllTextAsync(config, $$"""
            { "Detector": { "Mtcnn": { "MinFaceSize": 40 } }, "Metrics": { "Port": {{port}} },
              "Events": { "Console": false, "JsonLinesFile": "{{Path.Combine(dir, "events.jsonl")}}" },
              "Cameras": [ { "Id": "lobby", "Url": "{{VideoClips.Instance.H264_720}}", "Loop": true, "Realtime": true, "AnalysisFps": 5 } ] }
            """);
        using var worker = WorkerProcess.Start(config);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        await worker.WaitFor200Async(http, "/readyz", TimeSpan.FromSeconds(90));

        // The runtime meters (system_runtime_*) are published by prometheus-net's adapter a few seconds after start.
        string exposition = "";
        List<string> missing = [];
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            exposition = await http.GetStringAsync("/metrics");
            var families = Families(exposition);
            missing = used.Where(u => !Exported(u.Metric, families)).Select(u => $"{u.Metric} ({u.Where})").Distinct().ToList();
            if (missing.Count == 0)
            {
                break;
            }

            await Task.Delay(1000);
        }
        while (DateTime.UtcNow < deadline);

        Assert.True(missing.Count == 0, "metrics used by charts/facestream but not exported by the worker:\n  " + string.Join("\n  ", missing));
        // The product version, the one the chart's appVersion must equal (scripts/check-charts.sh).
        Assert.Contains($"facestream_info{{version=\"{Repository.ProductVersion}\",", exposition, StringComparison.Ordinal);

        // Labels too (camera, stage, reason, state, generation, sink…), wherever the metric has series already (the
        // worker has a JSON-lines sink here, so its per-sink series exist at 0 from the start).
        var series = Series(exposition);
        var wrongLabels = labelled.Where(l => series.TryGetValue(l.Metric, out var labels) && !labels.Contains(l.Label))
            .Select(l => $"{l.Metric} has no label '{l.Label}' ({l.Where})").Distinct().ToList();
        Assert.True(labelled.Count > 20, $"only {labelled.Count} metric labels found in the dashboard and rules: the extraction is broken");
        Assert.True(wrongLabels.Count == 0, "labels used by charts/facestream but not on the worker's series:\n  " + string.Join("\n  ", wrongLabels));
    });

    [Fact]
    public void Every_alert_has_a_summary_a_description_and_a_runbook_section_in_the_operations_guide()
    {
        var guide = File.ReadAllText(Path.Combine(Repository.Root, "docs", "operations.md"));
        var anchors = Regex.Matches(guide, @"^#+\s+(.+)$", RegexOptions.Multiline).Select(m => GitHubAnchor(m.Groups[1].Value)).ToHashSet();
        var alerts = Alerts().ToList();
        Assert.NotEmpty(alerts);
        foreach (var a in alerts)
        {
            Assert.True(a.Annotations.ContainsKey("summary"), $"{a.Name}: no summary");
            Assert.True(a.Annotations.ContainsKey("description"), $"{a.Name}: no description");
            Assert.True(a.Annotations.TryGetValue("runbook_url", out var url), $"{a.Name}: no runbook_url");
            Assert.Equal($"docs/operations.md#{a.Name.ToLowerInvariant()}", url);
            Assert.True(anchors.Contains(a.Name.ToLowerInvariant()), $"{a.Name}: docs/operations.md has no section '### {a.Name}'");
        }
    }

    [Fact]
    public async Task The_dashboard_the_rules_and_the_chart_pass_their_offline_checks()
    {
        // promtool check/test rules, the @grafana/schema type-check, promtool on every dashboard expr, helm lint/template.
        var (exit, stdout, stderr) = await Repository.RunAsync("bash", TimeSpan.FromMinutes(3), Path.Combine(Repository.Root, "scripts", "check-charts.sh"));
        Assert.True(exit == 0, $"scripts/check-charts.sh failed (exit {exit}):\n{stdout}\n{stderr}");
    }

    /// <summary>Metric families declared on /metrics (a family with no series yet, such as a sink's losses, still has its # TYPE line).</summary>
    private static Dictionary<string, string> Families(string exposition) =>
        Regex.Matches(exposition, @"^# TYPE (\S+) (\S+)$", RegexOptions.Multiline).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);

    private static bool Exported(string metric, Dictionary<string, string> families)
    {
        if (families.ContainsKey(metric))
        {
            return true;
        }

        var suffix = Regex.Match(metric, "^(.+)_(bucket|sum|count)$");
        return suffix.Success && families.TryGetValue(suffix.Groups[1].Value, out var type) && type is "histogram" or "summary";
    }

    /// <summary>Every PromQL expression of the dashboard (panels, and the variables' label_values queries) and of the alert rules.</summary>
    private static IEnumerable<(string Where, string Expr)> Expressions()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root, "charts", "facestream", "dashboards", "facestream.json")));
        foreach (var panel in doc.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (!panel.TryGetProperty("targets", out var targets))
            {
                continue;
            }

            foreach (var target in targets.EnumerateArray())
            {
                yield return ("dashboard " + panel.GetProperty("title").GetString(), target.GetProperty("expr").GetString()!);
            }
        }

        foreach (var variable in doc.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            // label_values(SELECTOR, LABEL) reads LABEL of SELECTOR's series: the same as max by (LABEL) (SELECTOR).
            if (variable.TryGetProperty("query", out var q) && q.ValueKind == JsonValueKind.Object
                && Regex.Match(q.GetProperty("query").GetString()!, @"^label_values\((.+),\s*(\w+)\s*\)$") is { Success: true } m)
            {
                yield return ("dashboard variable $" + variable.GetProperty("name").GetString(), $"max by ({m.Groups[2].Value}) ({m.Groups[1].Value})");
            }
        }

        foreach (var alert in Alerts())
        {
            yield return ("rule " + alert.Name, alert.Expr);
        }
    }

    /// <summary>Each series name on /metrics with the label names its series carry.</summary>
    private static Dictionary<string, HashSet<string>> Series(string exposition)
    {
        var series = new Dictionary<string, HashSet<string>>();
        foreach (Match m in Regex.Matches(exposition, @"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{([^}]*)\})? ", RegexOptions.Multiline))
        {
            var labels = series.TryGetValue(m.Groups[1].Value, out var l) ? l : series[m.Groups[1].Value] = [];
            foreach (Match label in Regex.Matches(m.Groups[2].Value, @"(\w+)="))
            {
                labels.Add(label.Groups[1].Value);
            }
        }

        return series;
    }

    private sealed record Alert(string Name, string Expr, Dictionary<string, string> Annotations);

    /// <summary>The alerts of charts/facestream/rules/facestream.rules.yaml, read line by line (the file's own layout: inline or `|` block exprs).</summary>
    private static IEnumerable<Alert> Alerts()
    {
        var lines = File.ReadAllLines(Path.Combine(Repository.Root, "charts", "facestream", "rules", "facestream.rules.yaml"));
        Alert? current = null;
        bool inAnnotations = false;
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (Regex.Match(line, @"^\s*- alert:\s*(\S+)") is { Success: true } alert)
            {
                if (current is not null)
                {
                    yield return current;
                }

                current = new Alert(alert.Groups[1].Value, "", []);
                inAnnotations = false;
            }
            else if (current is null)
            {
                continue;
            }
            else if (Regex.Match(line, @"^(\s*)expr:\s*(.*)$") is { Success: true } expr)
            {
                var text = new StringBuilder(expr.Groups[2].Value == "|" ? "" : expr.Groups[2].Value);
                int indent = expr.Groups[1].Value.Length;
                while (expr.Groups[2].Value == "|" && i + 1 < lines.Length && (lines[i + 1].Trim().Length == 0 || Indent(lines[i + 1]) > indent))
                {
                    text.Append(' ').Append(lines[++i].Trim());
                }

                current = current with { Expr = text.ToString() };
            }
            else if (Regex.IsMatch(line, @"^\s*annotations:\s*$"))
            {
                inAnnotations = true;
            }
            else if (inAnnotations && Regex.Match(line, @"^\s+(\w+):\s*(.*)$") is { Success: true } annotation)
            {
                current.Annotations[annotation.Groups[1].Value] = annotation.Groups[2].Value.Trim().Trim('"', '\'');
            }
        }

        if (current is not null)
        {
            yield return current;
        }
    }

    private static int Indent(string line) => line.Length - line.TrimStart().Length;

    /// <summary>GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens.</summary>
    private static string GitHubAnchor(string heading) =>
        Regex.Replace(Regex.Replace(heading.Trim().ToLowerInvariant(), @"[^\w\- ]", ""), " ", "-");
}

/// <summary>The metric names a PromQL expression reads (enough PromQL for our dashboard and rules; checked by promtool separately).</summary>
internal static class PromQl
{
    private static readonly HashSet<string> Keywords =
        ["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan"];

    /// <summary>
    /// (metric, label) pairs an expression relies on: the label names in a selector's matchers belong to that metric; the
    /// labels of by/without/on/ignoring/group lists to every metric of the expression.
    /// </summary>
    public static IEnumerable<(string Metric, string Label)> Labels(string expr)
    {
        var s = Regex.Replace(expr, "\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"");
        var metrics = Metrics(expr).ToList();
        foreach (Match selector in Regex.Matches(s, @"(?<![\w:])([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^}]*)\}"))
        {
            foreach (Match matcher in Regex.Matches(selector.Groups[2].Value, @"(\w+)\s*(?:=~|!~|!=|=)"))
            {
                yield return (selector.Groups[1].Value, matcher.Groups[1].Value);
            }
        }

        foreach (Match list in Regex.Matches(s, @"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)"))
        {
            foreach (var label in list.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                foreach (var metric in metrics)
                {
                    yield return (metric, label);
                }
            }
        }
    }

    public static IEnumerable<string> Metrics(string expr)
    {
        var s = Regex.Replace(expr, "\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"");                                // strings
        s = Regex.Replace(s, @"\{[^}]*\}", " ");                                                          // label matchers
        s = Regex.Replace(s, @"\[[^\]]*\]", " ");                                                         // ranges
        s = Regex.Replace(s, @"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ");       // label lists
        s = Regex.Replace(s, @"\boffset\s+\S+", " ");                                                     // offsets
        foreach (Match m in Regex.Matches(s, @"(?<![\w:.$])(?>[A-Za-z_:][A-Za-z0-9_:]*)(?!\s*\()"))
        {
            if (!Keywords.Contains(m.Value.ToLowerInvariant()))
            {
                yield return m.Value;
            }
        }
    }
}

/// <summary>The repository this test build came from (found upward from the test binaries).</summary>
internal static class Repository
{
    public static string Root { get; } = Find();

    /// <summary>&lt;Version&gt; in Directory.Build.props.</summary>
    public static string ProductVersion { get; } =
        Regex.Match(File.ReadAllText(Path.Combine(Root, "Directory.Build.props")), "<Version>([^<]+)</Version>").Groups[1].Value;

    /// <summary>Runs a tool (a script, helm) in the repository root; killed, with its process tree, after <paramref name="limit"/>.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string file, TimeSpan limit, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = Root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(limit);
        try
        {
            await p.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {limit}");
        }

        return (p.ExitCode, await stdout, await stderr);
    }

    private static string Find()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "FaceStream.sln")))
            {
                return d.FullName;
            }
        }

        throw new InvalidOperationException($"no FaceStream.sln above {AppContext.BaseDirectory}");
    }
}
