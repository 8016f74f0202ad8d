using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using FaceStream.Core.Matching;
using FaceStream.Watchlist.Cache;
using FaceStream.Watchlist.Store;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceStream.Cli.Commands;

/// <summary>facestream bench watchlist: top-5 search time over N 512-d templates on one core (exhaustive and bound scan),
/// cache resync time from Redis, and change-to-searchable latency of enrollments (incremental and full updates).</summary>
public static class WatchlistBenchCommand
{
    private const int Dimension = 512;
    private const int TemplatesPerIdentity = 5;

    private static readonly Option<IReadOnlyList<int>> Sizes = CliOptions.Counts("--sizes", 1, 100_000_000, "10000,100000,1000000", "Template counts to search");

    private static readonly Option<int> Queries = CliOptions.Int("--queries", 1, 100_000, 200, "N", "Timed queries of each kind (after 20 warm-up)");

    private static readonly Option<string?> Redis = new("--redis") { Description = "Also time a cache resync from this Redis (redis://host:port)", HelpName = "URI" };

    private static readonly Option<int> Resync = CliOptions.Int("--resync", 1, 10_000_000, 100_000, "N", "With --redis: templates written, then loaded by the resync");

    private static readonly Option<int> Changes = CliOptions.Int("--changes", 0, 10_000, 0, "N",
        "With --redis: then time N enrollments from another connection until a following cache finds them, with incremental and with full updates");

    public static Command Create()
    {
        var command = new Command("watchlist", "Top-5 search time over N 512-d templates (exhaustive and bound scan) and cache resync time")
        {
            Sizes, Queries, Redis, Resync, Changes, CliOptions.Markdown,
        };
        command.SetAction((parse, cancel) => RunAsync(parse, cancel));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult args, CancellationToken cancel)
    {
        var sizes = args.GetRequiredValue(Sizes);
        int queries = args.GetValue(Queries);
        var random = new Random(12345);
        var lines = new List<string>
        {
            $"Machine: {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, SIMD {System.Numerics.Vector<float>.Count * 32}-bit",
            $"Command: facestream bench watchlist {CliOptions.Arguments(args)} (random unit vectors, {TemplatesPerIdentity} templates per identity, {queries} queries of each kind after 20 warm-up; one thread)",
            "",
            "Strangers are random unit vectors (nobody enrolled: the common case at a camera); enrolled faces are noisy copies of a template (similarity ≈ 0.7).",
            "Both searches return the same top-5 (identities and similarities, checked on every query below).",
            "",
            "| templates | identities | float matrix | exhaustive scan, mean / p95 | bound scan, strangers mean / p95 | bound scan, enrolled faces mean / p95 | index build with / without codes |",
            "|---|---|---|---|---|---|---|",
        };
        foreach (int n in sizes)
        {
            var templates = new List<(Identity, float[])>(n);
            for (int i = 0; i < n; i++)
            {
                templates.Add((new Identity($"p{i / TemplatesPerIdentity}", $"person {i / TemplatesPerIdentity}"), RandomUnit(random)));
            }

            var build = Stopwatch.StartNew();
            var bounded = new GalleryIndex("bench", Dimension, templates);
            build.Stop();
            var plainBuild = Stopwatch.StartNew();
            var exhaustive = new GalleryIndex("bench", Dimension, templates, prefilter: false);
            plainBuild.Stop();
            var strangers = Enumerable.Range(0, queries + 20).Select(_ => RandomUnit(random)).ToList();
            var enrolled = Enumerable.Range(0, queries + 20).Select(_ => Near(random, templates[random.Next(n)].Item2)).ToList();
            templates.Clear();
            var exhaustiveTimes = Time(exhaustive, strangers);
            var strangerTimes = Time(bounded, strangers);
            var enrolledTimes = Time(bounded, enrolled);
            foreach (var q in strangers.Concat(enrolled))
            {
                if (!exhaustive.Search(q, 5).SequenceEqual(bounded.Search(q, 5)))
                {
                    Console.Error.WriteLine("bench watchlist: the bound scan answered differently from the exhaustive scan (a bug: please report it)");
                    return 1;
                }
            }

            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {n:N0} | {bounded.Identities:N0} | {(long)n * Dimension * 4 / (1 << 20):N0} MiB | {exhaustiveTimes} | {strangerTimes} | {enrolledTimes} | {build.Elapsed.TotalSeconds:0.00} s / {plainBuild.Elapsed.TotalSeconds:0.00} s |"));
            Console.Error.WriteLine(lines[^1]);
        }

        if (args.GetValue(Redis) is { } redisUri)
        {
            int count = args.GetValue(Resync);
            var prefix = $"bench:{Guid.NewGuid():N}";
            await using var store = await RedisWatchlistStore.ConnectAsync(WatchlistUri.Parse(redisUri), prefix);
            var load = Stopwatch.StartNew();
            var identities = new List<IdentityRecord>();
            for (int i = 0; i < count / TemplatesPerIdentity; i++)
            {
                identities.Add(await store.CreateIdentityAsync($"person {i}"));
            }

            // Many writes in flight: this measures the cache, not the loader.
            const int inFlight = 256;
            for (int start = 0; start < count; start += inFlight)
            {
                await Task.WhenAll(Enumerable.Range(start, Math.Min(inFlight, count - start))
                    .Select(i => store.AddTemplateAsync(identities[i / TemplatesPerIdentity].Id, "bench", RandomUnit(random), 1, null)));
            }

            load.Stop();
            await using var cache = new WatchlistCache(store, "bench", Dimension, TimeSpan.FromMinutes(10), NullLogger.Instance);
            var resync = Stopwatch.StartNew();
            await cache.SyncAsync(force: true);
            resync.Stop();
            lines.Add("");
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"Cache resync from Redis ({WatchlistUri.Parse(redisUri).Safe}, local): {cache.Index.Templates:N0} templates of {cache.Index.Identities:N0} identities loaded and indexed in {resync.Elapsed.TotalSeconds:0.00} s (writing them took {load.Elapsed.TotalSeconds:0.0} s)."));
            Console.Error.WriteLine(lines[^1]);
            if (args.GetValue(Changes) is > 0 and int changes)
            {
                lines.Add("");
                lines.Add($"Change-to-searchable latency: an enrollment (create identity + add template, two changes) written on one connection until a cache on another connection, following {cache.Index.Templates:N0} templates, finds the new template as its top-1; {changes} enrollments, one at a time:");
                lines.Add("");
                lines.Add("| cache updates | p50 | p95 | max | full resyncs | incremental updates |");
                lines.Add("|---|---|---|---|---|---|");
                foreach (bool incremental in new[] { true, false })
                {
                    lines.Add(await ChangeLatency(redisUri, prefix, incremental, changes, random, identities));
                    Console.Error.WriteLine(lines[^1]);
                }
            }

