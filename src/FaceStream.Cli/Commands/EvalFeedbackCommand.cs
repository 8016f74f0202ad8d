using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using FaceStream.Worker.Review;

namespace FaceStream.Cli.Commands;

/// <summary>
/// `facestream eval feedback --from URL|FILE`: the verdicts operators gave on alerts in the review console, as precision
/// per identity and per camera, and the similarity threshold the labelled alerts support for a target precision.
/// </summary>
public static class EvalFeedbackCommand
{
    private static readonly Option<string> From = new("--from")
    {
        Description = "A worker (http://HOST:PORT, read through GET /api/events) or a file holding such an answer (a JSON array of events)",
        HelpName = "URL|FILE",
        Required = true,
    };

    private static readonly Option<string?> Token = new("--token") { Description = "API token for --from URL (default: $FACESTREAM_API_TOKEN); a viewer token is enough", HelpName = "TOKEN" };

    private static readonly Option<float> Target = CliOptions.Float("--target-precision", 0.5f, 1f, 0.95f, "P", "Precision the suggested threshold must reach on the labelled alerts");

    public static Command Create()
    {
        var command = new Command("feedback", "Precision per identity and camera from the verdicts given in the review console, and a suggested threshold") { From, Token, Target, CliOptions.Json };
        command.SetAction(RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(ParseResult args, CancellationToken cancel)
    {
        string from = args.GetRequiredValue(From);
        string json = from.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || from.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            ? await FetchAsync(from, args.GetValue(Token) ?? Environment.GetEnvironmentVariable("FACESTREAM_API_TOKEN"), cancel)
            : File.Exists(from) ? await File.ReadAllTextAsync(from, cancel) : throw new UsageException($"--from {from}: not an http(s) URL and no such file");
        List<LabelledAlert> alerts;
        try
        {
            using var doc = JsonDocument.Parse(json);
            alerts = FeedbackReport.FromEvents(doc.RootElement);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new UsageException($"--from {from}: not a list of events as GET /api/events answers ({e.Message})");
        }

        var report = FeedbackReport.Build(alerts, args.GetValue(Target));
        if (args.GetValue(CliOptions.Json))
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(new
            {
                labelled = report.Overall.Labelled, correct = report.Overall.Correct, wrong = report.Overall.Wrong, precision = Round(report.Overall.Precision),
                by_identity = report.ByIdentity.Select(Row), by_camera = report.ByCamera.Select(Row), target_precision = report.TargetPrecision,
                suggested_threshold = report.Suggestion is { } s
                    ? new { threshold = Math.Round(s.Threshold, 4), precision = Round(s.Precision), correct_kept = s.CorrectKept, correct_lost = s.CorrectLost, wrong_removed = s.WrongRemoved, wrong_left = s.WrongLeft }
                    : null,
            }));
            return 0;
        }

        var o = Console.Out;
        o.WriteLine($"{report.Overall.Labelled} labelled alerts: {report.Overall.Correct} correct, {report.Overall.Wrong} wrong, precision {Percent(report.Overall.Precision)}");
        foreach (var (title, rows) in new[] { ("identity", report.ByIdentity), ("camera", report.ByCamera) })
        {
            o.WriteLine($"\n{"per " + title,-28} {"correct",8} {"wrong",6} {"precision",10}");
            foreach (var r in rows)
            {
                o.WriteLine($"{r.Key,-28} {r.Correct,8} {r.Wrong,6} {Percent(r.Precision),10}");
            }
        }

        o.WriteLine();
        o.WriteLine(report.Suggestion switch
        {
            null when report.Overall.Labelled == 0 => "no labelled alerts yet: mark alerts correct or wrong in the console (Alerts page)",
            null => $"no threshold reaches {Percent(report.TargetPrecision)} precision: even the most similar labelled alerts include wrong ones",
            { WrongRemoved: 0 } s => $"every threshold up to the lowest labelled similarity ({s.Threshold:F3}) reaches {Percent(s.Precision)}: no change needed for {Percent(report.TargetPrecision)}",
            var s => $"suggested Decision:KnownThreshold {s.Threshold:F3}: precision {Percent(s.Precision)} on the labelled alerts, removes {s.WrongRemoved} wrong and {s.CorrectLost} correct, {s.WrongLeft} wrong left",
        });
        return 0;
    }

    private static object Row(PrecisionRow r) => new { key = r.Key, correct = r.Correct, wrong = r.Wrong, precision = Round(r.Precision) };

    private static double? Round(double v) => double.IsNaN(v) ? null : Math.Round(v, 4);

    private static string Percent(double v) => double.IsNaN(v) ? "-" : (v * 100).ToString("F1", CultureInfo.InvariantCulture) + " %";

    private static async Task<string> FetchAsync(string baseUrl, string? token, CancellationToken cancel)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };
        if (!string.IsNullOrEmpty(token))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        try
        {
            using var response = await http.GetAsync("api/events?kind=match&limit=1000", cancel);
            string body = await response.Content.ReadAsStringAsync(cancel);
            return response.IsSuccessStatusCode ? body : throw new UsageException($"--from {baseUrl}: answered {(int)response.StatusCode}: {body}");
        }
        catch (HttpRequestException e)
        {
            throw new UsageException($"--from {baseUrl}: {e.Message}");
        }
    }
}
