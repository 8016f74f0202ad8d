using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Tests.Support;
using FaceStream.Tests.Worker;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Events;
using FaceStream.Worker.Metrics;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using StackExchange.Redis;
using Xunit;

namespace FaceStream.Tests.Events;

/// <summary>Event delivery to real servers: Redis Streams through a Redis restart, a webhook that fails first, MQTT, and the buffer bound.</summary>
[Trait("Category", "Live")]
public class EventSinkTests
{
    private static MatchEvent Match(int i, string camera = "door") => new(
        Guid.NewGuid(), camera, i, "blonde", "Blonde Woman", 0.8f, 0.3f,
        new DetectedFace(new BoxF(10, 10, 110, 110), 0.99f, new Landmarks5(new(40, 50), new(80, 50), new(60, 70), new(45, 90), new(75, 90))),
        DateTimeOffset.UtcNow, TimeSpan.FromSeconds(i), DateTimeOffset.UtcNow, "faceplugin-arcface-512");

    private static PipelineMetrics Metrics() => new(Prometheus.Metrics.NewCustomRegistry());

    [Fact]
    public async Task Each_sinks_delivered_failed_and_lost_counters_are_exported_at_0_before_its_first_event()
    {
        var metrics = Metrics();
        var sink = new MemorySink();
        var publisher = new EventPublisher([sink], metrics, new CapturingLogger());
        Assert.Equal(new[] { "delivered", "failed", "lost" }.Select(c => $"facestream_events_{c}_total{{sink=\"memory\"}} 0"), await SinkSeries(metrics));

        var delivering = publisher.RunAsync();
        publisher.Publish(Match(1));
        publisher.Complete();
        await delivering.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["facestream_events_delivered_total{sink=\"memory\"} 1", "facestream_events_failed_total{sink=\"memory\"} 0", "facestream_events_lost_total{sink=\"memory\"} 0"],
            await SinkSeries(metrics));
    }

    /// <summary>The per-sink event series as /metrics writes them.</summary>
    private static async Task<List<string>> SinkSeries(PipelineMetrics metrics)
    {
        using var text = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(text);
        return System.Text.Encoding.UTF8.GetString(text.ToArray()).Split('\n')
            .Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^facestream_events_(delivered|failed|lost)_total\{")).Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public Task No_event_is_lost_when_redis_restarts_while_events_flow() => Bounded.Run(async () =>
    {
        using var redis = new RedisServer();
        var options = new RedisStreamOptions { Enabled = true, Key = "facestream:events", MaxLength = 10_000 };
        await using var connection = await FaceStream.Watchlist.Store.WatchlistUri.Parse(redis.Uri).ConnectRedisAsync();
        var metrics = Metrics();
        var publisher = new EventPublisher([new RedisStreamSink(connection, options, "test")], metrics, NullLogger.Instance, bufferSize: 1000);
        var delivering = publisher.RunAsync();

        // A consumer group reader on its own connection, as a downstream service would run it; it recreates its group
        // after the restart (this Redis keeps nothing, like CI's).
        var received = new ConcurrentDictionary<string, bool>();
        using var stop = new CancellationTokenSource();
        var consumer = Task.Run(() => Consume(redis.Port, options.Key, received, stop.Token));

        var sent = new List<string>();
        for (int i = 0; i < 120; i++)
        {
            if (i == 30)
            {
                // This Redis keeps nothing across a restart (as in CI), so let the consumer catch up first: what this
                // test checks is that nothing published while Redis is down or restarting goes missing.
                await Wait.Until(() => sent.All(received.ContainsKey), "the consumer caught up before the restart");
                redis.Kill();
            }

            if (i == 80)
            {
                redis.Start();
            }

            var e = Match(i);
            sent.Add(e.EventId.ToString());
            publisher.Publish(e);
            await Task.Delay(25);
        }

        await Wait.Until(() => sent.All(received.ContainsKey), "every event read back from the stream", TimeSpan.FromSeconds(30),
            () => $"{sent.Count(received.ContainsKey)} of {sent.Count}");
        publisher.Complete();
        await delivering.WaitAsync(TimeSpan.FromSeconds(10));
        await stop.CancelAsync();
        await consumer;
        Assert.Equal(0, metrics.EventsLost.WithLabels("redis-stream:test/facestream:events").Value);
        Assert.True(metrics.EventsFailed.WithLabels("redis-stream:test/facestream:events").Value >= 1, "the outage was seen and retried");
    });

    private static async Task Consume(int port, string key, ConcurrentDictionary<string, bool> received, CancellationToken stop)
    {
        var config = ConfigurationOptions.Parse($"127.0.0.1:{port}");
        config.AbortOnConnectFail = false;
        config.ConnectTimeout = 1000;
        await using var connection = await ConnectionMultiplexer.ConnectAsync(config);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var db = connection.GetDatabase();
                try
                {
                    await db.StreamCreateConsumerGroupAsync(key, "alerts", "0-0", createStream: true);
                }
                catch (RedisServerException e) when (e.Message.Contains("BUSYGROUP", StringComparison.Ordinal))
                {
                    // the group exists
                }

                foreach (var entry in await db.StreamReadGroupAsync(key, "alerts", "test-consumer", ">", count: 100))
                {
                    var json = JsonDocument.Parse((string)entry["event"]!).RootElement;
                    received[json.GetProperty("event_id").GetString()!] = true;
                    await db.StreamAcknowledgeAsync(key, "alerts", entry.Id);
                }
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                // Redis is restarting; keep trying
            }

            await Task.Delay(50, CancellationToken.None);
        }
    }

    [Fact]
    public Task A_webhook_that_fails_first_gets_the_event_on_retry() => Bounded.Run(async () =>
    {
        using var listener = new HttpListener();
        int port = TestPorts.Free();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/hook/");
        listener.Start();
        var bodies = new ConcurrentQueue<(string Body, string? Auth)>();
        int calls = 0;
        var server = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext ctx;
                try
                {
                    ctx = await listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                using var reader = new StreamReader(ctx.Request.InputStream);
                var body = await reader.ReadToEndAsync();
                // The first attempt fails like a receiver in the middle of a deploy.
                ctx.Response.StatusCode = Interlocked.Increment(ref calls) == 1 ? 503 : 200;
                if (ctx.Response.StatusCode == 200)
                {
                    bodies.Enqueue((body, ctx.Request.Headers["Authorization"]));
                }

                ctx.Response.Close();
            }
        });

        var metrics = Metrics();
        var sink = new WebhookSink(new WebhookOptions { Url = $"http://127.0.0.1:{port}/hook/", Token = "receiver-token-1234", Timeout = TimeSpan.FromSeconds(2) });
        var publisher = new EventPublisher([sink], metrics, NullLogger.Instance);
        var delivering = publisher.RunAsync();
        var e = Match(7);
        publisher.Publish(e);
        await Wait.Until(() => !bodies.IsEmpty, "the webhook received the event");
        publisher.Complete();
        await delivering;
        listener.Stop();
        await server;

        var (body, auth) = Assert.Single(bodies);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal(e.EventId.ToString(), json.GetProperty("event_id").GetString());
        Assert.Equal("match", json.GetProperty("kind").GetString());
        Assert.Equal("Bearer receiver-token-1234", auth);
        Assert.Equal(1, metrics.EventsFailed.WithLabels(sink.Name).Value);
    });

    [Fact]
    public Task Events_beyond_the_buffer_of_a_dead_sink_are_counted_as_lost() => Bounded.Run(async () =>
    {
        var metrics = Metrics();
        var sink = new WebhookSink(new WebhookOptions { Url = "http://127.0.0.1:9/hook", Timeout = TimeSpan.FromSeconds(1) });
        var publisher = new EventPublisher([sink], metrics, NullLogger.Instance, bufferSize: 5);
        var delivering = publisher.RunAsync();
        publisher.Publish(Match(0));
        await Wait.Until(() => metrics.EventsFailed.WithLabels(sink.Name).Value >= 1, "the first delivery failed");
        for (int i = 1; i < 10; i++)
        {
            publisher.Publish(Match(i));
        }

        // One event is being retried, five wait in the buffer, four did not fit.
        Assert.Equal(4, metrics.EventsLost.WithLabels(sink.Name).Value);
        publisher.Complete();
        publisher.Abandon();
        await delivering.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(10, metrics.EventsLost.WithLabels(sink.Name).Value);
    });

    /// <summary>A subscriber on the real broker that keeps every message under prefix/#.</summary>
    private static async Task<IMqttClient> Subscribe(string host, int port, string prefix, ConcurrentQueue<(string Topic, string Payload)> messages)
    {
        var subscriber = new MqttClientFactory().CreateMqttClient();
        subscriber.ApplicationMessageReceivedAsync += m =>
        {
            messages.Enqueue((m.ApplicationMessage.Topic, m.ApplicationMessage.ConvertPayloadToString()));
            return Task.CompletedTask;
        };
        await subscriber.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(host, port).WithClientId($"test-{Guid.NewGuid():N}").Build());
        await subscriber.SubscribeAsync($"{prefix}/#");
        return subscriber;
    }

    [Fact]
    public Task Mqtt_subscribers_receive_events_on_camera_and_kind_topics() => Bounded.Run(async () =>
    {
        var (host, port) = MosquittoServer.Shared;
        var prefix = $"test{Guid.NewGuid():N}";
        var messages = new ConcurrentQueue<(string Topic, string Payload)>();
        using var subscriber = await Subscribe(host, port, prefix, messages);

        await using var sink = new MqttSink(new MqttOptions { Host = host, Port = port, TopicPrefix = prefix });
        var e = Match(3, camera: "gate");
        await sink.PublishAsync(e, CancellationToken.None);
        await Wait.Until(() => !messages.IsEmpty, "the MQTT subscriber got the event");
        var (topic, payload) = Assert.Single(messages);
        Assert.Equal($"{prefix}/gate/match", topic);
        Assert.Equal(e.EventId.ToString(), JsonDocument.Parse(payload).RootElement.GetProperty("event_id").GetString());
        await subscriber.DisconnectAsync();
    });

    [Fact]
    public Task Mqtt_camera_ids_with_wildcards_are_escaped_and_every_camera_keeps_delivering() => Bounded.Run(async () =>
    {
        var (host, port) = MosquittoServer.Shared;
        var prefix = $"test{Guid.NewGuid():N}";
        var messages = new ConcurrentQueue<(string Topic, string Payload)>();
        using var subscriber = await Subscribe(host, port, prefix, messages);

        var metrics = Metrics();
        var log = new CapturingLogger();
        var sink = new MqttSink(new MqttOptions { Host = host, Port = port, TopicPrefix = prefix });
        var publisher = new EventPublisher([sink], metrics, log);
        var delivering = publisher.RunAsync();
        string[] cameras = ["entrance #1", "gate", "a+b", "x/y", "50%"];
        for (int i = 0; i < 25; i++)
        {
            publisher.Publish(Match(i, cameras[i % cameras.Length]));
        }

        await Wait.Until(() => messages.Count >= 25, "all 25 events reached the subscriber", TimeSpan.FromSeconds(20),
            () => $"{messages.Count} arrived; log: {string.Join(" | ", log.Lines)}");
        publisher.Complete();
        await delivering.WaitAsync(TimeSpan.FromSeconds(10));
        await sink.DisposeAsync();
        var topics = messages.Select(m => m.Topic).ToHashSet();
        Assert.Equal(
            new[] { "entrance %231", "gate", "a%2Bb", "x%2Fy", "50%25" }.Select(c => $"{prefix}/{c}/match").Order(),
            topics.Order());
        Assert.Equal(25, metrics.EventsDelivered.WithLabels(sink.Name).Value);
        Assert.Equal(0, metrics.EventsFailed.WithLabels(sink.Name).Value);
        Assert.Equal(0, metrics.EventsLost.WithLabels(sink.Name).Value);
        await subscriber.DisconnectAsync();
    });

    [Fact]
    public Task A_sink_error_that_retrying_cannot_fix_is_counted_logged_and_later_events_still_go_out() => Bounded.Run(async () =>
    {
        var metrics = Metrics();
        var log = new CapturingLogger();
        var sink = new RefusingSink("bad camera");
        var publisher = new EventPublisher([sink], metrics, log);
        var delivering = publisher.RunAsync();
        publisher.Publish(Match(0, "bad camera"));
        publisher.Publish(Match(1, "gate"));
        publisher.Complete();
        await delivering.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["gate"], sink.Delivered);
        Assert.Equal(1, metrics.EventsFailed.WithLabels(sink.Name).Value);
        Assert.Equal(1, metrics.EventsLost.WithLabels(sink.Name).Value);
        Assert.Contains(log.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("bad camera", StringComparison.Ordinal) && l.Contains("refused", StringComparison.Ordinal));
    });

    [Fact]
    public Task An_mqtt_broker_that_never_answers_fails_within_the_timeout_counted_and_logged() => Bounded.Run(async () =>
    {
        // Accepts the TCP connection, then says nothing (a hung broker, or something else on the port).
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepted = new List<System.Net.Sockets.TcpClient>();
        var accepting = Task.Run(async () =>
        {
            while (true)
            {
                try
                {
                    accepted.Add(await listener.AcceptTcpClientAsync());
                }
                catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ObjectDisposedException)
                {
                    return;
                }
            }
        });
        var metrics = Metrics();
        var log = new CapturingLogger();
        var sink = new MqttSink(new MqttOptions { Host = "127.0.0.1", Port = ((IPEndPoint)listener.LocalEndpoint).Port, Timeout = TimeSpan.FromSeconds(1) });
        var publisher = new EventPublisher([sink], metrics, log);
        var delivering = publisher.RunAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        publisher.Publish(Match(0));
        await Wait.Until(() => metrics.EventsFailed.WithLabels(sink.Name).Value >= 1, "the silent broker counted as a failure", TimeSpan.FromSeconds(8));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"failed only after {clock.Elapsed}");
        // The lane counts the failure, then logs it: on a busy machine the line can follow the count by a moment.
        await Wait.Until(() => log.Lines.Any(l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("no answer within 1 s", StringComparison.Ordinal)),
            "the failure logged as an error naming the 1 s timeout", TimeSpan.FromSeconds(8));
        publisher.Complete();
        publisher.Abandon();
        await delivering.WaitAsync(TimeSpan.FromSeconds(10));
        await sink.DisposeAsync();
        listener.Stop();
        await accepting;
        accepted.ForEach(c => c.Dispose());
    });

    /// <summary>A sink that throws a non-transport exception for one camera (as MQTTnet did for a topic with a wildcard).</summary>
    private sealed class RefusingSink(string camera) : IEventSink
    {
        public List<string> Delivered { get; } = [];

        public string Name => "refusing";

        public ValueTask PublishAsync(FaceEvent e, CancellationToken cancel)
        {
            if (e.CameraId == camera)
            {
                throw new ArgumentException($"topic for camera '{camera}' is not valid");
            }

            Delivered.Add(e.CameraId);
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
