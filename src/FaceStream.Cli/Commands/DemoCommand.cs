using FaceStream.Inference;
using FaceStream.Inference.Models;
using FaceStream.Media.Images;

namespace FaceStream.Cli.Commands;

/// <summary>facestream demo: the engine on the bundled sample photos: annotated detections and who appears where.</summary>
public static class DemoCommand
{
    public const string Usage = "facestream demo [--out DIR]";

    public static int Run(IEnumerable<string> argv)
    {
        var args = CliArgs.Parse(argv, ["--out"], []);
        var ctx = CliContext.Create(args);
        string outDir = Path.GetFullPath(args.Value("--out") ?? Path.Combine("out", "demo"));
        var store = ctx.Store();
        using var engine = ctx.Engine();
        Console.Out.WriteLine($"FaceStream demo: MTCNN (min face {ctx.Mtcnn.MinFaceSize} px) + {engine.Embedder.ModelId} on {engine.ExecutionProvider}");
        var all = new List<(string Photo, int Index, EmbeddedFace Face)>();
        foreach (var sample in store.Manifest.Samples)
        {
            string path = store.Sample(sample.SaveAs);
            var image = StillImageDecoder.DecodeFile(path);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var faces = engine.DetectAndEmbed(image);
            string annotated = Path.Combine(outDir, Path.GetFileNameWithoutExtension(sample.SaveAs) + ".faces.jpg");
            var labels = faces.Select((f, i) => $"#{i + 1} {f.Face.Score:F2}").ToList();
            FaceAnnotator.WriteJpeg(image, faces.Select(f => f.Face).ToList(), annotated, labels);
            Console.Out.WriteLine($"  {sample.SaveAs}: {faces.Count} faces in {sw.ElapsedMilliseconds} ms → {Path.GetRelativePath(Directory.GetCurrentDirectory(), annotated)}");
            all.AddRange(faces.Select((f, i) => (sample.SaveAs, i + 1, f)));
        }

        float threshold = engine.Embedder.Threshold;
        Console.Out.WriteLine($"\nWho from sample1.jpg appears in the other photos? (cosine similarity, match at ≥ {threshold:F2})");
        foreach (var probe in all.Where(a => a.Photo == "sample1.jpg"))
        {
            var best = all.Where(a => a.Photo != probe.Photo)
                .Select(a => (a.Photo, a.Index, Similarity: probe.Face.Embedding.Similarity(a.Face.Embedding)))
                .OrderByDescending(a => a.Similarity)
                .First();
            string verdict = best.Similarity >= threshold ? "MATCH" : "no match";
            Console.Out.WriteLine($"  sample1 face #{probe.Index}: best {best.Photo} face #{best.Index}, similarity {best.Similarity:F3} → {verdict}");
        }

        Console.Out.WriteLine($"\nAnnotated photos are in {outDir}");
        return 0;
    }
}
