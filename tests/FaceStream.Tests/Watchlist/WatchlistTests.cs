using FaceStream.Cli.Demo;
using FaceStream.Media.Images;
using FaceStream.Tests.Support;
using FaceStream.Tests.Worker;
using FaceStream.Watchlist.Cache;
using FaceStream.Application.Enrollment;
using FaceStream.Watchlist.Store;
using Microsoft.Extensions.Logging.Abstractions;
using SkiaSharp;
using Xunit;

namespace FaceStream.Tests.Watchlist;

/// <summary>The watchlist against a real redis-server: enrollment of real faces, 1:N, two workers' caches, Redis down.</summary>
[Trait("Category", "Live")]
public class WatchlistTests(WorkerEngineFixture fixture) : IClassFixture<WorkerEngineFixture>
{
    private static readonly Lazy<string> GalleryDir = new(() =>
    {
        var dir = TestAssets.TempDirectory();
        using var engine = TestAssets.Engine(minFace: 40);
        DemoAssets.MakeGallery(engine, TestAssets.Store, dir);
        return dir;
    });

    private static byte[] BlondeWoman => File.ReadAllBytes(Directory.GetFiles(Path.Combine(GalleryDir.Value, "Blonde_Woman"))[0]);

    private static Task<RedisWatchlistStore> Redis(string? uri = null, string? prefix = null) =>
        RedisWatchlistStore.ConnectAsync(WatchlistUri.Parse(uri ?? RedisServer.SharedUri), prefix ?? $"test:{Guid.NewGuid():N}");

    private WatchlistCache Cache(IWatchlistStore store, TimeSpan? resync = null) =>
        new(store, fixture.Engine.Embedder.ModelId, fixture.Engine.Embedder.Dimension, resync ?? TimeSpan.FromSeconds(30), NullLogger.Instance);

    [Fact]
    public async Task An_enrolled_person_is_identified_in_another_photo_and_strangers_are_unknown()
    {
        await using var store = await Redis();
        var enroller = new Enroller(fixture.Engine, store, new EnrollmentOptions());
        var person = await store.CreateIdentityAsync("Blonde Woman", new Dictionary<string, string> { ["team"] = "night shift" }, id: "blonde");
        var result = await enroller.EnrollAsync(person.Id, BlondeWoman, "sample3 crop");
        Assert.True(result.Accepted, result.Reason);

        await using var cache = Cache(store);
        await cache.SyncAsync(force: true);
        Assert.Equal(1, cache.Index.Identities);
        float threshold = fixture.Engine.Embedder.Threshold;

        // sample1 is a different photo of her (right-hand face); the other two people there are strangers.
        var faces = enroller.Identify(StillImageDecoder.DecodeFile(TestAssets.Sample(1)), cache.Index, threshold, 0.05f);
        var known = Assert.Single(faces, f => f.Known);
        Assert.Equal("blonde", known.Identity!.Id);
        Assert.True(known.Face.Box.Contains(new(1581, 322)));
        Assert.True(known.Similarity >= threshold);
        Assert.Equal(2, faces.Count(f => !f.Known && f.Identity is null));

        var strangers = enroller.Identify(StillImageDecoder.DecodeFile(TestAssets.Sample(2)), cache.Index, threshold, 0.05f);
        Assert.True(strangers.Count >= 2);
        Assert.All(strangers, f => Assert.False(f.Known));

        var stored = await store.GetIdentityAsync("blonde");
        Assert.Equal("night shift", stored!.Metadata["team"]);
        var template = Assert.Single(await store.ListTemplatesAsync("blonde"));
        Assert.Equal(fixture.Engine.Embedder.ModelId, template.ModelId);
        Assert.NotNull(template.Crop);
    }

