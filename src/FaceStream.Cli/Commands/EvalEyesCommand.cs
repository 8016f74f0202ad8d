using System.CommandLine;
using System.Globalization;
using FaceStream.Core.Attributes;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Inference;
using FaceStream.Inference.Attributes;
using FaceStream.Media.Images;

namespace FaceStream.Cli.Commands;

/// <summary>
/// `facestream eval eyes LABELS.csv`: both eye-state models on photos labelled by looking (open, closed or unsure):
/// per model, closed photos caught and open photos called closed; for the landmark model also what each threshold on
/// the eyelid openness would do, so that a threshold is picked from the data (docs/attributes.md, "Eyes").
/// </summary>
public sealed class EvalEyesAction(FaceEngine engine, TextWriter output)
{
    private static readonly float[] Thresholds = [0.06f, 0.08f, 0.10f, 0.12f, 0.14f, 0.16f, 0.18f, 0.20f];

    private sealed record Reading(string Image, int Face, string Label, EyeStateEstimate Vendor, float LeftOpenness, float RightOpenness)
    {
        /// <summary>The more open eye: a face is closed by a threshold only when both eyes are under it.</summary>
        public float Open => MathF.Max(LeftOpenness, RightOpenness);
    }

    /// <param name="labels">A CSV with lines "image,label" (label open, closed or unsure; image relative to the CSV's folder or absolute).</param>
    /// <param name="allFaces">Measure every face of each photo (group photos all labelled alike) instead of its subject face.</param>
    public int Run(string labels, bool allFaces, string? dump)
    {
        string root = Path.GetDirectoryName(Path.GetFullPath(labels))!;
        var rows = File.ReadAllLines(labels).Select(l => l.Split(',')).Where(p => p.Length == 2 && p[1].Trim() is "open" or "closed" or "unsure")
            .Select(p => (Path: Path.Combine(root, p[0].Trim()), Label: p[1].Trim())).ToList();
        if (rows.Count == 0)
        {
            throw new UsageException($"{labels}: no \"image,open|closed|unsure\" lines");
        }

        using var vendor = new FacepluginEyeStateClassifier(engine.Models, engine.Sessions);
        using var iris = new MediaPipeIrisEyeState(engine.Models, engine.Sessions);
        var readings = new List<Reading>();
        int none = 0;
        foreach (var (path, label) in rows)
        {
            ImageFrame image;
            try
            {
                image = StillImageDecoder.DecodeFile(path);
            }
            catch (ImageDecodeException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                continue;
            }

            var detected = engine.Detector.Detect(image);
            IReadOnlyList<DetectedFace> faces = allFaces ? detected : SubjectFace.Pick(detected) is { } subject ? [subject] : [];
            if (faces.Count == 0)
            {
                none++;
                continue;
            }

            var pairs = faces.Select(f => (image, f)).ToList();
            var v = vendor.Estimate(pairs);
            var m = iris.Estimate(pairs);
            readings.AddRange(faces.Select((_, i) => new Reading(path, i, label, v[i], m[i].LeftOpenness ?? 0, m[i].RightOpenness ?? 0)));
        }

        var open = readings.Where(r => r.Label == "open").ToList();
        var closed = readings.Where(r => r.Label == "closed").ToList();
        output.WriteLine($"faces: {readings.Count} (open {open.Count}, closed {closed.Count}, unsure {readings.Count - open.Count - closed.Count}); photos without a face: {none}");
        output.WriteLine("| model | closed faces read closed | open faces read closed |");
        output.WriteLine("|---|---|---|");
        output.WriteLine($"| {vendor.ModelId} (mean closed probability > 0.5) | {closed.Count(r => r.Vendor.State == EyeState.Closed)}/{closed.Count} | {open.Count(r => r.Vendor.State == EyeState.Closed)}/{open.Count} |");
        foreach (float t in Thresholds)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {iris.ModelId}, both eyes' openness < {t:F2} | {closed.Count(r => r.Open < t)}/{closed.Count} | {open.Count(r => r.Open < t)}/{open.Count} |"));
        }

        foreach (var group in readings.GroupBy(r => r.Label).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var o = group.Select(r => r.Open).Order().ToList();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{group.Key}: more open eye's openness min {o[0]:F3}, median {o[o.Count / 2]:F3}, max {o[^1]:F3}"));
        }

        if (dump is not null)
        {
            File.WriteAllLines(dump, readings.OrderBy(r => r.Open).Select(r => string.Create(CultureInfo.InvariantCulture,
                $"{r.Image},{r.Face},{r.Label},{r.Vendor.LeftClosed:F3},{r.Vendor.RightClosed:F3},{r.LeftOpenness:F3},{r.RightOpenness:F3}"))
                .Prepend("image,face,label,vendor_left_closed,vendor_right_closed,left_openness,right_openness"));
        }

        return 0;
    }
}

public static class EvalEyesCommand
{
    private static readonly Argument<string> Labels = new("LABELS.csv") { Description = "Lines \"image,label\" with label open, closed or unsure (image relative to the CSV's folder or absolute)" };

    private static readonly Option<bool> AllFaces = new("--all-faces") { Description = "Measure every face of each photo (all take the photo's label) instead of its subject face" };

    private static readonly Option<string?> Dump = new("--dump") { Description = "Write every face's readings as CSV to FILE", HelpName = "FILE.csv" };

    public static Command Create()
    {
        var command = new Command("eyes", "Both eye-state models on photos labelled open/closed by looking, with the landmark model's openness per threshold")
        {
            Labels, AllFaces, Dump,
        };
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult args)
    {
        string labels = args.GetRequiredValue(Labels);
        if (!File.Exists(labels))
        {
            throw new UsageException($"{labels}: file not found");
        }

        var ctx = CliContext.Create(args);
        using var engine = ctx.Engine();
        return new EvalEyesAction(engine, Console.Out).Run(labels, args.GetValue(AllFaces), args.GetValue(Dump));
    }
}
