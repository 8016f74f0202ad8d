using System.Numerics.Tensors;
using FaceStream.Core.Matching;
using FaceStream.Tests.Worker;
using FaceStream.Watchlist.Cache;
using FaceStream.Watchlist.Store;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using Xunit;
using RedisServer = FaceStream.Tests.Support.RedisServer;

namespace FaceStream.Tests.Watchlist;

/// <summary>
/// A worker's cache following another connection's changes through a real redis-server: a change message that follows
/// the cache's version reloads only the identity it names (counted as incremental, never as a full reload); a version
/// gap, a bare version (an older writer) or an unreadable message reloads everything; concurrent writers converge.
/// </summary>
[Trait("Category", "Live")]
public class WatchlistCacheUpdateTests
{
    private const int Dimension = 64;

    [Fact]
    public Task An_enrollment_on_one_connection_becomes_searchable_in_another_cache_without_a_full_reload() => Bounded.Run(async () =>
    {
        var prefix = Prefix();
        await using var writer = await Connect(prefix);
        await using var reader = await Connect(prefix);
        var random = new Random(1);
        await Enroll(writer, "before", random, 2);
        await using var cache = Cache(reader);
        await cache.StartAsync();
        Assert.Equal(1, cache.FullResyncs);
        Assert.Equal(2, cache.Index.Templates);

        var vector = await Enroll(writer, "after", random, 1);
        await Wait.Until(() => Finds(cache, vector[0], "after"), "the other cache finds the new template", TimeSpan.FromSeconds(10));
        await WaitCurrent(cache, writer);
        Assert.Equal(1, cache.FullResyncs);
        Assert.True(cache.IncrementalUpdates >= 1, $"{cache.IncrementalUpdates} incremental updates");
        await AssertMatchesStore(cache, writer);
    });

    [Fact]
    public Task A_deleted_template_and_a_deleted_identity_disappear_without_a_full_reload() => Bounded.Run(async () =>
    {
        var prefix = Prefix();
        await using var writer = await Connect(prefix);
        await using var reader = await Connect(prefix);
        var random = new Random(2);
        var kept = await Enroll(writer, "kept", random, 2);
        await Enroll(writer, "gone", random, 1);
        await using var cache = Cache(reader);
        await cache.StartAsync();
        Assert.Equal(3, cache.Index.Templates);

        var first = (await writer.ListTemplatesAsync("kept")).Single(t => t.Vector.SequenceEqual(kept[0]));
        Assert.True(await writer.DeleteTemplateAsync("kept", first.Id));
        await Wait.Until(() => cache.Index.Templates == 2, "the deleted template left the other cache", TimeSpan.FromSeconds(10));
        Assert.False(Finds(cache, kept[0], "kept"));
        Assert.True(Finds(cache, kept[1], "kept"));

        Assert.True(await writer.DeleteIdentityAsync("gone"));
        await Wait.Until(() => cache.Index.Identities == 1, "the deleted identity left the other cache", TimeSpan.FromSeconds(10));
        await WaitCurrent(cache, writer);
        Assert.Equal(1, cache.FullResyncs);
        Assert.Equal(2, cache.IncrementalUpdates);
        await AssertMatchesStore(cache, writer);
    });

    [Fact]
    public Task A_version_gap_a_bare_version_or_an_unreadable_message_makes_the_cache_reload_everything() => Bounded.Run(async () =>
    {
        var prefix = Prefix();
        await using var writer = await Connect(prefix);
        await using var reader = await Connect(prefix);
        await using var raw = await ConnectionMultiplexer.ConnectAsync(RedisServer.SharedUri["redis://".Length..]);
        var channel = RedisChannel.Literal($"{prefix}:changes");
        var random = new Random(3);
        await Enroll(writer, "first", random, 1);
        await using var cache = Cache(reader);
        await cache.StartAsync();
        Assert.Equal(1, cache.FullResyncs);

        // A change whose message this cache never got (as while its connection was down): the next message is a gap.
        await raw.GetDatabase().StringIncrementAsync($"{prefix}:version");
        var vector = await Enroll(writer, "second", random, 1);
        await Wait.Until(() => Finds(cache, vector[0], "second"), "the cache has the change after the gap", TimeSpan.FromSeconds(10));
        await WaitCurrent(cache, writer);
        Assert.Equal(2, cache.FullResyncs);

        // An older writer announces a bare version: what changed is unknown, so everything is reloaded.
        long version = await raw.GetDatabase().StringIncrementAsync($"{prefix}:version");
        await raw.GetSubscriber().PublishAsync(channel, version);
        await Wait.Until(() => cache.FullResyncs == 3, "a full resync after a bare version", TimeSpan.FromSeconds(10));
        Assert.Equal(version, cache.Version);

        await raw.GetSubscriber().PublishAsync(channel, "{\"not\": \"a change\"");
        await Wait.Until(() => cache.FullResyncs == 4, "a full resync after an unreadable message", TimeSpan.FromSeconds(10));
        await AssertMatchesStore(cache, writer);
    });

