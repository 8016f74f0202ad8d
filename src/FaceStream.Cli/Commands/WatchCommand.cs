using System.CommandLine;
using System.Globalization;
using FaceStream.Inference;
using FaceStream.Inference.Models;
using FaceStream.Core.Matching;
using FaceStream.Media.Images;
using FaceStream.Media.Video;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Events;
using FaceStream.Watchlist.Store;
using FaceStream.Application.Gallery;
using FaceStream.Worker.Hosting;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace FaceStream.Cli.Commands;

/// <summary>facestream watch SOURCE...: the worker's pipeline over files or URLs against a gallery folder, events on stdout.</summary>
public static class WatchCommand
{
    private static readonly Argument<string[]> Sources = new("SOURCE") { Arity = ArgumentArity.OneOrMore, Description = "Video files or camera URLs (rtsp://, http://, …)" };

    private static readonly Option<string?> Gallery = new("--gallery") { Description = "A folder with one sub-folder of photos per person (folder name = id), instead of the watchlist", HelpName = "DIR" };

    private static readonly Option<float?> Fps = CliOptions.OptionalFloat("--fps", 0.1f, 60f, "N", "Analysed frames per second per source (default: Cameras' AnalysisFps default)");

    private static readonly Option<bool> Realtime = new("--realtime") { Description = "Play files at their own speed, as a camera delivers them (default: as fast as they decode)" };

    private static readonly Option<string?> Annotate = new("--annotate")
    {
        Description = "Write every analysed frame to DIR as JPEG with what the detector searched: windows (yellow), motion (cyan), faces (red), whole-frame passes (orange border) and why",
        HelpName = "DIR",
    };

    public static Command Create()
    {
        var command = new Command("watch", "The worker's pipeline over files or URLs against a gallery or the watchlist: events, then a summary (Ctrl+C stops and summarises)")
        {
            Sources, Gallery, CliOptions.Watchlist, CliOptions.Json, Fps, Realtime, Annotate,
        };
        command.SetAction(RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(ParseResult args, CancellationToken cancel)
    {
        var (configuration, configPath) = CliContext.Configuration(args);
        bool json = args.GetValue(CliOptions.Json);
        var cameras = Cameras(args);
        string? galleryDir = args.GetValue(Gallery);
        if (galleryDir is not null && !Directory.Exists(galleryDir))
        {
            throw new UsageException($"--gallery {galleryDir}: folder not found");
        }

        string? watchlist = args.GetValue(CliOptions.Watchlist);
        try
        {
            _ = watchlist is null ? null : WatchlistUri.Parse(watchlist);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--watchlist: {e.Message}");
        }

        // The worker's composition root, with the sources, sinks and gallery of the command line.
        var memory = new MemorySink();
        var overrides = new FaceStreamOverrides
        {
            ConfigPath = configPath,
            Registry = Metrics.NewCustomRegistry(),
            Sinks = [memory, json ? JsonLinesSink.Console() : new HumanSink()],
            WatchlistUri = watchlist,
            // A gallery folder, or the configured (or --watchlist) store, whose changes reach a running watch too.
            Gallery = galleryDir is null ? null : (services, _) =>
            {
                var settings = services.GetRequiredService<WorkerSettings>();
                var log = services.GetRequiredService<ILoggerFactory>().CreateLogger("FaceStream.Gallery");
                return GalleryLoader.LoadIndexAsync(galleryDir, services.GetRequiredService<FaceEngine>(), settings.Enrollment, log);
            },
            Settings = settings =>
            {
                // Sources come from the command line, never from the config's camera list.
                settings.Cameras.Clear();
                settings.Cameras.AddRange(cameras);
                settings.Metrics.Enabled = false;
                CliContext.ApplyGlobalOptions(args, settings.Inference, settings.Mtcnn);
                settings.Pipeline.StopWhenSourcesEnd = cameras.All(c => !SourceUrl.Parse(c.Url).IsLive);
                settings.Events.CameraState = true;
            },
        };
        var host = PipelineHost.Build(configuration, overrides);
        IReadOnlyList<CameraStatus> final;
        WorkerSettings settings;
        PipelineMetrics metrics;
        GalleryIndex gallery;
        await using (host as IAsyncDisposable)
        {
            try
            {
                settings = host.Services.ValidatedSettings();
            }
            catch (WorkerConfigurationException e)
            {
                throw new UsageException(e.Message);
            }

            if (args.GetValue(Annotate) is { } annotate)
            {
                var written = new Dictionary<string, int>(StringComparer.Ordinal);
                host.Services.GetRequiredService<FramePipeline>().FrameScanned = frame =>
                {
                    int n = written[frame.CameraId] = written.GetValueOrDefault(frame.CameraId) + 1;
                    WriteOverlay(frame, Path.Combine(annotate, $"{frame.CameraId}-{n:D6}.jpg"));
                };
            }

            // Ctrl+C / SIGTERM stop the host, which stops the pipeline's sources; the summary is still printed.
            await host.StartAsync(cancel);
            await host.WaitForShutdownAsync(cancel);
            if (host.Services.GetRequiredService<PipelineService>().Failure is { } failure)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }

            var pipeline = host.Services.GetRequiredService<FramePipeline>();
            final = pipeline.Cameras;
            gallery = pipeline.Gallery;
            metrics = host.Services.GetRequiredService<PipelineMetrics>();
        }

        return Summarise(settings, final, gallery, metrics, memory, json);
    }

    /// <summary>One camera per source: cam1, cam2, … for live URLs, the file name for files (made unique).</summary>
    private static List<CameraOptions> Cameras(ParseResult args)
    {
        double? fps = args.GetValue(Fps);
        var cameras = new List<CameraOptions>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (source, i) in args.GetRequiredValue(Sources).Select((s, i) => (s, i)))
        {
            var url = SourceUrl.Parse(source);
            var id = url.IsLive ? $"cam{i + 1}" : Path.GetFileNameWithoutExtension(source);
            if (!ids.Add(id))
            {
                id = $"{id}-{i + 1}";
                ids.Add(id);
            }

            var camera = new CameraOptions { Id = id, Url = source, Realtime = args.GetValue(Realtime) };
            if (fps is { } f)
            {
                camera.AnalysisFps = f;
            }

            cameras.Add(camera);
        }

        return cameras;
    }

