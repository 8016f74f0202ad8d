using System.CommandLine;
using System.Diagnostics;
using FaceStream.Core.Attributes;
using FaceStream.Inference;
using FaceStream.Inference.Attributes;
using FaceStream.Media.Images;

namespace FaceStream.Cli.Commands;

/// <summary>What `facestream attributes` is asked to do.</summary>
public sealed record AttributesRequest(IReadOnlyList<string> Images, bool Json);

/// <summary>
/// `facestream attributes`: detects the faces of each image and reads their age, gender, head pose, expression and
/// eye state; one JSON line per image (like `detect --json`) or a readable summary. A bad image is reported and the
/// others are still processed (exit code 1).
/// </summary>
public sealed class AttributesAction(FaceEngine engine, TextWriter output)
{
    public int Run(AttributesRequest request)
    {
        var failures = new InputFailures(request.Json);
        foreach (var path in request.Images)
        {
            failures.Run(path, () =>
            {
                var image = StillImageDecoder.DecodeFile(path);
                var sw = Stopwatch.StartNew();
                var faces = engine.Detector.Detect(image);
                var attributes = engine.Attributes.Analyze(image, faces);
                double ms = sw.Elapsed.TotalMilliseconds;
                if (request.Json)
                {
                    output.WriteLine(Json.Line(w =>
                    {
                        w.WriteStartObject();
                        w.WriteString("image", path);
                        w.WriteNumber("width", image.Width);
                        w.WriteNumber("height", image.Height);
                        w.WriteStartArray("faces");
                        for (int i = 0; i < faces.Count; i++)
                        {
                            Json.Face(w, faces[i], more: fw => FaceAttributesJson.Write(fw, attributes[i], engine.Attributes.Sources));
                        }

                        w.WriteEndArray();
                        w.WriteNumber("ms", Math.Round(ms, 1));
                        w.WriteEndObject();
                    }));
                    return;
                }

                output.WriteLine($"{path}: {image.Width}x{image.Height}, {faces.Count} face(s) in {ms:F0} ms");
                for (int i = 0; i < faces.Count; i++)
                {
                    var b = faces[i].Box;
                    output.WriteLine($"  box ({b.X1:F0},{b.Y1:F0})-({b.X2:F0},{b.Y2:F0})  {Summary(attributes[i])}");
                }
            });
        }

        if (!request.Json)
        {
            var experimental = engine.Attributes.Sources.Where(s => s.Experimental).Select(s => s.Attribute).ToList();
            output.WriteLine($"experimental (not shown to be reliable, docs/attributes.md): {string.Join(", ", experimental)}");
        }

        return failures.ExitCode;
    }

    /// <summary>One line: "male (0.93), age 34, yaw 5° pitch −3° roll 2°, happy, eyes open".</summary>
    public static string Summary(FaceAttributes a)
    {
        var parts = new List<string>();
        if (a.Gender is { } g)
        {
            parts.Add($"{(g.Gender == Gender.Male ? "male" : "female")} ({g.Score:F2})");
        }

        if (a.Age is { } age)
        {
            parts.Add($"age {age.Years:F0}");
        }

        if (a.Pose is { } p)
        {
            parts.Add($"yaw {p.Yaw:F0}° pitch {p.Pitch:F0}° roll {p.Roll:F0}°");
        }

        if (a.Expression is { } e)
        {
            parts.Add(e.Label);
        }

        if (a.Eyes is { } eyes)
        {
            parts.Add($"eyes {(eyes.State == EyeState.Closed ? "closed" : "open")}");
        }

        return string.Join(", ", parts);
    }
}

/// <summary>facestream attributes IMAGE... [--json]: argument parsing only; the work is <see cref="AttributesAction"/>.</summary>
public static class AttributesCommand
{
    private static readonly Argument<string[]> Images = new("IMAGE") { Arity = ArgumentArity.OneOrMore, Description = "Photos whose faces to read (JPEG, PNG, WebP, BMP, GIF, PNM)" };

    public static Command Create()
    {
        var command = new Command("attributes", "Age, gender, head pose (degrees), expression and eye state of each face in photos") { Images, CliOptions.Json };
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult args)
    {
        var ctx = CliContext.Create(args);
        using var engine = ctx.Engine();
        return new AttributesAction(engine, Console.Out).Run(new AttributesRequest(args.GetRequiredValue(Images), args.GetValue(CliOptions.Json)));
    }
}