    [Fact]
    public async Task A_second_worker_sees_an_enrollment_by_its_change_message_not_its_resync()
    {
        var prefix = $"test:{Guid.NewGuid():N}";
        await using var storeA = await Redis(prefix: prefix);
        await using var storeB = await Redis(prefix: prefix);
        // No resync during the test: only the pub/sub message can bring the change. How fast it comes is a benchmark
        // (docs/benchmarks.md, "Watchlist change-to-searchable latency"), not this test's business: a 1 s deadline here
        // failed once on a loaded CI machine.
        await using var cacheB = Cache(storeB, resync: TimeSpan.FromHours(1));
        await cacheB.StartAsync();
        Assert.Equal(0, cacheB.Index.Identities);

        var enroller = new Enroller(fixture.Engine, storeA, new EnrollmentOptions());
        var person = await storeA.CreateIdentityAsync("Blonde Woman");
        Assert.True((await enroller.EnrollAsync(person.Id, BlondeWoman, "crop")).Accepted);
        await Wait.Until(() => cacheB.Index.Templates == 1, "worker B's cache has the new template", TimeSpan.FromSeconds(30));

        Assert.True(await storeA.DeleteIdentityAsync(person.Id));
        await Wait.Until(() => cacheB.Index.Identities == 0, "worker B's cache dropped the deleted identity", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task The_cache_keeps_answering_while_redis_is_down_and_says_so()
    {
        using var redis = new RedisServer();
        await using var store = await Redis(redis.Uri);
        var enroller = new Enroller(fixture.Engine, store, new EnrollmentOptions());
        var person = await store.CreateIdentityAsync("Blonde Woman");
        Assert.True((await enroller.EnrollAsync(person.Id, BlondeWoman, "crop")).Accepted);
        await using var cache = Cache(store);
        await cache.SyncAsync(force: true);
        Assert.True(cache.Reachable);

        redis.Kill();
        await cache.SyncAsync();
        Assert.False(cache.Reachable);
        Assert.Contains("unavailable", cache.LastError, StringComparison.Ordinal);
        var faces = enroller.Identify(StillImageDecoder.DecodeFile(TestAssets.Sample(1)), cache.Index, fixture.Engine.Embedder.Threshold, 0.05f);
        Assert.Equal(person.Id, Assert.Single(faces, f => f.Known).Identity!.Id);
        await Assert.ThrowsAsync<WatchlistUnavailableException>(() => store.CreateIdentityAsync("someone"));
    }

    [Fact]
    public async Task Bad_photos_are_refused_with_the_reason_and_other_models_are_never_compared()
    {
        await using var store = await Redis();
        var enroller = new Enroller(fixture.Engine, store, new EnrollmentOptions { MaxImageBytes = 2_000_000 });
        var person = await store.CreateIdentityAsync("Someone");

        var text = await enroller.EnrollAsync(person.Id, "not an image"u8.ToArray(), "notes.txt");
        Assert.False(text.Accepted);
        var none = await enroller.EnrollAsync(person.Id, GreyJpeg(), "wall.jpg");
        Assert.Equal("no face found", none.Reason);
        var group = await enroller.EnrollAsync(person.Id, await File.ReadAllBytesAsync(TestAssets.Sample(2)), "sample2.jpg");
        Assert.Contains("faces found and none is clearly the subject", group.Reason, StringComparison.Ordinal);
        var huge = await enroller.EnrollAsync(person.Id, new byte[2_000_001], "huge.jpg");
        Assert.Contains("over the 2000000-byte limit", huge.Reason, StringComparison.Ordinal);
        Assert.Empty(await store.ListTemplatesAsync(person.Id));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.AddTemplateAsync("nobody", "m", new float[4], 1, null));

        // A template made by another model is skipped (and counted), not compared.
        await store.AddTemplateAsync(person.Id, "mobilefacenet-192", new float[192], 1, null);
        Assert.True((await enroller.EnrollAsync(person.Id, BlondeWoman, "crop")).Accepted);
        await using var cache = Cache(store);
        await cache.SyncAsync(force: true);
        Assert.Equal(1, cache.Index.Templates);
        Assert.Equal(1, cache.SkippedTemplates);
    }

    [Theory]
    [InlineData("redis://user:s3cret@10.0.0.7:6380/2", "redis://user:***@10.0.0.7:6380/2")]
    [InlineData("rediss://cache.internal:6379", "rediss://cache.internal:6379")]
    [InlineData("memory:", "memory:")]
    public void Watchlist_addresses_parse_and_never_show_the_password(string text, string safe) => Assert.Equal(safe, WatchlistUri.Parse(text).Safe);

    private static byte[] GreyJpeg()
    {
        using var bitmap = new SKBitmap(320, 240);
        bitmap.Erase(new SKColor(128, 128, 128));
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        return data.ToArray();
    }
}
