using FaceStream.Tests.Support;
using FaceStream.Worker.Cluster;
using FaceStream.Worker.Configuration;
using Microsoft.Extensions.Configuration;
using StackExchange.Redis;
using Xunit;

namespace FaceStream.Tests.Worker.Cluster;

/// <summary>The cluster's Redis parts against a real redis-server of their own: leases with fencing, the camera registry, heartbeats.</summary>
[Trait("Category", "Live")]
public class CameraLeaseTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_lease_has_one_holder_only_its_holder_renews_or_releases_it_and_every_grant_raises_the_epoch()
    {
        using var server = new RedisServer();
        await using var redis = await Connect(server);
        var a = new CameraLeases(redis.GetDatabase(), "worker-a", Ttl);
        var b = new CameraLeases(redis.GetDatabase(), "worker-b", Ttl);

        long first = Assert.NotNull(await a.TryAcquireAsync("lobby"));
        Assert.Null(await b.TryAcquireAsync("lobby"));
        Assert.Equal(first, await a.TryAcquireAsync("lobby"));
        Assert.Equal<(string, long)?>(("worker-a", first), await a.HolderAsync("lobby"));
        Assert.True(await a.RenewAsync("lobby", first));
        // Another worker cannot extend or delete it, even with the right epoch.
        Assert.False(await b.RenewAsync("lobby", first));
        Assert.False(await b.ReleaseAsync("lobby", first));

        Assert.True(await a.ReleaseAsync("lobby", first));
        Assert.Null(await a.HolderAsync("lobby"));
        long second = Assert.NotNull(await b.TryAcquireAsync("lobby"));
        Assert.True(second > first, $"epoch {second} after {first}");
        // The old holder's epoch is stale: it neither renews nor releases its successor's lease.
        Assert.False(await a.RenewAsync("lobby", first));
        Assert.False(await a.ReleaseAsync("lobby", first));
        Assert.Equal<(string, long)?>(("worker-b", second), await b.HolderAsync("lobby"));
        // Each camera has a counter of its own.
        Assert.NotNull(await a.TryAcquireAsync("gate"));
    }

    [Fact]
    public async Task An_expired_lease_goes_to_the_next_claimant_with_a_higher_epoch_and_the_old_holder_cannot_renew_it()
    {
        using var server = new RedisServer();
        await using var redis = await Connect(server);
        var a = new CameraLeases(redis.GetDatabase(), "worker-a", TimeSpan.FromSeconds(1));
        var b = new CameraLeases(redis.GetDatabase(), "worker-b", Ttl);
        long first = Assert.NotNull(await a.TryAcquireAsync("lobby"));

        long? second = null;
        await Wait.Until(() => (second = b.TryAcquireAsync("lobby").GetAwaiter().GetResult()) is not null, "the unrenewed lease expires", TimeSpan.FromSeconds(30));
        Assert.True(second > first);
        Assert.False(await a.RenewAsync("lobby", first));
    }

    [Fact]
    public async Task A_lease_taken_after_it_expired_says_how_long_ago_it_was_last_renewed_and_a_released_or_new_one_does_not()
    {
        using var server = new RedisServer();
        await using var redis = await Connect(server);
        var a = new CameraLeases(redis.GetDatabase(), "worker-a", TimeSpan.FromSeconds(1));
        var b = new CameraLeases(redis.GetDatabase(), "worker-b", Ttl);

        // New camera, the holder's own lease again, a released lease: nothing was taken over.
        var first = Assert.NotNull(await a.TryTakeAsync("lobby"));
        Assert.Null(first.SinceLastRenewal);
        Assert.Equal(new LeaseGrant(first.Epoch, null), await a.TryTakeAsync("lobby"));
        Assert.True(await a.ReleaseAsync("lobby", first.Epoch));
        Assert.Null(Assert.NotNull(await b.TryTakeAsync("lobby")).SinceLastRenewal);
        Assert.True(await b.ReleaseAsync("lobby", (await b.HolderAsync("lobby"))!.Value.Epoch));

        // worker-a renews, then dies: worker-b takes the lease once it expired, at least one TTL after the last renewal.
        var held = Assert.NotNull(await a.TryTakeAsync("lobby"));
        await Task.Delay(300);
        Assert.True(await a.RenewAsync("lobby", held.Epoch));
        var renewed = DateTime.UtcNow;
        LeaseGrant? taken = null;
        await Wait.Until(() => (taken = b.TryTakeAsync("lobby").GetAwaiter().GetResult()) is not null, "the unrenewed lease expires", TimeSpan.FromSeconds(30));
        var since = Assert.NotNull(taken!.Value.SinceLastRenewal);
        Assert.InRange(since, TimeSpan.FromSeconds(1), DateTime.UtcNow - renewed + TimeSpan.FromSeconds(1));

        // Deleting the camera from the registry forgets it: added again, it is a new camera, not a take-over.
        var registry = new CameraRegistry(redis, Ttl);
        await registry.PutAsync(Camera("gate"));
        Assert.NotNull(await new CameraLeases(redis.GetDatabase(), "worker-c", TimeSpan.FromSeconds(1)).TryTakeAsync("gate"));
        Assert.True(await registry.DeleteAsync("gate"));
        await Task.Delay(1500);
        Assert.Null(Assert.NotNull(await b.TryTakeAsync("gate")).SinceLastRenewal);
    }

    [Fact]
    public async Task Epochs_keep_growing_when_Redis_restarts_without_its_data()
    {
        using var server = new RedisServer();
        long before;
        await using (var redis = await Connect(server))
        {
            var a = new CameraLeases(redis.GetDatabase(), "worker-a", Ttl);
            before = Assert.NotNull(await a.TryAcquireAsync("lobby"));
            for (int i = 0; i < 5; i++)
            {
                Assert.True(await a.ReleaseAsync("lobby", before));
                before = Assert.NotNull(await a.TryAcquireAsync("lobby"));
            }
        }

        server.Kill();
        server.Start();
        await using var again = await Connect(server);
        var b = new CameraLeases(again.GetDatabase(), "worker-b", Ttl);
        long after = Assert.NotNull(await b.TryAcquireAsync("lobby"));
        Assert.True(after > before, $"epoch {after} after a restart, {before} before it: a consumer would drop the new owner's events");
    }

    [Fact]
    public async Task The_registry_is_seeded_once_pauses_claims_for_a_ttl_and_announces_every_change()
    {
        using var server = new RedisServer();
        await using var redis = await Connect(server);
        var registry = new CameraRegistry(redis, TimeSpan.FromSeconds(1));
        Assert.Null(await registry.VersionAsync());

        Assert.True(await registry.SeedAsync([Camera("b"), Camera("a", "rtsp://u:p@10.0.0.7/live")]));
        // Right after a seed nobody takes a lease (workers from before a data loss are stopping theirs), then claims resume.
        var leases = new CameraLeases(redis.GetDatabase(), "worker-a", Ttl);
        Assert.Null(await leases.TryAcquireAsync("a"));
        await Wait.Until(() => leases.TryAcquireAsync("a").GetAwaiter().GetResult() is not null, "claims resume after one TTL", TimeSpan.FromSeconds(30));

        Assert.False(await registry.SeedAsync([Camera("c")]));
        var listed = await registry.ListAsync();
        Assert.Equal(["a", "b"], listed.Select(c => c.Id));
        Assert.Equal("rtsp://u:p@10.0.0.7/live", listed[0].Url);
        Assert.Equal(TimeSpan.FromSeconds(7), listed[0].OpenTimeout);
        Assert.True(listed[0].Loop);

        int announced = 0;
        await registry.SubscribeAsync(() => Interlocked.Increment(ref announced));
        long version = Assert.NotNull(await registry.VersionAsync());
        Assert.True(await registry.PutAsync(Camera("c")));
        Assert.False(await registry.PutAsync(Camera("c", "/other.mp4")));
        Assert.True(await registry.DeleteAsync("b"));
        Assert.False(await registry.DeleteAsync("b"));
        Assert.Equal(version + 3, await registry.VersionAsync());
        Assert.Equal("/other.mp4", (await registry.GetAsync("c"))!.Url);
        await Wait.Until(() => Volatile.Read(ref announced) == 3, "three changes announced", TimeSpan.FromSeconds(10), () => $"{announced} announced");
    }

    [Fact]
    public async Task Heartbeats_list_the_live_workers_with_their_load_and_capacity_and_a_leaving_worker_is_gone_at_once()
    {
        using var server = new RedisServer();
        await using var redis = await Connect(server);
        var a = new ClusterMembership(redis.GetDatabase(), "worker-a", Ttl);
        var b = new ClusterMembership(redis.GetDatabase(), "worker-b", Ttl);
        var brief = new ClusterMembership(redis.GetDatabase(), "worker-c", TimeSpan.FromSeconds(1));
        var big = new ClusterMembership(redis.GetDatabase(), "worker-b", Ttl, capacity: 2.5);
        await brief.HeartbeatAsync(5);
        await a.HeartbeatAsync(2);
        Assert.Equal([new LiveWorker("worker-a", 2, 1), new LiveWorker("worker-b", 0, 2.5), new LiveWorker("worker-c", 5, 1)], await big.HeartbeatAsync(0));

        // worker-c stops beating: it drops out once its heartbeat expires.
        await Wait.Until(() => a.HeartbeatAsync(3).GetAwaiter().GetResult().Count == 2, "the silent worker expires", TimeSpan.FromSeconds(30));
        await b.LeaveAsync();
        Assert.Equal([new LiveWorker("worker-a", 1)], await a.HeartbeatAsync(1));
    }

    [Theory]
    [InlineData("""{ "Cluster": { "Redis": "memory:" } }""", "Cluster:Redis: must be a redis://")]
    [InlineData("""{ "Cluster": { "Redis": "http://host" } }""", "Cluster:Redis:")]
    [InlineData("""{ "Cluster": { "WorkerId": "a|b" } }""", "Cluster:WorkerId = 'a|b'")]
    [InlineData("""{ "Cluster": { "LeaseTtl": "00:00:00.500" } }""", "Cluster:LeaseTtl = 00:00:00.5000000 must be between")]
    [InlineData("""{ "Cluster": { "LeaseTl": "00:00:05" } }""", "Cluster:LeaseTl is not a setting")]
    [InlineData("""{ "Cluster": { "Capacity": 0 } }""", "Cluster:Capacity = 0 must be above 0")]
    [InlineData("""{ "Cluster": { "Capacity": -2 } }""", "Cluster:Capacity = -2 must be above 0")]
    [InlineData("""{ "Cluster": { "Capacity": "NaN" } }""", "Cluster:Capacity = NaN must be above 0")]
    public void Bad_cluster_settings_are_refused_at_start_naming_the_key(string json, string expected)
    {
        var config = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build();
        var e = Assert.Throws<WorkerConfigurationException>(() => WorkerSettings.Load(config));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_Cluster_Redis_the_worker_is_a_single_node_and_its_id_defaults_to_host_and_process()
    {
        var options = new WorkerSettings().Cluster;
        Assert.False(options.Enabled);
        Assert.Equal(TimeSpan.FromSeconds(10), options.LeaseTtl);
        Assert.Equal(1, options.Capacity);
        Assert.Equal($"{Environment.MachineName}-{Environment.ProcessId}", options.EffectiveWorkerId);
    }

    private static CameraOptions Camera(string id, string url = "/videos/lobby.mp4") => new() { Id = id, Url = url, Loop = true, OpenTimeout = TimeSpan.FromSeconds(7) };

    private static async Task<ConnectionMultiplexer> Connect(RedisServer server) =>
        await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { { "127.0.0.1", server.Port } }, AbortOnConnectFail = false });
}
