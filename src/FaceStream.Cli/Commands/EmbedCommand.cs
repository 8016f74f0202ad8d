using FaceStream.Media.Images;

namespace FaceStream.Cli.Commands;

/// <summary>facestream embed IMAGE... [--json]: box, landmarks and normalised embedding of every face.</summary>
public static class EmbedCommand
{
    public const string Usage = "facestream embed IMAGE... [--json] [--min-face PX] [--embedder ID]";

    public static int Run(IEnumerable<string> argv)
    {
        var args = CliArgs.Parse(argv, [], ["--json"]);
        if (args.Positionals.Count == 0)
        {
            throw new UsageException($"no images given. Usage: {Usage}");
        }

        var ctx = CliContext.Create(args);

        bool json = args.Flag("--json");
        using var engine = ctx.Engine();
        var failures = new InputFailures(json);
        foreach (var path in args.Positionals)
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
