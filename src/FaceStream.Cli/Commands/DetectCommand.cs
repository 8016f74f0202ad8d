using System.CommandLine;
using System.Diagnostics;
using FaceStream.Media.Images;

namespace FaceStream.Cli.Commands;

/// <summary>facestream detect IMAGE... [--min-face PX] [--json] [--annotate DIR]</summary>
public static class DetectCommand
{
    private static readonly Argument<string[]> Images = new("IMAGE") { Arity = ArgumentArity.OneOrMore, Description = "Photos to search (JPEG, PNG, WebP, BMP, GIF, PNM)" };

    private static readonly Option<string?> Annotate = new("--annotate") { Description = "Also write each photo with its faces drawn as DIR/NAME.faces.jpg", HelpName = "DIR" };

    public static Command Create()
    {
        var command = new Command("detect", "Find the faces in photos: box, score and five landmarks each") { Images, CliOptions.Json, Annotate };
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult args)
    {
        var ctx = CliContext.Create(args);

        bool json = args.GetValue(CliOptions.Json);
        string? annotate = args.GetValue(Annotate);
        using var engine = ctx.Engine();
        var failures = new InputFailures(json);
        foreach (var path in args.GetRequiredValue(Images))
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
