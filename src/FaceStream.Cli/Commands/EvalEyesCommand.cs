using System.CommandLine;
using System.Globalization;
using FaceStream.Core.Attributes;
using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;
using FaceStream.Inference;
using FaceStream.Inference.Attributes;
using FaceStream.Media.Images;

namespace FaceStream.Cli.Commands;

/// <summary>
/// `facestream eval eyes LABELS.csv`: the three eye-state models on photos labelled by looking (open, closed or
/// unsure): per model, closed photos caught and open photos called closed; for the two landmark models (iris, face
/// mesh) also what each threshold on the eyelid openness would do alone and combined with another model, so that a
/// rule is picked from the data (docs/attributes.md, "Eyes").
/// </summary>
public sealed class EvalEyesAction(FaceEngine engine, TextWriter output)
{
    private static readonly float[] Thresholds = [0.06f, 0.08f, 0.10f, 0.12f, 0.14f, 0.16f, 0.18f, 0.20f];

    /// <summary>The iris threshold in the combinations with the face mesh (the best alone, docs/attributes.md).</summary>
    private const float IrisCombined = 0.18f;

    private sealed record Reading(string Image, int Face, string Label, EyeStateEstimate Vendor, EyeStateEstimate Iris, EyeStateEstimate Mesh)
    {
        /// <summary>The more open eye: a face is closed by a threshold only when both eyes are under it.</summary>
        public float IrisOpen => MathF.Max(Iris.LeftOpenness ?? 0, Iris.RightOpenness ?? 0);

        public float MeshOpen => MathF.Max(Mesh.LeftOpenness ?? 0, Mesh.RightOpenness ?? 0);
    }

