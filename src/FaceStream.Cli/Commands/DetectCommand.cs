using System.Diagnostics;
using FaceStream.Media.Images;

namespace FaceStream.Cli.Commands;

/// <summary>facestream detect IMAGE... [--min-face PX] [--json] [--annotate DIR]</summary>
public static class DetectCommand
{
    public const string Usage = "facestream detect IMAGE... [--min-face PX] [--json] [--annotate DIR]";

    public static int Run(IEnumerable<string> argv)
    {
        var args = CliArgs.Parse(argv, ["--annotate"], ["--json"]);
        if (args.Positionals.Count == 0)
        {
            throw new UsageException($"no images given. Usage: {Usage}");
        }

        var ctx = CliContext.Create(args);

        bool json = args.Flag("--json");
        string? annotate = args.Value("--annotate");
        using var engine = ctx.Engine();
        var failures = new InputFailures(json);
        foreach (var path in args.Positionals)
        {
            failures.Run(path, () =>
            {
                var image = StillImageDecoder.DecodeFile(path);
                var sw = Stopwatch.StartNew();
                var faces = engine.Detector.Detect(image);
                double ms = sw.Elapsed.TotalMilliseconds;
                if (json)
                {
                    Console.Out.WriteLine(Json.Line(w =>
                    {
                        w.WriteStartObject();
                        w.WriteString("image", path);
                        w.WriteNumber("width", image.Width);
                        w.WriteNumber("height", image.Height);
                        w.WriteStartArray("faces");
                        foreach (var f in faces)
                        {
                            Json.Face(w, f);
                        }

                        w.WriteEndArray();
                        w.WriteNumber("ms", Math.Round(ms, 1));
                        w.WriteEndObject();
                    }));
                }
                else
                {
                    Console.Out.WriteLine($"{path}: {image.Width}x{image.Height}, {faces.Count} face(s) in {ms:F0} ms");
                    foreach (var f in faces)
                    {
                        Console.Out.WriteLine($"  box ({f.Box.X1:F0},{f.Box.Y1:F0})-({f.Box.X2:F0},{f.Box.Y2:F0}) {f.Box.Width:F0}x{f.Box.Height:F0} px  score {f.Score:F3}");
                    }
                }

                if (annotate is not null)
                {
                    string outPath = Path.Combine(annotate, Path.GetFileNameWithoutExtension(path) + ".faces.jpg");
                    FaceAnnotator.WriteJpeg(image, faces, outPath);
                    if (!json)
                    {
                        Console.Out.WriteLine($"  annotated → {outPath}");
                    }
                }
            });
        }

        return failures.ExitCode;
    }
}
