using System.Text.Json;

namespace FaceStream.Worker.Review;

/// <summary>A match an operator labelled: who it named, where, how similar, and whether the verdict was correct.</summary>
public sealed record LabelledAlert(string Identity, string Camera, double Similarity, bool Correct);

/// <summary>Verdicts on one identity or camera (or all): how many were right, and the precision that makes.</summary>
public sealed record PrecisionRow(string Key, int Correct, int Wrong)
{
    public int Labelled => Correct + Wrong;

    public double Precision => Labelled == 0 ? double.NaN : (double)Correct / Labelled;
}

/// <summary>
/// A similarity threshold the labelled alerts support: the lowest one at which the alerts kept (similarity ≥ it) reach
/// the target precision, with what it costs (correct alerts lost) and gains (wrong alerts removed).
/// </summary>
public sealed record ThresholdSuggestion(double Threshold, double Precision, int CorrectKept, int CorrectLost, int WrongRemoved, int WrongLeft);

/// <summary>What `facestream eval feedback` reports: precision overall, per identity and per camera, and a suggested threshold.</summary>
public sealed record FeedbackReport(PrecisionRow Overall, IReadOnlyList<PrecisionRow> ByIdentity, IReadOnlyList<PrecisionRow> ByCamera, double TargetPrecision, ThresholdSuggestion? Suggestion)
{
    public static FeedbackReport Build(IReadOnlyList<LabelledAlert> alerts, double targetPrecision)
    {
        static List<PrecisionRow> By(IEnumerable<LabelledAlert> list, Func<LabelledAlert, string> key) =>
            list.GroupBy(key).Select(g => new PrecisionRow(g.Key, g.Count(a => a.Correct), g.Count(a => !a.Correct))).OrderBy(r => r.Key, StringComparer.Ordinal).ToList();

        var overall = new PrecisionRow("all", alerts.Count(a => a.Correct), alerts.Count(a => !a.Correct));
        return new FeedbackReport(overall, By(alerts, a => a.Identity), By(alerts, a => a.Camera), targetPrecision, Suggest(alerts, targetPrecision));
    }

    /// <summary>The lowest labelled similarity at which the kept alerts reach <paramref name="target"/>; null without labels or when even the most similar alerts miss it.</summary>
    private static ThresholdSuggestion? Suggest(IReadOnlyList<LabelledAlert> alerts, double target)
    {
        foreach (var t in alerts.Select(a => a.Similarity).Distinct().Order())
        {
            int correct = alerts.Count(a => a.Correct && a.Similarity >= t), wrong = alerts.Count(a => !a.Correct && a.Similarity >= t);
            double precision = (double)correct / (correct + wrong);
            if (precision >= target)
            {
                int allCorrect = alerts.Count(a => a.Correct), allWrong = alerts.Count - allCorrect;
                return new ThresholdSuggestion(t, precision, correct, allCorrect - correct, allWrong - wrong, wrong);
            }
        }

        return null;
    }

    /// <summary>The labelled matches in an answer of GET /api/events (a JSON array of events with their <c>feedback</c>).</summary>
    public static List<LabelledAlert> FromEvents(JsonElement events)
    {
        var list = new List<LabelledAlert>();
        foreach (var e in events.EnumerateArray())
        {
            if (e.TryGetProperty("kind", out var kind) && kind.GetString() == "match"
                && e.TryGetProperty("feedback", out var f) && f.ValueKind == JsonValueKind.Object)
            {
                list.Add(new LabelledAlert(e.GetProperty("identity_id").GetString()!, e.GetProperty("camera_id").GetString()!, e.GetProperty("similarity").GetDouble(),
                    f.GetProperty("verdict").GetString() == "correct"));
            }
        }

        return list;
    }
}