    [Fact]
    public Task Concurrent_changes_from_several_writers_converge_to_the_store_content() => Bounded.Run(async () =>
    {
        var prefix = Prefix();
        await using var reader = await Connect(prefix);
        var writers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Connect(prefix)));
        try
        {
            // Enough templates for the bound scan's codes, which every incremental update must keep consistent.
            await Task.WhenAll(Enumerable.Range(0, GalleryIndex.PrefilterFromTemplates / 4 + 10).Select(i => Enroll(writers[i % 4], $"seed{i}", new Random(i), 4)));
            await using var cache = Cache(reader);
            await cache.StartAsync();
            Assert.Equal(NibbleCodes.IsSupported, cache.Index.Prefiltered);

            await Task.WhenAll(writers.Select((writer, w) => Task.Run(async () =>
            {
                var random = new Random(100 + w);
                var mine = new List<string>();
                for (int op = 0; op < 30; op++)
                {
                    int choice = random.Next(4);
                    if (choice <= 1 || mine.Count == 0)
                    {
                        var id = $"w{w}-{op}";
                        await Enroll(writer, id, random, 1 + random.Next(3));
                        mine.Add(id);
                    }
                    else if (choice == 2)
                    {
                        var id = mine[random.Next(mine.Count)];
                        var templates = await writer.ListTemplatesAsync(id);
                        if (templates.Count > 0)
                        {
                            await writer.DeleteTemplateAsync(id, templates[0].Id);
                        }
                    }
                    else
                    {
                        var id = mine[random.Next(mine.Count)];
                        mine.Remove(id);
                        await writer.DeleteIdentityAsync(id);
                    }
                }
            })));

            await WaitCurrent(cache, writers[0]);
            await AssertMatchesStore(cache, writers[0]);
            Assert.True(cache.IncrementalUpdates > 0);
        }
        finally
        {
            foreach (var writer in writers)
            {
                await writer.DisposeAsync();
            }
        }
    });

    [Fact]
    public async Task The_memory_store_takes_the_same_incremental_path()
    {
        await using var store = new MemoryWatchlistStore();
        var random = new Random(5);
        await Enroll(store, "a", random, 2);
        await using var cache = Cache(store);
        await cache.StartAsync();
        var vector = await Enroll(store, "b", random, 1);
        await Wait.Until(() => Finds(cache, vector[0], "b"), "the memory cache finds the new template", TimeSpan.FromSeconds(10));
        Assert.True(await store.DeleteIdentityAsync("a"));
        await Wait.Until(() => cache.Index.Identities == 1, "the deleted identity left", TimeSpan.FromSeconds(10));
        await WaitCurrent(cache, store);
        Assert.Equal(1, cache.FullResyncs);
        Assert.True(cache.IncrementalUpdates >= 2, $"{cache.IncrementalUpdates} incremental updates");
        await AssertMatchesStore(cache, store);
    }

    private static string Prefix() => $"test:{Guid.NewGuid():N}";

    private static Task<RedisWatchlistStore> Connect(string prefix) => RedisWatchlistStore.ConnectAsync(WatchlistUri.Parse(RedisServer.SharedUri), prefix);

    // A long resync interval: only change messages can keep the cache current within these tests' waits.
    private static WatchlistCache Cache(IWatchlistStore store) => new(store, "m", Dimension, TimeSpan.FromMinutes(10), NullLogger.Instance);

    /// <summary>Creates the identity and adds <paramref name="templates"/> random unit templates; returns their vectors.</summary>
    private static async Task<List<float[]>> Enroll(IWatchlistStore store, string id, Random random, int templates)
    {
        await store.CreateIdentityAsync($"person {id}", id: id);
        var vectors = new List<float[]>();
        for (int i = 0; i < templates; i++)
        {
            var v = new float[Dimension];
            lock (random)
            {
                for (int d = 0; d < Dimension; d++)
                {
                    v[d] = (float)((random.NextDouble() * 2) - 1);
                }
            }

            TensorPrimitives.Divide(v, TensorPrimitives.Norm(v), v);
            await store.AddTemplateAsync(id, "m", v, 1, null);
            vectors.Add(v);
        }

        return vectors;
    }

    private static bool Finds(WatchlistCache cache, float[] vector, string id) =>
        cache.Index.Search(vector, 1) is [{ } hit] && hit.Identity.Id == id && hit.Similarity > 0.999f;

    private static async Task WaitCurrent(WatchlistCache cache, IWatchlistStore store)
    {
        long version = await store.GetVersionAsync();
        await Wait.Until(() => cache.Version >= version, $"the cache reaches version {version}", TimeSpan.FromSeconds(30), () => $"at {cache.Version}");
    }

    /// <summary>The cache holds exactly the store's templates: the same counts, and every stored template finds its identity.</summary>
    private static async Task AssertMatchesStore(WatchlistCache cache, IWatchlistStore store)
    {
        var snapshot = await store.LoadAllAsync();
        Assert.Equal(snapshot.Version, cache.Version);
        Assert.Equal(snapshot.Templates.Count, cache.Index.Templates);
        Assert.Equal(snapshot.Templates.Select(t => t.IdentityId).Distinct().Count(), cache.Index.Identities);
        foreach (var template in snapshot.Templates)
        {
            Assert.True(Finds(cache, template.Vector, template.IdentityId), $"template {template.Id} of {template.IdentityId} not found in the cache");
        }
    }
}
