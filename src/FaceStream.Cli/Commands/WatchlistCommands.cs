using System.Globalization;
using FaceStream.Core.Attributes;
using FaceStream.Core.Matching;
using FaceStream.Inference;
using FaceStream.Inference.Attributes;
using FaceStream.Media.Images;
using FaceStream.Watchlist.Cache;
using FaceStream.Watchlist.Enrollment;
using FaceStream.Watchlist.Store;
using Microsoft.Extensions.Logging;

namespace FaceStream.Cli.Commands;

/// <summary>Opens the watchlist named by --watchlist (or Watchlist:Uri) for a command, with errors that say what to do.</summary>
internal sealed class WatchlistSession : IAsyncDisposable
{
    private WatchlistSession(IWatchlistStore store, Worker.Configuration.WorkerSettings settings)
    {
        Store = store;
        Settings = settings;
    }

    public IWatchlistStore Store { get; }

    public Worker.Configuration.WorkerSettings Settings { get; }

    public static WatchlistSession Open(CliArgs args, bool writes)
    {
        var settings = CliContext.LoadWorkerSettings(args);
        var uri = args.Value("--watchlist") ?? settings.Watchlist.Uri;
        IWatchlistStore store;
        try
        {
            store = settings.Watchlist.OpenAsync(uri).GetAwaiter().GetResult();
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--watchlist: {e.Message}");
        }

        if (writes && store is MemoryWatchlistStore)
        {
            Console.Error.WriteLine("warning: the watchlist is memory: (this command only); enrolments are gone when it exits. Use --watchlist redis://host:port or set Watchlist:Uri.");
        }

        return new WatchlistSession(store, settings);
    }

    public ValueTask DisposeAsync() => Store.DisposeAsync();
}

/// <summary>facestream enroll: adds people's photos to the watchlist (each photo: its dominant face, or the one picked).</summary>
public static class EnrollCommand
{
    public const string Usage = "facestream enroll --name NAME [--id ID] IMAGE... [--face N | --box X1,Y1,X2,Y2] | facestream enroll --folders DIR  [--watchlist URI] [--json]";

