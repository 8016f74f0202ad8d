using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using FaceStream.Core.Attributes;
using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;
using FaceStream.Inference;
using FaceStream.Inference.Attributes;
using FaceStream.Media.Images;

namespace FaceStream.Cli.Commands;

/// <summary>What `facestream eval attributes` measures.</summary>
/// <param name="Directory">A folder with one sub-folder per person and a MANIFEST.csv giving each label's gender (f/m).</param>
/// <param name="MinFace">Only subject faces at least this large (box's larger side, px) are measured.</param>
/// <param name="Stride">Every how many-th photo of each person is measured (1 = all).</param>
/// <param name="PoseLimit">How many faces are also measured on a mirrored copy and on copies turned by −30…30°.</param>
/// <param name="PoseCrop">The head-pose model's crop (<see cref="HopenetPoseEstimator.VendorCrop"/> or <see cref="HopenetPoseEstimator.HopenetCrop"/>).</param>
/// <param name="PoseColour">Overrides the head-pose model's colour order (RGB or BGR).</param>
public sealed record EvalAttributesRequest(string Directory, int MinFace, int Stride, int PoseLimit, string? Dump, string PoseCrop = HopenetPoseEstimator.VendorCrop, string? PoseColour = null);

/// <summary>
/// `facestream eval attributes DIR`: per photo's subject face, gender accuracy per model and colour order against
/// the manifest's genders, the age distribution, head-pose checks (yaw flips sign on the mirrored photo, roll follows
/// a known turn of the photo, frontal faces read as frontal) and each model's cost per face.
/// </summary>
public sealed class EvalAttributesAction(FaceEngine engine, TextWriter output)
{
    private static readonly float[] Turns = [-30, -20, -10, 10, 20, 30];

    private sealed record Sample(string Path, bool Male, float Size, float[] MaleScores, float[] Ages, HeadPose Pose, HeadPose? Mirrored, bool FrontalByLandmarks, string Expression, string Eyes);

