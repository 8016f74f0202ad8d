using System.CommandLine;
using System.Diagnostics;
using FaceStream.Core.Evaluation;
using FaceStream.Core.Faces;
using FaceStream.Media.Images;

namespace FaceStream.Cli.Commands;

/// <summary>facestream eval detection --images DIR --wider-gt FILE: recall and precision of the detector.</summary>
public static class EvalDetectionCommand
{
    private static readonly Option<string> Images = new("--images") { Description = "Folder the ground-truth file's image paths are relative to", HelpName = "DIR", Required = true };

    private static readonly Option<string> WiderGt = new("--wider-gt") { Description = "Ground truth in WIDER FACE's text format", HelpName = "FILE", Required = true };

    private static readonly Option<bool> Plausible = new("--plausible") { Description = "Score only detections whose landmarks pass the geometry check (as enrollment and matching use them)" };

    public static Command Create()
    {
        var command = new Command("detection", "Recall and precision of the detector against WIDER FACE-style ground truth") { Images, WiderGt, Plausible, CliOptions.Json };
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult args)
    {
        bool plausibleOnly = args.GetValue(Plausible);
        string images = args.GetRequiredValue(Images);
        string gtPath = args.GetRequiredValue(WiderGt);
        if (!File.Exists(gtPath))
        {
            throw new UsageException($"--wider-gt {gtPath}: file not found");
        }

        Dictionary<string, List<GroundTruthFace>> truth;
        try
        {
            truth = DetectionMetrics.ParseWider(File.ReadAllText(gtPath));
        }
        catch (FormatException e)
        {
            throw new UsageException($"{gtPath}: {e.Message}");
        }

        var ctx = CliContext.Create(args);

        bool json = args.GetValue(CliOptions.Json);
        using var engine = ctx.Engine();
        var tally = new DetectionTally();
        double ms = 0;
        int failed = 0, implausible = 0;
        using (var progress = new Progress("detecting", truth.Count))
        {
            foreach (var (name, faces) in truth)
            {
                string path = Path.Combine(images, name);
                try
                {
                    var image = StillImageDecoder.DecodeFile(path);
                    var sw = Stopwatch.StartNew();
                    var found = engine.Detector.Detect(image);
                    ms += sw.Elapsed.TotalMilliseconds;
                    int implausibleHere = found.Count(f => !LandmarkGeometry.IsPlausible(f));
                    implausible += implausibleHere;
                    if (plausibleOnly && implausibleHere > 0)
                    {
                        found = found.Where(LandmarkGeometry.IsPlausible).ToList();
                    }

                    DetectionMetrics.Match(faces, found.Select(f => (f.Box, f.Score)).ToList(), tally);
                }
                catch (ImageDecodeException e)
                {
                    failed++;
                    Console.Error.WriteLine($"error: {e.Message}");
                }

                progress.Tick();
            }
        }

        double perImage = ms / Math.Max(1, tally.Images);
        if (json)
        {
            Console.Out.WriteLine(Json.Line(w =>
            {
                w.WriteStartObject();
                w.WriteNumber("images", tally.Images);
                w.WriteNumber("unreadable", failed);
                w.WriteNumber("minFace", ctx.Mtcnn.MinFaceSize);
                w.WriteNumber("groundTruthFaces", tally.GroundTruth);
                w.WriteNumber("implausibleDetections", implausible);
                Json.NumberOrNull(w, "recall", tally.Recall);
                Json.NumberOrNull(w, "recall20", tally.Recall20);
                Json.NumberOrNull(w, "recall40", tally.Recall40);
                Json.NumberOrNull(w, "precision40", tally.Precision40);
                w.WriteNumber("msPerImage", Math.Round(perImage, 1));
                w.WriteEndObject();
            }));
        }
        else
        {
            Console.Out.WriteLine($"images         {tally.Images} ({failed} unreadable), min face {ctx.Mtcnn.MinFaceSize} px, IoU ≥ 0.5");
            Console.Out.WriteLine($"recall         {P(tally.Recall)} of {tally.GroundTruth} faces; {P(tally.Recall20)} of {tally.GroundTruth20} faces ≥ 20 px tall; {P(tally.Recall40)} of {tally.GroundTruth40} ≥ 40 px");
            Console.Out.WriteLine($"precision      {P(tally.Precision40)} of {tally.Detections40} detections ≥ 40 px tall");
            Console.Out.WriteLine($"speed          {perImage:F1} ms per image (detection only)");
            Console.Out.WriteLine($"geometry       {implausible} detections with implausible landmarks{(plausibleOnly ? " left out" : "")}");
        }

        return failed > 0 ? 1 : 0;
    }

    private static string P(double v) => double.IsNaN(v) ? "n/a" : $"{v * 100:F1}%";
}