    public static int Run(IEnumerable<string> argv) => RunAsync(argv).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(IEnumerable<string> argv)
    {
        var args = CliArgs.Parse(argv, ["--name", "--id", "--folders", "--watchlist", "--face", "--box"], ["--json"]);
        var pick = Pick(args);
        var people = new List<(string? Id, string Name, List<string> Images)>();
        if (args.Value("--folders") is { } root)
        {
            if (!Directory.Exists(root))
            {
                throw new UsageException($"--folders {root}: folder not found");
            }

            foreach (var dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
            {
                var id = Path.GetFileName(dir);
                if (!WatchlistIds.IsValid(id))
                {
                    throw new UsageException($"folder name '{id}' is not usable as an identity id ({WatchlistIds.Grammar})");
                }

                people.Add((id, id.Replace('_', ' '), Directory.GetFiles(dir).Order(StringComparer.Ordinal).ToList()));
            }
        }
        else
        {
            var name = args.Value("--name") ?? throw new UsageException($"enroll needs --name NAME (or --folders DIR). Usage: {Usage}");
            if (args.Positionals.Count == 0)
            {
                throw new UsageException($"enroll needs at least one image. Usage: {Usage}");
            }

            if (args.Value("--id") is { } givenId && !WatchlistIds.IsValid(givenId))
            {
                throw new UsageException($"--id '{givenId}' must be {WatchlistIds.Grammar}");
            }

            if (IdentityFields.Check(name, null) is { } refusal)
            {
                throw new UsageException($"--name: {refusal}");
            }

            people.Add((args.Value("--id"), name, args.Positionals.ToList()));
        }

        bool json = args.Flag("--json");
        await using var session = WatchlistSession.Open(args, writes: true);
        var ctx = CliContext.Create(args);
        using var engine = ctx.Engine();
        var enroller = new Enroller(engine, session.Store, session.Settings.Enrollment);
        int refused = 0, accepted = 0;
        using var progress = people.Sum(p => p.Images.Count) > 3 ? new Progress("enrolling", people.Sum(p => p.Images.Count)) : null;
        try
        {
            foreach (var (id, name, images) in people)
            {
                // The identity is created with its first accepted photo: refused photos leave nothing behind.
                var identity = await Find(session.Store, id, name);
                foreach (var path in images)
                {
                    var (r, template) = File.Exists(path)
                        ? enroller.Prepare(await File.ReadAllBytesAsync(path), path, pick)
                        : (new EnrollResult(path, false, null, "file not found", 0), null);
                    if (template is not null)
                    {
                        identity ??= await session.Store.CreateIdentityAsync(name, id: id);
                        r = r with { TemplateId = await enroller.StoreAsync(identity.Id, template) };
                    }

                    progress?.Tick();
                    _ = r.Accepted ? accepted++ : refused++;
                    Print(json, identity?.Id ?? id, name, r);
                }
            }
        }
        catch (WatchlistUnavailableException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }

        if (!json)
        {
            Console.Error.WriteLine($"{accepted} photos enrolled, {refused} refused, into {session.Store.Describe} ({engine.Embedder.ModelId})");
        }

        return refused > 0 ? 1 : 0;
    }

    /// <summary>--face N or --box: which face of the one photo given (faces are numbered largest first, as refusals list them).</summary>
    private static FacePick Pick(CliArgs args)
    {
        string? face = args.Value("--face"), box = args.Value("--box");
        if (face is null && box is null)
        {
            return FacePick.Dominant;
        }

        if (args.Value("--folders") is not null || args.Positionals.Count != 1)
        {
            throw new UsageException($"--face and --box pick a face of one photo: give exactly one IMAGE (with --name). Usage: {Usage}");
        }

        if (face is not null && box is not null)
        {
            throw new UsageException("give either --face or --box, not both");
        }

        try
        {
            return FacePick.Parse(face, box);
        }
        catch (FormatException e)
        {
            throw new UsageException($"--{e.Message}");
        }
    }

    private static async Task<IdentityRecord?> Find(IWatchlistStore store, string? id, string name)
    {
        if (id is not null)
        {
            return await store.GetIdentityAsync(id);
        }

        var same = (await store.ListIdentitiesAsync()).Where(i => i.Name == name).ToList();
        return same.Count switch
        {
            0 => null,
            1 => same[0],
            _ => throw new UsageException($"{same.Count} identities are named '{name}'; say which with --id ({string.Join(", ", same.Select(s => s.Id))})"),
        };
    }

    private static void Print(bool json, string? identityId, string name, EnrollResult r)
    {
        if (json)
        {
            Console.Out.WriteLine(Json.Line(w =>
            {
                w.WriteStartObject();
                w.WriteString("image", r.Source);
                w.WriteString("identity_id", identityId);
                w.WriteString("identity_name", name);
                w.WriteBoolean("accepted", r.Accepted);
                if (r.Accepted)
                {
                    w.WriteString("template_id", r.TemplateId);
                    w.WriteNumber("quality", Math.Round(r.Quality, 3));
                    w.WriteNumber("face", r.Face);
                }
                else
                {
                    w.WriteString("reason", r.Reason);
                }

                if (r.Note is not null)
                {
                    w.WriteString("note", r.Note);
                }

                w.WriteStartArray("faces");
                foreach (var f in r.Faces)
                {
                    Json.WriteFaceSeen(w, f);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }));
        }
        else if (r.Accepted)
        {
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Source}: enrolled as {name} ({identityId}), template {r.TemplateId}, quality {r.Quality:0.00}{(r.Note is null ? "" : $"; {r.Note}")}"));
        }
        else
        {
            Console.Error.WriteLine($"refused: {r.Source}: {r.Reason}");
            if (r.Faces.Count > 1)
            {
                Console.Error.WriteLine("  enrol one of these faces with --face N (its number above) or --box X1,Y1,X2,Y2");
            }
        }
    }
}

/// <summary>facestream identify: 1:N for still images against the watchlist.</summary>
public static class IdentifyCommand
{
    public const string Usage = "facestream identify IMAGE... [--json] [--attributes] [--watchlist URI] [--threshold T] [--margin M]";

