using System.CommandLine;
using FaceStream.Media.Images;

namespace FaceStream.Cli.Commands;

/// <summary>facestream embed IMAGE... [--json]: box, landmarks and normalised embedding of every face.</summary>
public static class EmbedCommand
{
    private static readonly Argument<string[]> Images = new("IMAGE") { Arity = ArgumentArity.OneOrMore, Description = "Photos whose faces to embed" };

    public static Command Create()
    {
        var command = new Command("embed", "Box, landmarks and normalised embedding of every face in photos") { Images, CliOptions.Json };
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult args)
    {
        var ctx = CliContext.Create(args);

        bool json = args.GetValue(CliOptions.Json);
        using var engine = ctx.Engine();
        var failures = new InputFailures(json);
        foreach (var path in args.GetRequiredValue(Images))
        {
            failures.Run(path, () =>
            {
                var image = StillImageDecoder.DecodeFile(path);
                var faces = engine.DetectAndEmbed(image);
                if (json)
                {
                    Console.Out.WriteLine(Json.Line(w =>
                    {
                        w.WriteStartObject();
                        w.WriteString("image", path);
                        w.WriteNumber("width", image.Width);
                        w.WriteNumber("height", image.Height);
                        w.WriteString("model", engine.Embedder.ModelId);
                        w.WriteNumber("dimension", engine.Embedder.Dimension);
                        w.WriteStartArray("faces");
                        foreach (var f in faces)
                        {
                            Json.Face(w, f.Face, f.Embedding.Vector);
                        }

                        w.WriteEndArray();
                        w.WriteEndObject();
                    }));
                }
                else
                {
                    Console.Out.WriteLine($"{path}: {faces.Count} face(s), {engine.Embedder.ModelId} ({engine.Embedder.Dimension}-d)");
                    foreach (var f in faces)
                    {
                        var v = f.Embedding.Vector;
                        Console.Out.WriteLine($"  box ({f.Face.Box.X1:F0},{f.Face.Box.Y1:F0})-({f.Face.Box.X2:F0},{f.Face.Box.Y2:F0})  [{string.Join(", ", v.Take(4).Select(x => x.ToString("F3")))}, …]");
                    }
                }
            });
        }

        return failures.ExitCode;
    }
}
