using System.CommandLine;
using FaceStream.Core.Embeddings;
using FaceStream.Inference;
using FaceStream.Inference.Models;
using FaceStream.Cli.Demo;
using FaceStream.Media.Images;

namespace FaceStream.Cli.Commands;

/// <summary>
/// facestream demo: the worker on a video made from the bundled sample photos, against a gallery enrolled from two of
/// their faces (alerts as JSON lines, metrics on a local port); --photos: the engine on the photos themselves.
/// </summary>
public static class DemoCommand
{
    private static readonly Option<string> Out = new("--out") { Description = "Folder for the video, gallery, events and snapshots", HelpName = "DIR", DefaultValueFactory = _ => Path.Combine("out", "demo") };

    private static readonly Option<int> MetricsPort = CliOptions.Int("--metrics-port", 0, 65535, 9464, "N", "Port of /metrics and the health endpoints while the demo runs (0: any free port)");

    private static readonly Option<bool> Stay = new("--stay")
    {
        Description = "After the clip, keep the worker and its review console serving until Ctrl+C (default: when standard input is a terminal; --stay false to exit)",
        DefaultValueFactory = _ => !Console.IsInputRedirected,
    };

    private static readonly Option<bool> PhotosOption = new("--photos") { Description = "Instead: detect, annotate and compare the bundled sample photos" };

    public static Command Create()
    {
        var command = new Command("demo", "The worker on a video made from the sample photos, against a gallery of two of their faces") { Out, MetricsPort, Stay, PhotosOption };
        command.SetAction(RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(ParseResult args, CancellationToken cancel)
    {
        var ctx = CliContext.Create(args);
        string outDir = Path.GetFullPath(args.GetRequiredValue(Out));
        return args.GetValue(PhotosOption) ? Photos(ctx, outDir) : await VideoAsync(ctx, outDir, args.GetValue(MetricsPort), args.GetValue(Stay), cancel);
    }

    private static async Task<int> VideoAsync(CliContext ctx, string outDir, int metricsPort, bool stay, CancellationToken cancel)
    {
        var store = ctx.Store();
        string video = Path.Combine(outDir, "lobby.mp4");
        string gallery = Path.Combine(outDir, "gallery");
        string events = Path.Combine(outDir, "events.jsonl");
        if (!File.Exists(video))
        {
            Console.Error.WriteLine($"making the demo video from the sample photos → {video}");
            DemoAssets.MakeVideo(store, video);
        }

        ctx.Mtcnn.MinFaceSize = 40;
        using (var engine = ctx.Engine())
        {
            DemoAssets.MakeGallery(engine, store, gallery);
        }

        File.Delete(events);
        string config = Path.Combine(outDir, "demo.json");
        // A fresh operator token for this run's review console (printed below; nothing else can reach the demo's loopback port anyway).
        string token = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        File.WriteAllText(config, DemoConfig(ctx, video, gallery, events, metricsPort, token, stay));
        Console.Error.WriteLine($"""
            FaceStream demo: the worker watches camera "lobby" ({video}, played in real time, 12 s) against a gallery of
            {DemoAssets.Enrolled.Length} people ({gallery}). Events are printed below as JSON lines (also in {events});
            metrics: http://127.0.0.1:{metricsPort}/metrics, health: /healthz, /readyz (while it runs). Config: {config}
            """);
        string? console = null;
        bool summarised = false;
        int rc = await Worker.Hosting.WorkerHost.RunAsync(["--config", config], app =>
        {
            console = app.BaseAddress?.ToString();
            Console.Error.WriteLine($"review console: {console} (sign in with token {token})");
            if (stay)
            {
                // The clip is done and its events flushed; the worker serves the console on until Ctrl+C.
                app.PipelineEnded.ContinueWith(_ =>
                {
                    // Not when Ctrl+C came during the clip (the camera is then stopped, not completed).
                    if (app.Failure is null && app.Pipeline.Cameras.All(c => c.State == Media.Video.SourceState.Completed))
                    {
                        summarised = true;
                        Summary(events, $"review the alerts in the console: {console}alerts (token {token}); Ctrl+C stops the worker");
                    }
                }, TaskScheduler.Default);
            }
        }, cancel);
        if (rc != 0 || summarised)
        {
            return rc;
        }

        Summary(events, null);
        return 0;
    }

    /// <summary>The alerts of the run, then <paramref name="console"/> (when it still serves), and "demo finished: N alerts" last (scripts and CI grep it).</summary>
    private static void Summary(string events, string? console)
    {
        var kinds = File.Exists(events)
            ? File.ReadLines(events).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList()
            : [];
        var matches = kinds.Where(k => k.GetProperty("kind").GetString() == "match").ToList();
        Console.Error.WriteLine();
        foreach (var m in matches)
        {
            Console.Error.WriteLine($"  {m.GetProperty("media_time_s").GetDouble(),5:F1} s into the video: {m.GetProperty("identity_name").GetString()} (track {m.GetProperty("track_id").GetInt64()}, similarity {m.GetProperty("similarity").GetDouble():F3}), snapshot {m.GetProperty("snapshot").GetString()}");
        }

        if (console is not null)
        {
            Console.Error.WriteLine(console);
        }

        Console.Error.WriteLine($"demo finished: {matches.Count} alerts");
    }

    private static string DemoConfig(CliContext ctx, string video, string gallery, string events, int metricsPort, string token, bool stay) =>
        System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["Inference"] = new { ctx.Inference.ModelsDirectory, ctx.Inference.ExecutionProvider, ctx.Inference.Embedder },
            ["Detector"] = new { Mtcnn = new { MinFaceSize = 40 } },
            ["Cameras"] = new[] { new { Id = "lobby", Url = video, Realtime = true, AnalysisFps = 5 } },
            // On a busy machine the last faces can take longer than the default 10 s to decide after the clip ends.
            ["Pipeline"] = new { StopWhenSourcesEnd = true, ServeAfterSourcesEnd = stay, DrainTimeout = "00:01:00" },
            ["Gallery"] = new { Directory = gallery },
            ["Events"] = new { Console = true, JsonLinesFile = events, CameraState = true, Snapshots = new { Directory = Path.Combine(Path.GetDirectoryName(events)!, "snapshots") } },
            ["Metrics"] = new { Enabled = true, Host = "127.0.0.1", Port = metricsPort },
            ["Api"] = new { Token = token },
        }, new System.Text.Json.JsonSerializerOptions { WriteIndented = true });

    private static int Photos(CliContext ctx, string outDir)
    {
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