    public static int Run(IEnumerable<string> argv) => RunAsync(argv).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(IEnumerable<string> argv)
    {
        var args = CliArgs.Parse(argv, ["--watchlist", "--threshold", "--margin"], ["--json", "--attributes"]);
        if (args.Positionals.Count == 0)
        {
            throw new UsageException($"identify needs at least one image. Usage: {Usage}");
        }

        bool json = args.Flag("--json");
        await using var session = WatchlistSession.Open(args, writes: false);
        var ctx = CliContext.Create(args);
        using var engine = ctx.Engine();
        await using var cache = new WatchlistCache(session.Store, engine.Embedder.ModelId, engine.Embedder.Dimension, session.Settings.Watchlist.ResyncInterval, ctx.Logs.CreateLogger("FaceStream.Watchlist"));
        await cache.SyncAsync(force: true);
        if (!cache.Reachable)
        {
            Console.Error.WriteLine($"error: {cache.LastError}");
            return 1;
        }

        float threshold = args.Float("--threshold", 0, 1) ?? session.Settings.Decision.ThresholdFor(engine.Embedder.ModelId, engine.Embedder.Threshold);
        float margin = args.Float("--margin", 0, 1) ?? session.Settings.Decision.Margin;
        var enroller = new Enroller(engine, session.Store, session.Settings.Enrollment);
        var failures = new InputFailures(json);
        foreach (var path in args.Positionals)
        {
            failures.Run(path, () =>
            {
                var image = StillImageDecoder.DecodeFile(path);
                var faces = enroller.Identify(image, cache.Index, threshold, margin);
                // --attributes: age, gender, pose, expression and eyes of each face, as `facestream attributes` gives them.
                var attributes = args.Flag("--attributes") ? engine.Attributes.Analyze(image, faces.Select(f => f.Face).ToList()) : null;
                Print(json, path, faces, cache.Index, attributes is null ? null : (attributes, engine.Attributes.Sources));
            });
        }

        return failures.ExitCode;
    }

    private static void Print(bool json, string path, IReadOnlyList<IdentifiedFace> faces, GalleryIndex index,
        (IReadOnlyList<FaceAttributes> Faces, IReadOnlyList<AttributeSource> Sources)? attributes)
    {
        if (json)
        {
            Console.Out.WriteLine(Json.Line(w =>
            {
                w.WriteStartObject();
                w.WriteString("image", path);
                w.WriteString("model_id", index.ModelId);
                w.WriteStartArray("faces");
                for (int i = 0; i < faces.Count; i++)
                {
                    var f = faces[i];
                    w.WriteStartObject();
                    w.WriteStartArray("box");
                    foreach (var v in new[] { f.Face.Box.X1, f.Face.Box.Y1, f.Face.Box.X2, f.Face.Box.Y2 })
                    {
                        w.WriteNumberValue(Math.Round(v, 1));
                    }

                    w.WriteEndArray();
                    w.WriteString("decision", f.Known ? "known" : "unknown");
                    w.WriteString("identity_id", f.Identity?.Id);
                    w.WriteString("identity_name", f.Identity?.Name);
                    w.WriteNumber("similarity", Math.Round(f.Similarity, 4));
                    w.WriteNumber("margin", Math.Round(f.Margin, 4));
                    if (attributes is { } a)
                    {
                        FaceAttributesJson.Write(w, a.Faces[i], a.Sources);
                    }

                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }));
            return;
        }

        Console.Out.WriteLine($"{path}: {faces.Count} faces ({index.Identities} identities on the watchlist)");
        for (int i = 0; i < faces.Count; i++)
        {
            var f = faces[i];
            var b = f.Face.Box;
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  box ({b.X1:0},{b.Y1:0})-({b.X2:0},{b.Y2:0})  {(f.Known ? $"KNOWN {f.Identity!.Name} ({f.Identity.Id})" : "unknown")}  similarity {f.Similarity:0.000}  margin {f.Margin:0.000}"));
            if (attributes is { } a)
            {
                Console.Out.WriteLine($"    {AttributesAction.Summary(a.Faces[i])}");
            }
        }
    }
}

/// <summary>facestream watchlist list | show ID | delete ID | delete-template ID TEMPLATE | reembed.</summary>
public static class WatchlistCommand
{
    public const string Usage = "facestream watchlist list|show ID|delete ID|delete-template ID TEMPLATE_ID|reembed [--watchlist URI] [--json]";