    /// <param name="labels">A CSV with lines "image,label" (label open, closed or unsure; image relative to the CSV's folder or absolute).</param>
    /// <param name="allFaces">Measure every face of each photo (group photos all labelled alike) instead of its subject face.</param>
    /// <param name="annotate">A folder to write each photo into with its faces' mesh drawn (eyelid points in red).</param>
    public int Run(string labels, bool allFaces, string? dump, string? annotate = null)
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
        using var mesh = new FacemeshEyeState(engine.Models, engine.Sessions);
        var eyelids = FacemeshEyeState.ImageLeftEye.Concat(FacemeshEyeState.ImageRightEye).ToHashSet();
        var readings = new List<Reading>();
        var ms = new double[3];
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
            var v = Timed(() => vendor.Estimate(pairs), ref ms[0]);
            var m = Timed(() => iris.Estimate(pairs), ref ms[1]);
            var meshes = Timed(() => mesh.Mesh(pairs), ref ms[2]);
            readings.AddRange(faces.Select((_, i) => new Reading(path, i, label, v[i], m[i], mesh.Read(meshes[i]))));
            if (annotate is not null)
            {
                FaceAnnotator.WritePointsJpeg(image, faces, meshes.Select(x => (IReadOnlyList<PointF>)x.Points).ToList(), eyelids,
                    Path.Combine(annotate, $"{Path.GetFileName(Path.GetDirectoryName(path))}_{Path.GetFileNameWithoutExtension(path)}.mesh.jpg"));
            }
        }

        var open = readings.Where(r => r.Label == "open").ToList();
        var closed = readings.Where(r => r.Label == "closed").ToList();
        output.WriteLine($"faces: {readings.Count} (open {open.Count}, closed {closed.Count}, unsure {readings.Count - open.Count - closed.Count}); photos without a face: {none}");
        output.WriteLine("| model (a face reads closed when …) | closed faces read closed | open faces read closed |");
        output.WriteLine("|---|---|---|");
        void Row(string rule, Func<Reading, bool> isClosed) =>
            output.WriteLine($"| {rule} | {closed.Count(isClosed)}/{closed.Count} | {open.Count(isClosed)}/{open.Count} |");
        static string F(float t) => t.ToString("F2", CultureInfo.InvariantCulture);
        Row($"{vendor.ModelId} (mean closed probability > 0.5)", r => r.Vendor.State == EyeState.Closed);
        foreach (float t in Thresholds)
        {
            Row($"{iris.ModelId}, both eyes' openness < {F(t)}", r => r.IrisOpen < t);
        }

        foreach (float t in Thresholds)
        {
            Row($"{mesh.ModelId}, both eyes' openness < {F(t)}", r => r.MeshOpen < t);
        }

        foreach (float t in Thresholds)
        {
            Row($"{mesh.ModelId} < {F(t)} and {vendor.ModelId} closed", r => r.MeshOpen < t && r.Vendor.State == EyeState.Closed);
        }

        foreach (float t in Thresholds)
        {
            Row($"{mesh.ModelId} < {F(t)} and {iris.ModelId} < {F(IrisCombined)}", r => r.MeshOpen < t && r.IrisOpen < IrisCombined);
        }

        float rule = ConsensusEyeState.OpennessBelow;
        Row($"enrollment's rule: {mesh.ModelId} < {F(rule)} and {iris.ModelId} < {F(rule)} and {vendor.ModelId} closed",
            r => r.MeshOpen < rule && r.IrisOpen < rule && r.Vendor.State == EyeState.Closed);

        foreach (var group in readings.GroupBy(r => r.Label).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            foreach (var (model, open1) in new[] { (iris.ModelId, (Func<Reading, float>)(r => r.IrisOpen)), (mesh.ModelId, r => r.MeshOpen) })
            {
                var o = group.Select(open1).Order().ToList();
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{group.Key}: {model} more open eye's openness min {o[0]:F3}, median {o[o.Count / 2]:F3}, max {o[^1]:F3}"));
            }
        }

        if (readings.Count > 0)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ms per face (one photo's faces per call): {vendor.ModelId} {ms[0] / readings.Count:F1}, {iris.ModelId} {ms[1] / readings.Count:F1}, {mesh.ModelId} {ms[2] / readings.Count:F1}"));
        }

        if (dump is not null)
        {
            File.WriteAllLines(dump, readings.OrderBy(r => r.MeshOpen).Select(r => string.Create(CultureInfo.InvariantCulture,
                $"{r.Image},{r.Face},{r.Label},{r.Vendor.LeftClosed:F3},{r.Vendor.RightClosed:F3},{r.Iris.LeftOpenness:F3},{r.Iris.RightOpenness:F3},{r.Mesh.LeftOpenness:F3},{r.Mesh.RightOpenness:F3}"))
                .Prepend("image,face,label,vendor_left_closed,vendor_right_closed,left_openness,right_openness,mesh_left_openness,mesh_right_openness"));
        }

        return 0;
    }

    private static T Timed<T>(Func<T> run, ref double ms)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = run();
        ms += System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return result;
    }
}

public static class EvalEyesCommand
{
    private static readonly Argument<string> Labels = new("LABELS.csv") { Description = "Lines \"image,label\" with label open, closed or unsure (image relative to the CSV's folder or absolute)" };

    private static readonly Option<bool> AllFaces = new("--all-faces") { Description = "Measure every face of each photo (all take the photo's label) instead of its subject face" };

    private static readonly Option<string?> Dump = new("--dump") { Description = "Write every face's readings as CSV to FILE", HelpName = "FILE.csv" };

    private static readonly Option<string?> Annotate = new("--annotate") { Description = "Also write each photo with its faces' mesh drawn (eyelid points red) as DIR/FOLDER_NAME.mesh.jpg", HelpName = "DIR" };

    public static Command Create()
    {
        var command = new Command("eyes", "The eye-state models on photos labelled open/closed by looking, with the landmark models' openness per threshold")
        {
            Labels, AllFaces, Dump, Annotate,
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
        return new EvalEyesAction(engine, Console.Out).Run(labels, args.GetValue(AllFaces), args.GetValue(Dump), args.GetValue(Annotate));
    }
}