    private static int Summarise(WorkerSettings settings, IReadOnlyList<CameraStatus> final, GalleryIndex gallery, PipelineMetrics metrics, MemorySink memory, bool json)
    {
        var events = memory.Events;
        var failed = events.OfType<CameraStateEvent>().Where(e => e.State == "failed").Select(e => e.CameraId).ToHashSet();
        // A source that opened but decoded no frame at all failed too (as probe says): nothing was watched.
        foreach (var c in final.Where(c => c.Stats.FramesDecoded == 0 && failed.Add(c.Id)))
        {
            Console.Error.WriteLine($"error: {c.Id}: {c.Url} delivered no frame ({c.LastError ?? "end of stream"})");
        }

        var lines = settings.Cameras.Select(c => new
        {
            camera = c.Id,
            frames_analysed = metrics.FramesAnalysed.WithLabels(c.Id).Value,
            faces = metrics.FacesDetected.WithLabels(c.Id).Value,
            tracks = metrics.TracksStarted.WithLabels(c.Id).Value,
            embeddings = metrics.Embeddings.WithLabels(c.Id).Value,
            prescreened = metrics.ViewsPreScreened.WithLabels(c.Id).Value,
            matches = events.Count(e => e.CameraId == c.Id && e.Kind == EventKind.Match),
            unknown = events.Count(e => e.CameraId == c.Id && e.Kind == EventKind.Unknown),
            failed = failed.Contains(c.Id),
        }).ToList();
        if (json)
        {
            Console.Out.WriteLine(Json.Line(w =>
            {
                w.WriteStartObject();
                w.WriteString("kind", "summary");
                w.WriteString("model_id", gallery.ModelId);
                w.WriteNumber("watchlist_identities", gallery.Identities);
                w.WriteStartArray("cameras");
                foreach (var l in lines)
                {
                    w.WriteStartObject();
                    w.WriteString("camera_id", l.camera);
                    w.WriteNumber("frames_analysed", l.frames_analysed);
                    w.WriteNumber("faces", l.faces);
                    w.WriteNumber("tracks", l.tracks);
                    w.WriteNumber("embeddings", l.embeddings);
                    w.WriteNumber("prescreened", l.prescreened);
                    w.WriteNumber("matches", l.matches);
                    w.WriteNumber("unknown", l.unknown);
                    w.WriteBoolean("failed", l.failed);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }));
        }
        else
        {
            Console.Out.WriteLine($"summary ({gallery.ModelId}, {gallery.Identities} identities on the watchlist):");
            foreach (var l in lines)
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {l.camera}: {(l.failed ? "FAILED, " : "")}{l.frames_analysed} frames analysed, {l.faces} faces, {l.tracks} tracks, {l.embeddings} embeddings ({l.prescreened} more views pre-screened out), {l.matches} matches, {l.unknown} unknown"));
            }
        }

        return failed.Count > 0 ? 1 : 0;
    }

    /// <summary>One analysed frame as the detector saw it, with a banner saying how it was searched and why.</summary>
    private static void WriteOverlay(ScannedFrame frame, string path)
    {
        var c = CultureInfo.InvariantCulture;
        var plan = frame.Plan;
        string how = plan.Full
            ? $"whole frame ({frame.FullScanReason ?? "Detector:Mode full"})"
            : plan.Windows.Count == 0
                ? "nothing searched (no motion, no live track)"
                : string.Create(c, $"{plan.Windows.Count} window(s), {plan.ScannedShare(frame.Image.Width, frame.Image.Height):P0} of the pixels");
        string banner = string.Create(c, $"{frame.CameraId} {frame.Timestamp.ToLocalTime():HH:mm:ss.fff}: {how}; {frame.Faces.Count} face(s)");
        FaceAnnotator.WriteScanJpeg(frame.Image, frame.Faces, plan.Windows.Select(w => w.Box).ToList(), frame.Motion.Regions, plan.Full, banner, path);
    }

    /// <summary>One readable line per event for people at a terminal.</summary>
    private sealed class HumanSink : IEventSink
    {
        public string Name => "terminal";

        public ValueTask PublishAsync(FaceEvent e, CancellationToken cancel)
        {
            var c = CultureInfo.InvariantCulture;
            string at = e.FrameTimestamp.ToLocalTime().ToString("HH:mm:ss.f", c);
            Console.Out.WriteLine(e switch
            {
                MatchEvent m => string.Create(c, $"{at} {m.CameraId} track {m.TrackId}: MATCH {m.IdentityName} (similarity {m.Similarity:F3}, margin {m.Margin:F3})"),
                UnknownEvent u => string.Create(c, $"{at} {u.CameraId} track {u.TrackId}: unknown face (best similarity {u.Similarity:F3})"),
                CameraStateEvent s => $"{at} {s.CameraId}: camera {s.State}: {s.Reason}",
                _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "not an event kind this sink knows"),
            });
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
