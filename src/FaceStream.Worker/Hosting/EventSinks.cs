using FaceStream.Watchlist.Store;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Events;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FaceStream.Worker.Hosting;

/// <summary>The event sinks and snapshot store a pipeline publishes to; disposed (with their Redis connection) with the host.</summary>
public sealed class EventSinks(IReadOnlyList<IEventSink> sinks, ISnapshotStore? snapshots, IConnectionMultiplexer? redis = null) : IAsyncDisposable
{
    public IReadOnlyList<IEventSink> Sinks { get; } = sinks;

    public ISnapshotStore? Snapshots { get; } = snapshots;

    /// <summary>The sinks Events configures. Redis-backed ones share one connection that keeps reconnecting in the background.</summary>
    internal static EventSinks FromSettings(IServiceProvider services)
    {
        var settings = services.GetRequiredService<WorkerSettings>();
        var log = services.GetRequiredService<ILoggerFactory>().CreateLogger("FaceStream.Events");
        var o = settings.Events;
        var sinks = new List<IEventSink>();
        if (o.Console)
        {
            sinks.Add(JsonLinesSink.Console());
        }

        if (!string.IsNullOrWhiteSpace(o.JsonLinesFile))
        {
            sinks.Add(JsonLinesSink.File(o.JsonLinesFile));
        }

        IConnectionMultiplexer? redis = null;
        WatchlistUri? redisUri = null;
        if (o.RedisStream.Enabled || o.Snapshots.RedisTtl > TimeSpan.Zero)
        {
            redisUri = WatchlistUri.Parse(o.RedisStream.Uri.Length > 0 ? o.RedisStream.Uri : settings.Watchlist.Uri);
            if (redisUri.IsMemory)
            {
                throw new WorkerConfigurationException("Events:RedisStream / Events:Snapshots:RedisTtl need Redis: set Events:RedisStream:Uri or a redis:// Watchlist:Uri");
            }

            redis = redisUri.ConnectRedis();
        }

        if (o.RedisStream.Enabled)
        {
            sinks.Add(new RedisStreamSink(redis!, o.RedisStream, redisUri!.Safe));
        }

        if (o.Webhook.Url.Length > 0)
        {
            sinks.Add(new WebhookSink(o.Webhook, services.GetRequiredService<IHttpClientFactory>().CreateClient(WebhookSink.HttpClientName)));
        }

        if (o.Mqtt.Host.Length > 0)
        {
            sinks.Add(new MqttSink(o.Mqtt));
        }

        // Sinks the host registers besides the configured ones (the review console's ring of recent events).
        sinks.AddRange(services.GetServices<IEventSink>());
        ISnapshotStore? snapshots = o.Snapshots.RedisTtl > TimeSpan.Zero ? new RedisSnapshotStore(redis!, o.Snapshots.RedisTtl)
            : o.Snapshots.Directory.Length > 0 ? new FileSnapshotStore(o.Snapshots, log)
            : null;
        log.LogInformation("events go to: {Sinks}; snapshots: {Snapshots}", sinks.Count == 0 ? "(no sink)" : string.Join(", ", sinks.Select(s => s.Name)),
            snapshots switch { FileSnapshotStore => o.Snapshots.Directory, RedisSnapshotStore => $"Redis, {o.Snapshots.RedisTtl} TTL", _ => "off" });
        return new EventSinks(sinks, snapshots, redis);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var sink in Sinks)
        {
            await sink.DisposeAsync();
        }

        if (redis is not null)
        {
            await redis.DisposeAsync();
        }
    }
}