    public int Run(EvalAttributesRequest request)
    {
        var genders = ReadGenders(Path.Combine(request.Directory, "MANIFEST.csv"));
        var images = genders.Keys.OrderBy(k => k, StringComparer.Ordinal)
            .SelectMany(label => System.IO.Directory.GetFiles(Path.Combine(request.Directory, label)).OrderBy(f => f, StringComparer.Ordinal)
                .Where((_, i) => i % request.Stride == 0).Select(f => (Path: f, Male: genders[label])))
            .ToList();
        // Every gender and age model, in each colour order.
        var variants = new List<(string Name, IGenderClassifier Gender, IAgeEstimator Age)>();
        foreach (var order in new[] { "BGR", "RGB" })
        {
            variants.Add(($"ssrnet {order}", new SsrNetGenderClassifier(engine.Models, engine.Sessions, colorOrder: order), new SsrNetAgeEstimator(engine.Models, engine.Sessions, colorOrder: order)));
        }

        foreach (var order in new[] { "RGB", "BGR" })
        {
            var faceres = new FaceresGenderAgeModel(engine.Models, engine.Sessions, colorOrder: order);
            variants.Add(($"faceres {order}", faceres, faceres));
        }

        var pose = new HopenetPoseEstimator(engine.Models, engine.Sessions, crop: request.PoseCrop, colorOrder: request.PoseColour);
        var expression = new DenseNetExpressionClassifier(engine.Models, engine.Sessions);
        var eyes = new FacepluginEyeStateClassifier(engine.Models, engine.Sessions);
        var cost = new Dictionary<string, (double Ms, int Faces)>();
        T Timed<T>(string name, Func<T> run)
        {
            var sw = Stopwatch.StartNew();
            var r = run();
            var (ms, n) = cost.GetValueOrDefault(name);
            cost[name] = (ms + sw.Elapsed.TotalMilliseconds, n + 1);
            return r;
        }

        var samples = new List<Sample>();
        var rollErrors = new List<(float Turn, float Error)>();
        int small = 0, none = 0, failed = 0, rotated = 0, seen = 0;
        using (var progress = new Progress("attributes", images.Count))
        {
            foreach (var (path, male) in images)
            {
                progress.Tick();
                if (++seen % 50 == 0 && Console.IsErrorRedirected)
                {
                    Console.Error.WriteLine($"eval attributes: {seen}/{images.Count} photos");
                }

                ImageFrame image;
                try
                {
                    image = StillImageDecoder.DecodeFile(path);
                }
                catch (ImageDecodeException e)
                {
                    failed++;
                    Console.Error.WriteLine($"error: {e.Message}");
                    continue;
                }

                var face = SubjectFace.Pick(engine.Detector.Detect(image));
                if (face is null)
                {
                    none++;
                    continue;
                }

                if (face.Size < request.MinFace)
                {
                    small++;
                    continue;
                }

                List<(ImageFrame, DetectedFace)> one = [(image, face)];
                var maleScores = variants.Select(v => Timed($"{v.Gender.ModelId} gender ({v.Name})", () => v.Gender.Estimate(one))[0].MaleScore).ToArray();
                var ages = variants.Select(v => Timed($"{v.Age.ModelId} age ({v.Name})", () => v.Age.Estimate(one))[0].Years).ToArray();
                var p = Timed(pose.ModelId, () => pose.Estimate(one))[0];
                var ex = Timed(expression.ModelId, () => expression.Estimate(one))[0];
                var ey = Timed(eyes.ModelId, () => eyes.Estimate(one))[0];
                var c = face.Box.Center;
                HeadPose? mp = null;
                if (rotated < request.PoseLimit)
                {
                    rotated++;
                    var mirror = ImageGeometry.Mirror(image);
                    var mirroredFace = At(engine.Detector.Detect(mirror), new PointF(image.Width - 1 - c.X, c.Y));
                    mp = mirroredFace is null ? null : pose.Estimate([(mirror, mirroredFace)])[0];
                    foreach (float turn in Turns)
                    {
                        var turnedImage = ImageGeometry.Rotate(image, turn);
                        var turnedFace = At(engine.Detector.Detect(turnedImage), ImageGeometry.Turned(c, turn, image.Width, image.Height));
                        if (turnedFace is not null)
                        {
                            rollErrors.Add((turn, pose.Estimate([(turnedImage, turnedFace)])[0].Roll - p.Roll - turn));
                        }
                    }
                }

                samples.Add(new Sample(path, male, face.Size, maleScores, ages, p, mp, FrontalByLandmarks(face.Landmarks), ex.Label, ey.State.ToString().ToLowerInvariant()));
            }
        }

        foreach (var m in variants.SelectMany(v => new IDisposable[] { v.Gender, v.Age }).Distinct().Append(pose).Append(expression).Append(eyes))
        {
            m.Dispose();
        }

        if (request.Dump is { } dump)
        {
            File.WriteAllLines(dump, samples.Select(s => string.Join(',', new[] { s.Path, s.Male ? "m" : "f", F(s.Size) }.Concat(s.MaleScores.Select(F)).Concat(s.Ages.Select(F))
                .Concat([F(s.Pose.Yaw), F(s.Pose.Pitch), F(s.Pose.Roll), s.Mirrored is null ? "" : F(s.Mirrored.Yaw), s.FrontalByLandmarks ? "frontal" : "", s.Expression, s.Eyes])))
                .Prepend(string.Join(',', new[] { "path", "gender", "size" }.Concat(variants.Select(v => $"male {v.Name}")).Concat(variants.Select(v => $"age {v.Name}"))
                    .Concat(["yaw", "pitch", "roll", "yaw_mirrored", "landmarks_frontal", "expression", "eyes"]))));
        }

        Report(request, samples, rollErrors, cost, variants.Select(v => v.Name).ToArray(), small, none, failed);
        return failed > 0 ? 1 : 0;
    }

