using FaceStream.Inference;
using FaceStream.Media.Images;

namespace FaceStream.Cli.Commands;

/// <summary>facestream compare A B [--json] [--threshold T]: 1:1 verification of the largest face in each image.</summary>
public static class CompareCommand
{
    public const string Usage = "facestream compare IMAGE_A IMAGE_B [--json] [--threshold T] [--embedder ID]";

    public static int Run(IEnumerable<string> argv)
    {
        var args = CliArgs.Parse(argv, ["--threshold"], ["--json"]);
        if (args.Positionals.Count != 2)
        {
            throw new UsageException($"compare takes exactly two images. Usage: {Usage}");
        }

        var ctx = CliContext.Create(args);

        bool json = args.Flag("--json");
        using var engine = ctx.Engine();
        float threshold = args.Float("--threshold", -1f, 1f) ?? engine.Embedder.Threshold;
        var faces = new EmbeddedFace?[2];
        var failures = new InputFailures(json);
        for (int i = 0; i < 2; i++)
        {
            string path = args.Positionals[i];
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
                w.WriteString("a", args.Positionals[0]);
                w.WriteString("b", args.Positionals[1]);
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
