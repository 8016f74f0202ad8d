using System.CommandLine;
using FaceStream.Core.Embeddings;
using FaceStream.Inference;
using FaceStream.Media.Images;

namespace FaceStream.Cli.Commands;

/// <summary>facestream compare A B [--json] [--threshold T]: 1:1 verification of the largest face in each image.</summary>
public static class CompareCommand
{
    private static readonly Argument<string> ImageA = new("IMAGE_A") { Description = "A photo; its largest face is compared" };

    private static readonly Argument<string> ImageB = new("IMAGE_B") { Description = "The other photo" };

    private static readonly Option<float?> Threshold = CliOptions.OptionalFloat("--threshold", -1f, 1f, "T", "Cosine similarity from which the faces are the same person (default: the embedder's calibrated threshold)");

    public static Command Create()
    {
        var command = new Command("compare", "1:1 verification: is the largest face in each photo the same person?") { ImageA, ImageB, CliOptions.Json, Threshold };
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult args)
    {
        var ctx = CliContext.Create(args);

        bool json = args.GetValue(CliOptions.Json);
        string[] paths = [args.GetRequiredValue(ImageA), args.GetRequiredValue(ImageB)];
        using var engine = ctx.Engine();
        float threshold = args.GetValue(Threshold) ?? engine.Embedder.Threshold;
        var faces = new EmbeddedFace?[2];
        var failures = new InputFailures(json);
        for (int i = 0; i < 2; i++)
        {
            string path = paths[i];
            int k = i;
            failures.Run(path, () =>
            {
                faces[k] = engine.SubjectFaceOf(StillImageDecoder.DecodeFile(path))
                    ?? throw new ArgumentException("no face found");
            });
        }

        if (faces[0] is not { } a || faces[1] is not { } b)
        {
            return 1;
        }

        float similarity = a.Embedding.Similarity(b.Embedding);
        bool same = similarity >= threshold;
        if (json)
        {
            Console.Out.WriteLine(Json.Line(w =>
            {
                w.WriteStartObject();
                w.WriteString("a", paths[0]);
                w.WriteString("b", paths[1]);
                w.WriteString("model", engine.Embedder.ModelId);
                w.WriteNumber("similarity", Math.Round(similarity, 4));
                w.WriteNumber("threshold", threshold);
                w.WriteBoolean("same", same);
                w.WriteEndObject();
            }));
        }
        else
        {
            Console.Out.WriteLine($"similarity {similarity:F3} (threshold {threshold:F2}, {engine.Embedder.ModelId}): {(same ? "SAME person" : "DIFFERENT people")}");
        }

        return 0;
    }
}