    private void Report(EvalAttributesRequest request, List<Sample> samples, List<(float Turn, float Error)> rollErrors,
        Dictionary<string, (double Ms, int Faces)> cost, string[] orders, int small, int none, int failed)
    {
        output.WriteLine($"eval attributes {request.Directory} (every {request.Stride}. photo, pose crop {request.PoseCrop}, pose colour {request.PoseColour ?? "as in the manifest"}): {samples.Count} subject faces ≥ {request.MinFace} px ({small} smaller, {none} photos without a face, {failed} unreadable)");
        for (int o = 0; o < orders.Length; o++)
        {
            int correct = samples.Count(s => s.MaleScores[o] > SsrNetGenderClassifier.MaleAbove == s.Male);
            int men = samples.Count(s => s.Male), menRight = samples.Count(s => s.Male && s.MaleScores[o] > SsrNetGenderClassifier.MaleAbove);
            int women = samples.Count - men, womenRight = correct - menRight;
            var (bestT, bestAcc) = Enumerable.Range(1, 99).Select(t => t / 100f)
                .Select(t => (T: t, Acc: samples.Count(s => s.MaleScores[o] > t == s.Male) / (double)Math.Max(1, samples.Count))).MaxBy(x => x.Acc);
            output.WriteLine($"gender {orders[o]}: accuracy {Ratio(correct, samples.Count)} (men {Ratio(menRight, men)}, women {Ratio(womenRight, women)}); best split {bestT:F2} would give {bestAcc:P1}");
        }

        for (int o = 0; o < orders.Length; o++)
        {
            var ages = samples.Select(s => s.Ages[o]).Order().ToList();
            output.WriteLine($"age {orders[o]}: p5 {Pct(ages, 5):F0}, p25 {Pct(ages, 25):F0}, median {Pct(ages, 50):F0}, p75 {Pct(ages, 75):F0}, p95 {Pct(ages, 95):F0}; under 18: {Ratio(ages.Count(a => a < 18), ages.Count)}");
        }

        var mirrored = samples.Where(s => s.Mirrored is not null && Math.Abs(s.Pose.Yaw) >= 10).ToList();
        int flipped = mirrored.Count(s => Math.Sign(s.Mirrored!.Yaw) == -Math.Sign(s.Pose.Yaw));
        var asymmetry = mirrored.Select(s => Math.Abs(s.Pose.Yaw + s.Mirrored!.Yaw)).Order().ToList();
        output.WriteLine($"pose yaw on mirrored photos (the first {request.PoseLimit} faces, those with |yaw| ≥ 10°): sign flips {Ratio(flipped, mirrored.Count)}; |yaw + mirrored yaw| median {Pct(asymmetry, 50):F1}°, p95 {Pct(asymmetry, 95):F1}°");
        var frontal = samples.Where(s => s.FrontalByLandmarks).ToList();
        int reads = frontal.Count(s => Math.Abs(s.Pose.Yaw) < 15 && Math.Abs(s.Pose.Pitch) < 15);
        output.WriteLine($"pose on faces frontal by their landmarks (nose within 5 % of the eye distance from the eye midline): |yaw|,|pitch| < 15° for {Ratio(reads, frontal.Count)}");
        foreach (var turn in Turns)
        {
            var e = rollErrors.Where(r => r.Turn == turn).Select(r => Math.Abs(r.Error)).Order().ToList();
            output.WriteLine($"pose roll on photos turned {turn:+0;-0}°: |roll change − turn| median {Pct(e, 50):F1}°, max {(e.Count > 0 ? e[^1] : float.NaN):F1}°, within ±5°: {Ratio(e.Count(v => v <= 5), e.Count)}");
        }

        output.WriteLine($"expression labels: {string.Join(", ", samples.GroupBy(s => s.Expression).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}"))}");
        output.WriteLine($"eyes: {string.Join(", ", samples.GroupBy(s => s.Eyes).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}"))}");
        foreach (var (model, (ms, n)) in cost.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"cost {model}: {ms / Math.Max(1, n):F1} ms per face (one face per call, {n} faces, {engine.ExecutionProvider})");
        }
    }

    /// <summary>Nose within 5 % of the eye distance from the perpendicular through the eye midpoint.</summary>
    private static bool FrontalByLandmarks(Landmarks5 l)
    {
        float ex = l.RightEye.X - l.LeftEye.X, ey = l.RightEye.Y - l.LeftEye.Y;
        float d = MathF.Sqrt((ex * ex) + (ey * ey));
        float mx = (l.LeftEye.X + l.RightEye.X) / 2, my = (l.LeftEye.Y + l.RightEye.Y) / 2;
        return d > 0 && MathF.Abs((((l.Nose.X - mx) * ex) + ((l.Nose.Y - my) * ey)) / (d * d)) < 0.05f;
    }

    private static DetectedFace? At(IReadOnlyList<DetectedFace> faces, PointF p) =>
        faces.Where(f => f.Box.Contains(p)).MaxBy(f => f.Box.Area);

    private static Dictionary<string, bool> ReadGenders(string manifest)
    {
        if (!File.Exists(manifest))
        {
            throw new UsageException($"{manifest}: not found (a CSV with columns file,label,gender,… where gender is f or m)");
        }

        var lines = File.ReadAllLines(manifest);
        var header = lines[0].Split(',');
        int label = Array.IndexOf(header, "label"), gender = Array.IndexOf(header, "gender");
        if (label < 0 || gender < 0)
        {
            throw new UsageException($"{manifest}: needs columns 'label' and 'gender'");
        }

        var result = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var cells in lines.Skip(1).Select(l => l.Split(',')).Where(c => c.Length > Math.Max(label, gender)))
        {
            result[cells[label]] = cells[gender] == "m";
        }

        return result;
    }

    private static string F(float v) => v.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Ratio(int k, int n) => n == 0 ? "n/a (0 faces)" : $"{k}/{n} = {k / (double)n:P1}";

    private static float Pct(List<float> sorted, int p) => sorted.Count == 0 ? float.NaN : sorted[Math.Min(sorted.Count - 1, (int)(p / 100.0 * sorted.Count))];
}

