using System.Diagnostics;
using FaceStream.Core.Embeddings;
using FaceStream.Core.Evaluation;
using FaceStream.Media.Images;

namespace FaceStream.Cli.Commands;

/// <summary>facestream eval identities DIR: verification and identification accuracy of the whole pipeline on labelled photos.</summary>
public static class EvalIdentitiesCommand
{
    public const string Usage = "facestream eval identities DIR [--json] [--pad F] [--limit N] [--templates K] [--min-face PX] [--embedder ID]";

    private static readonly string[] Extensions = [".jpg", ".jpeg", ".png", ".bmp", ".webp", ".pgm", ".ppm", ".gif"];

    public static int Run(IEnumerable<string> argv)
    {
        var args = CliArgs.Parse(argv, ["--pad", "--limit", "--templates"], ["--json"]);
        if (args.Positionals.Count != 1)
        {
            throw new UsageException($"give one directory with a sub-folder per person. Usage: {Usage}");
        }

        string dir = args.Positionals[0];
        if (!Directory.Exists(dir))
        {
            throw new UsageException($"{dir}: directory not found");
        }

        var ctx = CliContext.Create(args);

        float pad = args.Float("--pad", 0f, 2f) ?? 0f;
        int limit = args.Int("--limit", 1, int.MaxValue) ?? int.MaxValue;
        bool json = args.Flag("--json");
        var people = Directory.GetDirectories(dir).OrderBy(d => d, StringComparer.Ordinal).ToList();
        var images = people
            .SelectMany((p, label) => Directory.GetFiles(p)
                .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                .OrderBy(f => f, StringComparer.Ordinal)
                .Select(f => (Path: f, Label: label)))
            .Take(limit)
            .ToList();
        if (images.Count == 0)
        {
            throw new UsageException($"{dir}: no images found in per-person sub-folders");
        }

        using var engine = ctx.Engine();
        var embeddings = new List<(FaceEmbedding E, int Label)>();
        int notFound = 0, failed = 0;
        double engineMs = 0;
        using (var progress = new Progress("embedding", images.Count))
        {
            foreach (var (path, label) in images)
            {
                try
                {
                    var image = StillImageDecoder.PadReplicate(StillImageDecoder.DecodeFile(path), pad);
                    var sw = Stopwatch.StartNew();
                    var face = engine.LargestFace(image);
                    engineMs += sw.Elapsed.TotalMilliseconds;
                    if (face is null)
                    {
                        notFound++;
                    }
                    else
                    {
                        embeddings.Add((face.Embedding, label));
                    }
                }
                catch (ImageDecodeException e)
                {
                    failed++;
                    Console.Error.WriteLine($"error: {e.Message}");
                }

                progress.Tick();
            }
        }

        int n = embeddings.Count;
        var sim = new float[n, n];
        var scores = new List<float>();
        var same = new List<bool>();
        var genuine = new List<float>();
        var impostor = new List<float>();
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                float s = embeddings[i].E.Similarity(embeddings[j].E);
                sim[i, j] = sim[j, i] = s;
                bool isSame = embeddings[i].Label == embeddings[j].Label;
                scores.Add(s);
                same.Add(isSame);
                (isSame ? genuine : impostor).Add(s);
            }
        }

        var (acc, std, cvThreshold) = VerificationMetrics.CrossValidatedAccuracy(scores, same);
        var best = VerificationMetrics.BestThreshold(scores, same);
        var far2 = VerificationMetrics.TarAt(genuine, impostor, 1e-2);
        var far3 = VerificationMetrics.TarAt(genuine, impostor, 1e-3);
        var (r1, probes) = VerificationMetrics.Rank1(sim, embeddings.Select(e => e.Label).ToList());
        double perImage = engineMs / Math.Max(1, images.Count - failed);
        string model = engine.Embedder.ModelId;
        int templatesPerIdentity = args.Int("--templates", 1, 100) ?? 3;
        var openSet = OpenSetEvaluation.Run(embeddings.Select(e => (e.E.Vector, e.Label)).ToList(), templatesPerIdentity, model);
        if (json)
        {
            Console.Out.WriteLine(Json.Line(w =>
            {
                w.WriteStartObject();
                w.WriteString("dataset", dir);
                w.WriteString("model", model);
                w.WriteNumber("identities", people.Count);
                w.WriteNumber("images", images.Count);
                w.WriteNumber("facesNotFound", notFound);
                w.WriteNumber("unreadable", failed);
                w.WriteNumber("genuinePairs", genuine.Count);
                w.WriteNumber("impostorPairs", impostor.Count);
                w.WriteNumber("accuracy", Math.Round(acc, 4));
                w.WriteNumber("accuracyStd", Math.Round(std, 4));
                w.WriteNumber("threshold", Math.Round(cvThreshold, 3));
                WriteTar(w, "tarAtFar1e-2", far2);
                WriteTar(w, "tarAtFar1e-3", far3);
                w.WriteNumber("rank1", probes == 0 ? 0 : Math.Round((double)r1 / probes, 4));
                w.WriteNumber("rank1Probes", probes);
                w.WriteNumber("msPerImage", Math.Round(perImage, 1));
                w.WriteStartArray("watchlist");
                foreach (var o in openSet)
                {
                    w.WriteStartObject();
                    w.WriteString("aggregation", o.Aggregation.ToString().ToLowerInvariant());
                    w.WriteNumber("templatesPerIdentity", templatesPerIdentity);
                    w.WriteNumber("identities", o.Identities);
                    w.WriteNumber("knownProbes", o.KnownProbes);
                    w.WriteNumber("strangerProbes", o.StrangerProbes);
                    w.WriteNumber("rank1", Math.Round(o.Rank1, 4));
                    w.WriteNumber("dirAtFar1e-2", Math.Round(o.DirAtFar1, 4));
                    w.WriteNumber("dirAtFar1e-3", Math.Round(o.DirAtFar01, 4));
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }));
        }
        else
        {
            Console.Out.WriteLine($"dataset        {dir}: {people.Count} identities, {images.Count} images (padding {pad:F2})");
            Console.Out.WriteLine($"model          {model} ({engine.Embedder.Dimension}-d), detector min face {ctx.Mtcnn.MinFaceSize} px");
            Console.Out.WriteLine($"faces          not found in {notFound} image(s), {failed} unreadable");
            Console.Out.WriteLine($"pairs          {genuine.Count} genuine, {impostor.Count} impostor");
            Console.Out.WriteLine($"verification   accuracy {acc * 100:F2}% ± {std * 100:F2} (10-fold CV), mean threshold {cvThreshold:F3}; best single threshold {best.Threshold:F3} → {best.Accuracy * 100:F2}%");
            Console.Out.WriteLine($"               TAR {Fmt(far2.Tar)} at FAR 1e-2 (threshold {far2.Threshold:F3}); TAR {Fmt(far3.Tar)} at FAR 1e-3 (threshold {far3.Threshold:F3})");
            Console.Out.WriteLine($"identification rank-1 {(probes == 0 ? 0 : 100.0 * r1 / probes):F2}% ({r1}/{probes}, leave-one-out)");
            foreach (var o in openSet)
            {
                Console.Out.WriteLine($"watchlist      {o.Aggregation.ToString().ToLowerInvariant(),-4} over {templatesPerIdentity} templates: {o.Identities} enrolled, {o.KnownProbes} known + {o.StrangerProbes} stranger probes: " +
                    $"rank-1 {o.Rank1 * 100:F2}%, DIR {o.DirAtFar1 * 100:F2}% at FAR 1e-2 (threshold {o.ThresholdFar1:F3}), {o.DirAtFar01 * 100:F2}% at FAR 1e-3");
            }

            Console.Out.WriteLine($"speed          {perImage:F1} ms per image (detect + align + embed, decoding excluded)");
        }

        return failed > 0 ? 1 : 0;
    }

    private static string Fmt(double v) => double.IsNaN(v) ? "n/a" : $"{v * 100:F2}%";

    private static void WriteTar(System.Text.Json.Utf8JsonWriter w, string name, TarAtFar t)
    {
        w.WriteStartObject(name);
        Json.NumberOrNull(w, "tar", t.Tar);
        Json.NumberOrNull(w, "threshold", t.Threshold);
        w.WriteEndObject();
    }
}