            foreach (var identity in identities)
            {
                await store.DeleteIdentityAsync(identity.Id);
            }
        }

        foreach (var l in lines)
        {
            Console.Out.WriteLine(l);
        }

        if (args.GetValue(CliOptions.Markdown) is { } md)
        {
            await File.WriteAllLinesAsync(md, lines, cancel);
        }

        return 0;
    }

    /// <summary>
    /// Enrolls <paramref name="changes"/> identities through one store connection, one at a time, and times each until
    /// a started cache on another connection (as a worker's) answers its template's search with the new identity.
    /// </summary>
    private static async Task<string> ChangeLatency(string redisUri, string prefix, bool incremental, int changes, Random random, List<IdentityRecord> enrolled)
    {
        await using var writer = await RedisWatchlistStore.ConnectAsync(WatchlistUri.Parse(redisUri), prefix);
        await using var reader = await RedisWatchlistStore.ConnectAsync(WatchlistUri.Parse(redisUri), prefix);
        await using var cache = new WatchlistCache(reader, "bench", Dimension, TimeSpan.FromMinutes(10), NullLogger.Instance, incremental);
        await cache.StartAsync();
        long full = cache.FullResyncs, updates = cache.IncrementalUpdates;
        var times = new List<double>();
        for (int i = 0; i < changes; i++)
        {
            var vector = RandomUnit(random);
            var id = $"change-{(incremental ? "inc" : "full")}-{i}";
            var found = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            void Check(GalleryIndex index)
            {
                if (index.Search(vector, 1) is [{ } hit] && hit.Identity.Id == id)
                {
                    found.TrySetResult();
                }
            }

            cache.Changed += Check;
            long t0 = Stopwatch.GetTimestamp();
            enrolled.Add(await writer.CreateIdentityAsync($"person {id}", id: id));
            await writer.AddTemplateAsync(id, "bench", vector, 1, null);
            await found.Task.WaitAsync(TimeSpan.FromMinutes(2));
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            cache.Changed -= Check;
        }

        times.Sort();
        return string.Create(CultureInfo.InvariantCulture,
            $"| {(incremental ? "incremental" : "full (every change reloads all)")} | {times[times.Count / 2]:0} ms | {times[Math.Min(times.Count - 1, (int)(times.Count * 0.95))]:0} ms | {times[^1]:0} ms | {cache.FullResyncs - full} | {cache.IncrementalUpdates - updates} |");
    }

    /// <summary>Mean and p95 of top-5 searches in ms, after 20 warm-up queries.</summary>
    private static string Time(GalleryIndex index, List<float[]> probes)
    {
        var times = new List<double>();
        for (int q = 0; q < probes.Count; q++)
        {
            long t0 = Stopwatch.GetTimestamp();
            index.Search(probes[q], 5);
            if (q >= 20)
            {
                times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        }

        times.Sort();
        return string.Create(CultureInfo.InvariantCulture, $"{times.Average():0.00} / {times[(int)(times.Count * 0.95)]:0.00} ms");
    }

    private static float[] Near(Random random, float[] template)
    {
        var noise = RandomUnit(random);
        var v = new float[Dimension];
        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(noise, 1.0f, template, v);
        System.Numerics.Tensors.TensorPrimitives.Divide(v, System.Numerics.Tensors.TensorPrimitives.Norm(v), v);
        return v;
    }

    private static float[] RandomUnit(Random random)
    {
        var v = new float[Dimension];
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = (float)((random.NextDouble() * 2) - 1);
        }

        System.Numerics.Tensors.TensorPrimitives.Divide(v, System.Numerics.Tensors.TensorPrimitives.Norm(v), v);
        return v;
    }
}
