using System.CommandLine;
using System.Globalization;
using FaceStream.Core.Attributes;
using FaceStream.Core.Matching;
using FaceStream.Inference;
using FaceStream.Inference.Attributes;
using FaceStream.Media.Images;
using FaceStream.Watchlist.Cache;
using FaceStream.Application.Enrollment;
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

    public static async Task<WatchlistSession> OpenAsync(ParseResult args, bool writes)
    {
        var settings = CliContext.LoadWorkerSettings(args);
        var uri = args.GetValue(CliOptions.Watchlist) ?? settings.Watchlist.Uri;
        IWatchlistStore store;
        try
        {
            store = await settings.Watchlist.OpenAsync(uri);
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
    private static readonly Argument<string[]> Images = new("IMAGE") { Arity = ArgumentArity.ZeroOrMore, Description = "Photos of the person named by --name" };

    private static readonly Option<string?> Name = new("--name") { Description = "The person's name", HelpName = "NAME" };

    private static readonly Option<string?> Id = new("--id") { Description = $"The identity's id (default: a new one, or the identity with this name); {WatchlistIds.Grammar}", HelpName = "ID" };

    private static readonly Option<string?> Folders = new("--folders") { Description = "Instead of --name: one sub-folder of photos per person (folder name = id)", HelpName = "DIR" };

    private static readonly Option<string?> Face = new("--face") { Description = "With one IMAGE: enrol face N, numbered largest first as a refusal lists them", HelpName = "N" };

    private static readonly Option<string?> Box = new("--box") { Description = "With one IMAGE: enrol the face in this box", HelpName = "X1,Y1,X2,Y2" };

    private static readonly Option<bool> AllowClosedEyes = new("--allow-closed-eyes") { Description = "Enrol faces whose eyes read closed (refused by default: Enrollment:RefuseClosedEyes)" };

    public static Command Create()
    {
        var command = new Command("enroll", "Add photos of people to the watchlist: each photo's dominant face (≥ 2.5× the area of the next), or the face picked")
        {
            Images, Name, Id, Folders, Face, Box, AllowClosedEyes, CliOptions.Watchlist, CliOptions.Json,
        };
        command.SetAction(RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(ParseResult args, CancellationToken cancel)
    {
        var pick = Pick(args);
        var given = args.GetValue(Images) ?? [];
        var people = new List<(string? Id, string Name, List<string> Images)>();
        if (args.GetValue(Folders) is { } root)
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
            var name = args.GetValue(Name) ?? throw new UsageException("enroll needs --name NAME (or --folders DIR)");
            if (given.Length == 0)
            {
                throw new UsageException("enroll needs at least one image (after --name NAME)");
            }

            if (args.GetValue(Id) is { } givenId && !WatchlistIds.IsValid(givenId))
            {
                throw new UsageException($"--id '{givenId}' must be {WatchlistIds.Grammar}");
            }

            if (IdentityFields.Check(name, null) is { } refusal)
            {
                throw new UsageException($"--name: {refusal}");
            }

            people.Add((args.GetValue(Id), name, given.ToList()));
        }

        bool json = args.GetValue(CliOptions.Json);
        await using var session = await WatchlistSession.OpenAsync(args, writes: true);
        var ctx = CliContext.Create(args);
        using var engine = ctx.Engine();
        bool allowClosedEyes = args.GetValue(AllowClosedEyes);
        using var eyes = session.Settings.Enrollment.RefuseClosedEyes && !allowClosedEyes ? new ConsensusEyeState(engine.Models, engine.Sessions) : null;
        var enroller = new Enroller(engine, session.Store, session.Settings.Enrollment, eyes);
        int refused = 0, accepted = 0;
        using var progress = people.Sum(p => p.Images.Count) > 3 ? new Progress("enrolling", people.Sum(p => p.Images.Count)) : null;
        try
        {
            foreach (var (id, name, images) in people)
            {
                // The identity is created with its first accepted photo: refused photos leave nothing behind.
                var identity = await Find(session.Store, id, name, cancel);
                foreach (var path in images)
                {
                    var (r, template) = File.Exists(path)
                        ? enroller.Prepare(await File.ReadAllBytesAsync(path, cancel), path, pick, allowClosedEyes: allowClosedEyes)
                        : (new EnrollResult(path, false, null, "file not found", 0), null);
                    if (template is not null)
                    {
                        identity ??= await session.Store.CreateIdentityAsync(name, id: id, cancel: cancel);
                        r = r with { TemplateId = await enroller.StoreAsync(identity.Id, template, cancel) };
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
    private static FacePick Pick(ParseResult args)
    {
        string? face = args.GetValue(Face), box = args.GetValue(Box);
        if (face is null && box is null)
        {
            return FacePick.Dominant;
        }

        if (args.GetValue(Folders) is not null || args.GetValue(Images) is not { Length: 1 })
        {
            throw new UsageException("--face and --box pick a face of one photo: give exactly one IMAGE (with --name)");
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

    private static async Task<IdentityRecord?> Find(IWatchlistStore store, string? id, string name, CancellationToken cancel)
    {
        if (id is not null)
        {
            return await store.GetIdentityAsync(id, cancel);
        }

        var same = (await store.ListIdentitiesAsync(cancel)).Where(i => i.Name == name).ToList();
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
    private static readonly Argument<string[]> Images = new("IMAGE") { Arity = ArgumentArity.OneOrMore, Description = "Photos whose faces to look up" };

    private static readonly Option<float?> Threshold = CliOptions.OptionalFloat("--threshold", 0, 1, "T", "Similarity a known face needs (default: Decision's threshold for the model)");

    private static readonly Option<float?> Margin = CliOptions.OptionalFloat("--margin", 0, 1, "M", "Lead over the next identity a known face needs (default: Decision:Margin)");

    private static readonly Option<bool> Attributes = new("--attributes") { Description = "Also read each face's age, gender, head pose, expression and eyes (as `facestream attributes` does)" };

    public static Command Create()
    {
        var command = new Command("identify", "1:N: who on the watchlist is each face in photos, with the worker's open-set rule")
        {
            Images, CliOptions.Watchlist, CliOptions.Json, Attributes, Threshold, Margin,
        };
        command.SetAction(RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(ParseResult args, CancellationToken cancel)
    {
        bool json = args.GetValue(CliOptions.Json);
        await using var session = await WatchlistSession.OpenAsync(args, writes: false);
        var ctx = CliContext.Create(args);
        using var engine = ctx.Engine();
        await using var cache = new WatchlistCache(session.Store, engine.Embedder.ModelId, engine.Embedder.Dimension, session.Settings.Watchlist.ResyncInterval, ctx.Logs.CreateLogger("FaceStream.Watchlist"));
        await cache.SyncAsync(force: true, cancel);
        if (!cache.Reachable)
        {
            Console.Error.WriteLine($"error: {cache.LastError}");
            return 1;
        }

        float threshold = args.GetValue(Threshold) ?? session.Settings.Decision.ThresholdFor(engine.Embedder.ModelId, engine.Embedder.Threshold);
        float margin = args.GetValue(Margin) ?? session.Settings.Decision.Margin;
        var enroller = new Enroller(engine, session.Store, session.Settings.Enrollment);
        bool withAttributes = args.GetValue(Attributes);
        var failures = new InputFailures(json);
        foreach (var path in args.GetRequiredValue(Images))
        {
            failures.Run(path, () =>
            {
                var image = StillImageDecoder.DecodeFile(path);
                var faces = enroller.Identify(image, cache.Index, threshold, margin);
                // --attributes: age, gender, pose, expression and eyes of each face, as `facestream attributes` gives them.
                var attributes = withAttributes ? engine.Attributes.Analyze(image, faces.Select(f => f.Face).ToList()) : null;
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
    private static readonly Argument<string> IdentityId = new("ID") { Description = "The identity's id" };

    private static readonly Argument<string> TemplateId = new("TEMPLATE_ID") { Description = "The template's id (as `watchlist show` lists it)" };

    public static Command Create()
    {
        var list = new Command("list", "Every identity with its number of templates per model") { CliOptions.Watchlist, CliOptions.Json };
        list.SetAction((parse, cancel) => WithStore(parse, writes: false, cancel, (store, _) => ListAsync(store, parse.GetValue(CliOptions.Json), cancel)));
        var show = new Command("show", "One identity and its templates") { IdentityId, CliOptions.Watchlist };
        show.SetAction((parse, cancel) => WithStore(parse, writes: false, cancel, (store, _) => ShowAsync(store, parse.GetRequiredValue(IdentityId), cancel)));
        var delete = new Command("delete", "Delete an identity and its templates") { IdentityId, CliOptions.Watchlist };
        delete.SetAction((parse, cancel) => WithStore(parse, writes: true, cancel, async (store, _) =>
        {
            string id = parse.GetRequiredValue(IdentityId);
            return Report(await store.DeleteIdentityAsync(id, cancel), $"identity {id} and its templates deleted", $"no identity '{id}'");
        }));
        var deleteTemplate = new Command("delete-template", "Delete one template of an identity") { IdentityId, TemplateId, CliOptions.Watchlist };
        deleteTemplate.SetAction((parse, cancel) => WithStore(parse, writes: true, cancel, async (store, _) =>
        {
            string id = parse.GetRequiredValue(IdentityId), template = parse.GetRequiredValue(TemplateId);
            return Report(await store.DeleteTemplateAsync(id, template, cancel), $"template {template} deleted", $"no template '{template}' on identity '{id}'");
        }));
        var reembed = new Command("reembed", "Recompute other models' templates from their stored crops with the current embedder") { CliOptions.Watchlist };
        reembed.SetAction((parse, cancel) => WithStore(parse, writes: true, cancel, async (store, session) =>
        {
            var ctx = CliContext.Create(parse);
            using var engine = ctx.Engine();
            var (redone, impossible) = await new Enroller(engine, store, session.Settings.Enrollment).ReembedAsync(cancel: cancel);
            Console.Out.WriteLine($"{redone} templates recomputed with {engine.Embedder.ModelId}; {impossible} without a stored crop or face could not be");
            return impossible > 0 ? 1 : 0;
        }));
        return new Command("watchlist", "List, show and delete the people on the watchlist; re-embed their templates for another model")
        {
            list, show, delete, deleteTemplate, reembed,
        };
    }

    /// <summary>Runs <paramref name="work"/> on the watchlist the command names; an unreachable store is exit code 1.</summary>
    private static async Task<int> WithStore(ParseResult parse, bool writes, CancellationToken cancel, Func<IWatchlistStore, WatchlistSession, Task<int>> work)
    {
        await using var session = await WatchlistSession.OpenAsync(parse, writes);
        try
        {
            return await work(session.Store, session);
        }
        catch (WatchlistUnavailableException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> ListAsync(IWatchlistStore store, bool json, CancellationToken cancel)
    {
        foreach (var i in await store.ListIdentitiesAsync(cancel))
        {
            var templates = await store.ListTemplatesAsync(i.Id, cancel);
            Console.Out.WriteLine(json
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
    }

    private static async Task<int> ShowAsync(IWatchlistStore store, string id, CancellationToken cancel)
    {
        var identity = await store.GetIdentityAsync(id, cancel);
        if (identity is null)
        {
            Console.Error.WriteLine($"error: no identity '{id}'");
            return 1;
        }

        Console.Out.WriteLine($"{identity.Id}  {identity.Name}  created {identity.CreatedAt:u}, updated {identity.UpdatedAt:u}");
        foreach (var t in await store.ListTemplatesAsync(identity.Id, cancel))
        {
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  template {t.Id}  {t.ModelId} ({t.Dimension}-d)  quality {t.Quality:0.00}  {(t.Crop is null ? "no crop" : $"crop {t.Crop.Length} bytes")}  {t.CreatedAt:u}"));
        }

        return 0;
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