/// <summary>facestream eval attributes DIR [--min-size PX] [--stride K] [--pose-limit N] [--pose-crop …] [--pose-colour …] [--dump FILE.csv]: parsing only.</summary>
public static class EvalAttributesCommand
{
    private static readonly Argument<string> Dataset = new("DIR") { Description = "One sub-folder per person and a MANIFEST.csv with columns label and gender (f/m)" };

    private static readonly Option<int> MinSize = CliOptions.Int("--min-size", 1, 4096, 60, "PX", "Measure only subject faces at least this large (box's larger side)");

    private static readonly Option<int> Stride = CliOptions.Int("--stride", 1, 1000, 1, "K", "Measure every K-th photo of each person (1 = all)");

    private static readonly Option<int> PoseLimit = CliOptions.Int("--pose-limit", 0, int.MaxValue, 20, "N", "How many faces are also measured mirrored and turned by −30…30°");

    private static readonly Option<string> PoseCrop = new Option<string>("--pose-crop")
    {
        Description = "The head-pose model's crop",
        HelpName = "vendor|hopenet",
        DefaultValueFactory = _ => HopenetPoseEstimator.VendorCrop,
    }.AcceptOnlyFromAmong(HopenetPoseEstimator.VendorCrop, HopenetPoseEstimator.HopenetCrop);

    private static readonly Option<string?> PoseColour = new Option<string?>("--pose-colour")
    {
        Description = "Overrides the head-pose model's colour order (default: as in the manifest)",
        HelpName = "RGB|BGR",
    }.AcceptOnlyFromAmong("RGB", "BGR");

    private static readonly Option<string?> Dump = new("--dump") { Description = "Write every measured face's readings as CSV to FILE", HelpName = "FILE.csv" };

    public static Command Create()
    {
        var command = new Command("attributes", "Gender accuracy per colour order, age spread, head-pose checks and cost per face on photos labelled by gender")
        {
            Dataset, MinSize, Stride, PoseLimit, PoseCrop, PoseColour, Dump,
        };
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult args)
    {
        string dir = args.GetRequiredValue(Dataset);
        if (!Directory.Exists(dir))
        {
            throw new UsageException($"{dir}: directory not found (give one directory with a sub-folder per person and a MANIFEST.csv)");
        }

        var ctx = CliContext.Create(args);
        using var engine = ctx.Engine();
        var request = new EvalAttributesRequest(dir, args.GetValue(MinSize), args.GetValue(Stride), args.GetValue(PoseLimit), args.GetValue(Dump),
            args.GetValue(PoseCrop)!, args.GetValue(PoseColour));
        return new EvalAttributesAction(engine, Console.Out).Run(request);
    }
}