    public static int Run(IEnumerable<string> argv) => RunAsync(argv).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(IEnumerable<string> argv)
    {
        var args = CliArgs.Parse(argv, ["--watchlist"], ["--json"]);
        var p = args.Positionals;
        if (p.Count == 0)
        {
            throw new UsageException($"Usage: {Usage}");
        }

        await using var session = WatchlistSession.Open(args, writes: p[0] != "list" && p[0] != "show");
        var store = session.Store;
        try
        {
            switch (p[0], p.Count)
            {
                case ("list", 1):
                    foreach (var i in await store.ListIdentitiesAsync())
                    {
                        var templates = await store.ListTemplatesAsync(i.Id);
                        Console.Out.WriteLine(args.Flag("--json")
                            ? Json.Line(w =>
                            {
                                w.WriteStartObject();
                                w.WriteString("id", i.Id);
                                w.WriteString("name", i.Name);
                                w.WriteNumber("templates", templates.Count);
                                w.WriteString("models", string.Join(",", templates.Select(t => t.ModelId).Distinct()));
                                w.WriteEndObject();
                            })
                            : $"{i.Id}  {i.Name}  ({templates.Count} templates: {string.Join(", ", templates.GroupBy(t => t.ModelId).Select(g => $"{g.Count()} {g.Key}"))})");
                    }

                    return 0;
                case ("show", 2):
                    var identity = await store.GetIdentityAsync(p[1]);
                    if (identity is null)
                    {
                        Console.Error.WriteLine($"error: no identity '{p[1]}'");
                        return 1;
                    }

                    Console.Out.WriteLine($"{identity.Id}  {identity.Name}  created {identity.CreatedAt:u}, updated {identity.UpdatedAt:u}");
                    foreach (var t in await store.ListTemplatesAsync(identity.Id))
                    {
                        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  template {t.Id}  {t.ModelId} ({t.Dimension}-d)  quality {t.Quality:0.00}  {(t.Crop is null ? "no crop" : $"crop {t.Crop.Length} bytes")}  {t.CreatedAt:u}"));
                    }

                    return 0;
                case ("delete", 2):
                    return Report(await store.DeleteIdentityAsync(p[1]), $"identity {p[1]} and its templates deleted", $"no identity '{p[1]}'");
                case ("delete-template", 3):
                    return Report(await store.DeleteTemplateAsync(p[1], p[2]), $"template {p[2]} deleted", $"no template '{p[2]}' on identity '{p[1]}'");
                case ("reembed", 1):
                    var ctx = CliContext.Create(args);
                    using (var engine = ctx.Engine())
                    {
                        var (redone, impossible) = await new Enroller(engine, store, session.Settings.Enrollment).ReembedAsync();
                        Console.Out.WriteLine($"{redone} templates recomputed with {engine.Embedder.ModelId}; {impossible} without a stored crop or face could not be");
                        return impossible > 0 ? 1 : 0;
                    }

                default:
                    throw new UsageException($"Usage: {Usage}");
            }
        }
        catch (WatchlistUnavailableException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static int Report(bool done, string yes, string no)
    {
        if (done)
        {
            Console.Out.WriteLine(yes);
            return 0;
        }

        Console.Error.WriteLine($"error: {no}");
        return 1;
    }
}
