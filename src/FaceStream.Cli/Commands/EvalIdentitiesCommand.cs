using System.CommandLine;
using System.Diagnostics;
using FaceStream.Core.Embeddings;
using FaceStream.Core.Evaluation;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Core.Matching;
using FaceStream.Inference.Models;
using FaceStream.Media.Images;

namespace FaceStream.Cli.Commands;

/// <summary>facestream eval identities DIR: verification and identification accuracy of the whole pipeline on labelled photos.</summary>
public static class EvalIdentitiesCommand
{
    private static readonly string[] Extensions = [".jpg", ".jpeg", ".png", ".bmp", ".webp", ".pgm", ".ppm", ".gif"];

    private static readonly Argument<string> Dataset = new("DIR") { Description = "One sub-folder per person, holding that person's photos" };

    private static readonly Option<float> Pad = CliOptions.Float("--pad", 0f, 2f, 0f, "F", "Pad each photo by this fraction of its size (edge pixels repeated) before detection, for tight crops");

    private static readonly Option<int?> Limit = CliOptions.OptionalInt("--limit", 1, int.MaxValue, "N", "Use only the first N photos (default: all)");

    private static readonly Option<int> Templates = CliOptions.Int("--templates", 1, 100, 5, "K", "Photos enrolled per person in the watchlist simulation");

    private static readonly Option<bool> GreyProbes = new("--grey-probes") { Description = "Probe with the photos turned grey (night: infrared cameras) against a colour gallery" };

    private static readonly Option<bool> CameraGates = new("--camera-gates") { Description = "Measure only the faces the worker's default quality gates (size, score, pose, blur) let through" };

    private static readonly Option<float?> TargetFar = CliOptions.OptionalFloat("--target-far", 1e-6f, 0.5f, "F", "False accept rate to find the threshold for (default 0.001)");

    private static readonly Option<bool> CalibrateOption = new("--calibrate") { Description = "Write the threshold for --target-far into the thresholds file the engine reads" };

    private static readonly Option<string?> Thresholds = new("--thresholds") { Description = "With --calibrate: the thresholds file to write (default: Inference:ThresholdsFile)", HelpName = "FILE" };

    private static readonly Option<string?> Cohort = new("--cohort") { Description = "Photos of people not in DIR, for cohort score normalisation", HelpName = "DIR" };

    private static readonly Option<string?> Dump = new("--dump") { Description = "Write every embedding as a JSON line to FILE, with the face's landmark pose proxies and Hopenet head pose (degrees) for gate studies", HelpName = "FILE" };

    private static readonly Option<bool> PreScreenOption = new("--pre-screen")
    {
        Description = "Also measure the worker's pre-screen (Pipeline:PreScreen) at several margins: the strangers it spares the full embedder, the known faces it would drop",
    };

    /// <summary>Pipeline:PreScreenMargin values reported by --pre-screen (0.15, the default, among them).</summary>
    private static readonly float[] PreScreenMargins = [0.05f, 0.1f, 0.15f, 0.2f, 0.25f, 0.3f];

    public static Command Create()
    {
        var command = new Command("identities", "Verification and identification accuracy of the whole pipeline on labelled photos")
        {
            Dataset, CliOptions.Json, Pad, Limit, Templates, GreyProbes, CameraGates, TargetFar, CalibrateOption, Thresholds, Cohort, Dump, PreScreenOption,
        };
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult args)
    {
        string dir = args.GetRequiredValue(Dataset);
        if (!Directory.Exists(dir))
        {
            throw new UsageException($"{dir}: directory not found");
        }

        var ctx = CliContext.Create(args);

        float pad = args.GetValue(Pad);
        int limit = args.GetValue(Limit) ?? int.MaxValue;
        bool json = args.GetValue(CliOptions.Json);
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

        bool grey = args.GetValue(GreyProbes);
        // --camera-gates: measure only the views the worker would embed (its default quality gates: size, score,
        // pose, blur); a profile or a motion-blurred face never reaches the matcher on a camera.
        bool applyGates = args.GetValue(CameraGates);
        var gates = new Core.Quality.QualityOptions();
        var scratch = new float[gates.SharpnessCropSize * gates.SharpnessCropSize];
        int gated = 0;
        // Through the float's shortest text, so 1e-3 is written as 0.001 rather than 0.0010000000474974513.
        double targetFar = args.GetValue(TargetFar) is { } far ? double.Parse(far.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture) : 1e-3;
        using var engine = ctx.Engine();
        var embeddings = new List<(FaceEmbedding E, FaceEmbedding Probe, int Label, string Path, bool PassesGates, Core.Quality.QualityReport Quality, Core.Attributes.HeadPose? Pose)>();
        // --dump: the head-pose model's angles beside the landmark proxies the camera gates use (docs/attributes.md, pose gates).
        using var pose = args.GetValue(Dump) is null ? null : new FaceStream.Inference.Attributes.HopenetPoseEstimator(engine.Models, engine.Sessions);
        // --pre-screen: each probe as the worker's pre-screen sees it, beside the full embeddings.
        using var screen = args.GetValue(PreScreenOption) ? engine.CreatePreScreen() ?? throw new UsageException("--pre-screen: the embedder is a single model without flip fusion, so the worker runs no pre-screen")
            : null;
        var screenProbes = new List<float[]?>();
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
                    var face = engine.SubjectFaceOf(image);
                    engineMs += sw.Elapsed.TotalMilliseconds;
                    // Night condition: the probe is the same photo without colour, detected and embedded afresh.
                    var probeImage = grey ? Greyscale.Of(image) : image;
                    var probe = face is not null && grey ? engine.SubjectFaceOf(probeImage) : face;
                    if (face is null || probe is null)
                    {
                        notFound++;
                    }
                    else
                    {
                        var quality = Core.Quality.FaceQuality.Assess(image, face.Face, gates, scratch);
                        bool passes = quality.Passed && Core.Quality.FaceQuality.Assess(image, probe.Face, gates, scratch).Passed;
                        if (applyGates && !passes)
                        {
                            gated++;
                        }
                        else
                        {
                            embeddings.Add((face.Embedding, probe.Embedding, label, path, passes, quality, pose?.Estimate([(image, face.Face)])[0]));
                            screenProbes.Add(screen?.Embed([(probeImage, probe.Face.Landmarks)])[0].Vector);
                        }
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

        if (args.GetValue(Dump) is { } dump)
        {
            WriteDump(dump, embeddings.Select(e => (e.Path, e.Label, e.PassesGates, e.Quality, e.Pose, e.E.Vector, e.Probe.Vector)));
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
                // Gallery photo against probe photo: with --grey-probes a colour enrollment against a grey camera frame.
                float s = embeddings[i].E.Similarity(embeddings[j].Probe);
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
        var far4 = VerificationMetrics.TarAt(genuine, impostor, 1e-4);
        var atTarget = VerificationMetrics.TarAt(genuine, impostor, targetFar);
        var (r1, probes) = VerificationMetrics.Rank1(sim, embeddings.Select(e => e.Label).ToList());
        double perImage = engineMs / Math.Max(1, images.Count - failed);
        string model = engine.Embedder.ModelId;
        int templatesPerIdentity = args.GetValue(Templates);
        var op = new OpenSetEvaluation.OperatingPoint(engine.Embedder.Threshold, new DecisionOptions().Margin, targetFar);
        var labelled = embeddings.Select((e, i) => new LabelledFace(e.Label, e.E.Vector, e.Probe.Vector, screenProbes[i])).ToList();
        var screening = screen is null ? [] : PreScreenEvaluation.Run(labelled, templatesPerIdentity, model, op, screen.Offset, screen.Scale, screen.Threshold, PreScreenMargins);
        var openSet = OpenSetEvaluation.Run(labelled, templatesPerIdentity, model, op).Select(r => ("plain", r)).ToList();
        if (args.GetValue(Cohort) is { } cohortDir)
        {
            var cohort = CohortFaces(engine, cohortDir);
            Console.Error.WriteLine($"cohort: {cohort.Count} faces from {cohortDir}");
            openSet.AddRange(OpenSetEvaluation.Run(labelled, templatesPerIdentity, model, op, new CohortNormaliser(cohort, op.Threshold)).Select(r => ($"cohort ({cohort.Count} faces)", r)));
        }

        var decision = new DecisionOptions();
        var tracks = TrackSimulation.Run(labelled, templatesPerIdentity, model, decision, op.Threshold);
        if (args.GetValue(CalibrateOption))
        {
            Calibrate(args, ctx.Inference.ThresholdsFile, engine, dir, people.Count, n, (grey ? "grey probes" : "colour") + (applyGates ? ", camera quality gates" : ""), atTarget);
        }

        string condition = (grey ? "grey probes, colour gallery" : "colour") + (applyGates ? ", camera quality gates" : "");
        if (json)
        {
            Console.Out.WriteLine(Json.Line(w =>
            {
                w.WriteStartObject();
                w.WriteString("dataset", dir);
                w.WriteString("model", model);
                w.WriteString("condition", condition);
                w.WriteBoolean("flipFusion", ctx.Inference.FlipFusion);
                w.WriteNumber("identities", people.Count);
                w.WriteNumber("images", images.Count);
                w.WriteNumber("facesNotFound", notFound);
                w.WriteNumber("unreadable", failed);
                w.WriteNumber("leftOutByCameraGates", gated);
                w.WriteNumber("genuinePairs", genuine.Count);
                w.WriteNumber("impostorPairs", impostor.Count);
                Json.NumberOrNull(w, "accuracy", acc);
                Json.NumberOrNull(w, "accuracyStd", std);
                Json.NumberOrNull(w, "threshold", cvThreshold, 3);
                WriteTar(w, "tarAtFar1e-2", far2);
                WriteTar(w, "tarAtFar1e-3", far3);
                WriteTar(w, "tarAtFar1e-4", far4);
                WriteTar(w, "tarAtTargetFar", atTarget);
                Json.NumberOrNull(w, "targetFar", targetFar, 12);
                w.WriteNumber("rank1", probes == 0 ? 0 : Math.Round((double)r1 / probes, 4));
                w.WriteNumber("rank1Probes", probes);
                Json.NumberOrNull(w, "msPerImage", perImage, 1);
                Json.NumberOrNull(w, "operatingThreshold", op.Threshold);
                Json.NumberOrNull(w, "operatingMargin", op.Margin);
                w.WriteStartArray("watchlist");
                foreach (var (scoring, o) in openSet)
                {
                    w.WriteStartObject();
                    w.WriteString("scoring", scoring);
                    w.WriteString("aggregation", o.Aggregation.ToString().ToLowerInvariant());
                    w.WriteNumber("templatesPerIdentity", templatesPerIdentity);
                    w.WriteNumber("identities", o.Identities);
                    w.WriteNumber("knownProbes", o.KnownProbes);
                    w.WriteNumber("strangerProbes", o.StrangerProbes);
                    Json.NumberOrNull(w, "rank1", o.Rank1);
                    Json.NumberOrNull(w, "strangerAlarmRate", o.StrangerAlarmRate);
                    Json.NumberOrNull(w, "knownNamedRate", o.KnownNamedRate);
                    Json.NumberOrNull(w, "knownMisnamedRate", o.KnownMisnamedRate);
                    Json.NumberOrNull(w, "dirAtFar1e-2", o.DirAtFar1e2);
                    Json.NumberOrNull(w, "dirAtFar1e-3", o.DirAtFar1e3);
                    Json.NumberOrNull(w, "thresholdForTargetFar", o.ThresholdForTarget);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteStartArray("tracks");
                foreach (var t in tracks)
                {
                    w.WriteStartObject();
                    w.WriteString("rule", t.Rule);
                    w.WriteNumber("knownTracks", t.KnownTracks);
                    w.WriteNumber("strangerTracks", t.StrangerTracks);
                    Json.NumberOrNull(w, "knownTracksNamed", t.KnownTracksNamed);
                    Json.NumberOrNull(w, "strangerTracksNamed", t.StrangerTracksNamed);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                if (screen is not null)
                {
                    w.WriteStartObject("preScreen");
                    w.WriteString("member", screen.ModelId);
                    Json.NumberOrNull(w, "memberThreshold", screen.Threshold);
                    w.WriteStartArray("margins");
                    foreach (var r in screening)
                    {
                        w.WriteStartObject();
                        Json.NumberOrNull(w, "margin", r.Margin);
                        Json.NumberOrNull(w, "cut", r.Cut);
                        w.WriteNumber("genuinePairsAccepted", r.GenuinePairsAccepted);
                        w.WriteNumber("genuinePairsLost", r.GenuinePairsLost);
                        w.WriteNumber("knownNamed", r.KnownNamed);
                        w.WriteNumber("knownNamedLost", r.KnownNamedLost);
                        w.WriteNumber("strangers", r.Strangers);
                        w.WriteNumber("strangersScreened", r.StrangersScreened);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                }

                w.WriteEndObject();
            }));
        }
        else
        {
            Console.Out.WriteLine($"dataset        {dir}: {people.Count} identities, {images.Count} images (padding {pad:F2}), {condition}");
            Console.Out.WriteLine($"model          {model} ({engine.Embedder.Dimension}-d{(ctx.Inference.FlipFusion ? ", flip fusion" : "")}), detector min face {ctx.Mtcnn.MinFaceSize} px");
            Console.Out.WriteLine($"faces          not found in {notFound} image(s), {failed} unreadable{(applyGates ? $", {gated} left out by the camera quality gates" : "")}");
            Console.Out.WriteLine($"pairs          {genuine.Count} genuine, {impostor.Count} impostor");
            Console.Out.WriteLine($"verification   accuracy {acc * 100:F2}% ± {std * 100:F2} (10-fold CV), mean threshold {cvThreshold:F3}; best single threshold {best.Threshold:F3} → {best.Accuracy * 100:F2}%");
            Console.Out.WriteLine($"               TAR {Fmt(far2.Tar)} at FAR 1e-2 (threshold {far2.Threshold:F3}); {Fmt(far3.Tar)} at 1e-3 ({far3.Threshold:F3}); {Fmt(far4.Tar)} at 1e-4 ({far4.Threshold:F3})");
            Console.Out.WriteLine($"               threshold for FAR {targetFar:G3}: {atTarget.Threshold:F3} (TAR {Fmt(atTarget.Tar)})");
            Console.Out.WriteLine($"identification rank-1 {(probes == 0 ? 0 : 100.0 * r1 / probes):F2}% ({r1}/{probes}, leave-one-out)");
            Console.Out.WriteLine($"watchlist      half the people enrolled with {templatesPerIdentity} photos each, the other half as strangers, then swapped; operating rule: similarity ≥ {op.Threshold:F3} and margin ≥ {op.Margin:F2}");
            foreach (var (scoring, o) in openSet)
            {
                Console.Out.WriteLine($"  {o.Aggregation.ToString().ToLowerInvariant(),-4} {scoring}: {o.Identities} enrolled, {o.KnownProbes} known + {o.StrangerProbes} stranger probes: rank-1 {o.Rank1 * 100:F2}%; " +
                    $"strangers named {o.StrangerAlarmRate * 100:F2}%, known named right {o.KnownNamedRate * 100:F2}% / wrong {o.KnownMisnamedRate * 100:F2}%; " +
                    $"DIR {o.DirAtFar1e2 * 100:F2}% at FAR 1e-2, {o.DirAtFar1e3 * 100:F2}% at 1e-3; threshold for stranger FAR {targetFar:G3}: {o.ThresholdForTarget:F3}");
            }

            foreach (var t in tracks)
            {
                Console.Out.WriteLine($"tracks         {t.Rule}: {t.KnownTracks} known tracks named {t.KnownTracksNamed * 100:F2}%, {t.StrangerTracks} stranger tracks named {t.StrangerTracksNamed * 100:F2}% (photos of one person as a track's views)");
            }

            if (screen is not null)
            {
                Console.Out.WriteLine($"pre-screen     {screen.ModelId} alone, no flip (its threshold {screen.Threshold:F3}); a probe below threshold − margin against every template skips the full embedder:");
                foreach (var r in screening)
                {
                    Console.Out.WriteLine($"  margin {r.Margin:F2} (cut {r.Cut:F3}): strangers screened {100.0 * r.StrangersScreened / Math.Max(1, r.Strangers):F1}% ({r.StrangersScreened}/{r.Strangers}); " +
                        $"known probes named lost {r.KnownNamedLost}/{r.KnownNamed}; accepted genuine pairs lost {r.GenuinePairsLost}/{r.GenuinePairsAccepted}");
                }
            }

            Console.Out.WriteLine($"speed          {perImage:F1} ms per image (detect + align + embed, decoding excluded)");
        }

        return failed > 0 ? 1 : 0;
    }

    /// <summary>Writes the threshold that gives the target FAR on this data into the thresholds file (other models' entries kept).</summary>
    private static void Calibrate(ParseResult args, string thresholdsFile, Inference.FaceEngine engine, string dir, int identities, int faces, string condition, TarAtFar atTarget)
    {
        if (float.IsNaN(atTarget.Threshold))
        {
            throw new UsageException($"--calibrate: FAR {atTarget.Far:G3} needs at least {Math.Ceiling(1 / atTarget.Far)} impostor pairs; use more people or a larger --target-far");
        }

        string file = args.GetValue(Thresholds) ?? thresholdsFile;
        var entry = new CalibratedThreshold(engine.Embedder.ModelId, MathF.Round(atTarget.Threshold, 4), atTarget.Far, Math.Round(atTarget.Tar, 4),
            Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir))), identities, faces, condition, DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        ThresholdFile.Save(file, entry);
        Console.Error.WriteLine($"calibrated {entry.ModelId}: threshold {entry.Threshold:F4} for FAR {entry.TargetFar:G3} (TAR {entry.Tar:P1}) written to {file}");
    }

    /// <summary>Every confident face in the images under <paramref name="dir"/>: people known not to be in the evaluated set.</summary>
    private static List<float[]> CohortFaces(Inference.FaceEngine engine, string dir)
    {
        var cohort = new List<float[]>();
        foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal))
        {
            var image = StillImageDecoder.DecodeFile(file);
            cohort.AddRange(engine.DetectAndEmbed(image).Where(f => f.Face.Score >= SubjectFace.ConfidentScore).Select(f => f.Embedding.Vector));
        }

        return cohort;
    }

    private static void WriteDump(string path, IEnumerable<(string Path, int Label, bool PassesGates, Core.Quality.QualityReport Quality, Core.Attributes.HeadPose? Pose, float[] Gallery, float[] Probe)> rows)
    {
        using var w = new StreamWriter(path);
        foreach (var (p, label, passes, quality, pose, gallery, probe) in rows)
        {
            w.WriteLine(Json.Line(j =>
            {
                j.WriteStartObject();
                j.WriteString("path", p);
                j.WriteNumber("label", label);
                j.WriteBoolean("passesCameraGates", passes);
                j.WriteString("gateRejection", quality.Rejection.ToString().ToLowerInvariant());
                j.WriteNumber("size", quality.Size);
                j.WriteNumber("landmarkYaw", quality.Yaw);
                j.WriteNumber("landmarkPitch", quality.Pitch);
                if (pose is not null)
                {
                    j.WriteNumber("yawDegrees", pose.Yaw);
                    j.WriteNumber("pitchDegrees", pose.Pitch);
                    j.WriteNumber("rollDegrees", pose.Roll);
                }

                j.WriteStartArray("gallery");
                foreach (var v in gallery)
                {
                    j.WriteNumberValue(v);
                }

                j.WriteEndArray();
                j.WriteStartArray("probe");
                foreach (var v in probe)
                {
                    j.WriteNumberValue(v);
                }

                j.WriteEndArray();
                j.WriteEndObject();
            }));
        }
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
