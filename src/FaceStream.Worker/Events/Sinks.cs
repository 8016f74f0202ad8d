using System.Net.Http.Headers;
using System.Text;
using FaceStream.Worker.Configuration;
using MQTTnet;
using StackExchange.Redis;

namespace FaceStream.Worker.Events;

/// <summary>XADD of each event to a Redis stream, trimmed approximately to MaxLength. Fields: kind, camera_id, event (the JSON).</summary>
public sealed class RedisStreamSink(IConnectionMultiplexer redis, RedisStreamOptions options, string safeAddress) : IEventSink
{
    public string Name => $"redis-stream:{safeAddress}/{options.Key}";

    public async ValueTask PublishAsync(FaceEvent e, CancellationToken cancel)
    {
        try
        {
            await redis.GetDatabase().StreamAddAsync(options.Key,
                [new("kind", EventJson.Kind(e.Kind)), new("camera_id", e.CameraId), new("event", EventJson.Serialize(e))],
                maxLength: options.MaxLength, useApproximateMaxLength: true);
        }
        catch (RedisException ex)
        {
            throw new IOException($"{Name}: {FaceStream.Watchlist.Store.RedisFailure.Describe(ex)}", ex);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>HTTP POST of each event's JSON; any non-2xx answer or timeout is a failure (the buffer retries).</summary>
public sealed class WebhookSink : IEventSink
{
    /// <summary>The named client the worker's composition root registers with IHttpClientFactory.</summary>
    public const string HttpClientName = "facestream-webhook";

    private readonly HttpClient _http;
    private readonly Uri _url;

    /// <summary>With a client of its own (tests, benches).</summary>
    public WebhookSink(WebhookOptions options)
        : this(options, new HttpClient())
    {
    }

    /// <summary>
    /// With a client from IHttpClientFactory (pooled handlers, DNS changes followed). No retry handler on it: the sink's
    /// buffer in <see cref="EventPublisher"/> already retries each event until it is delivered or counted as lost.
    /// </summary>
    public WebhookSink(WebhookOptions options, HttpClient http)
    {
        _url = new Uri(options.Url);
        _http = http;
        _http.Timeout = options.Timeout;
        if (options.Token.Length > 0)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
        }

        Name = $"webhook:{Media.Video.SourceUrl.Redact(options.Url)}";
    }

    public string Name { get; }

    public async ValueTask PublishAsync(FaceEvent e, CancellationToken cancel)
    {
        try
        {
            using var content = new StringContent(EventJson.Serialize(e), Encoding.UTF8, "application/json");
            using var response = await _http.PostAsync(_url, content, cancel);
            if (!response.IsSuccessStatusCode)
            {
                throw new IOException($"{Name} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            }
        }
        catch (HttpRequestException ex)
        {
            throw new IOException($"{Name}: {ex.Message}", ex);
        }
        catch (TaskCanceledException ex) when (!cancel.IsCancellationRequested)
        {
            throw new TimeoutException($"{Name}: no answer within {_http.Timeout.TotalSeconds:0.#} s", ex);
        }
    }

    public ValueTask DisposeAsync()
    {
        // A factory's client is disposed too (its pooled handler is not).
        _http.Dispose();

        return ValueTask.CompletedTask;
    }
}

/// <summary>MQTT publish (QoS 1) of each event to TopicPrefix/CAMERA/KIND; connects lazily and reconnects on the next event.</summary>
/// <remarks>The camera id is one topic level: <c>%</c>, <c>/</c>, <c>+</c>, <c>#</c> and NUL in it are percent-encoded
/// (<c>entrance #1</c> → <c>entrance %231</c>), since MQTT forbids wildcards in a published topic.</remarks>
public sealed class MqttSink(MqttOptions options) : IEventSink
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly SemaphoreSlim _connect = new(1, 1);

    public string Name => $"mqtt:{options.Host}:{options.Port}/{options.TopicPrefix}";

    public async ValueTask PublishAsync(FaceEvent e, CancellationToken cancel)
    {
        // A broker that accepts the connection and never answers would otherwise hold the lane for MQTTnet's own
        // (much longer) timeouts without a word: connect + publish get Events:Mqtt:Timeout together.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        deadline.CancelAfter(options.Timeout);
        try
        {
            await EnsureConnected(deadline.Token);
            var message = new MqttApplicationMessageBuilder()
                .WithTopic($"{options.TopicPrefix}/{TopicLevel(e.CameraId)}/{EventJson.Kind(e.Kind)}")
                .WithPayload(EventJson.Serialize(e))
                .WithQualityOfServiceLevel(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce)
                .Build();
            var result = await _client.PublishAsync(message, deadline.Token);
            if (!result.IsSuccess)
            {
                throw new IOException($"{Name}: publish refused ({result.ReasonCode})");
            }
        }
        catch (MQTTnet.Exceptions.MqttCommunicationException ex) when (!deadline.IsCancellationRequested || cancel.IsCancellationRequested)
        {
            throw new IOException($"{Name}: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationException && deadline.IsCancellationRequested && !cancel.IsCancellationRequested)
        {
            throw new TimeoutException($"{Name}: no answer within {options.Timeout.TotalSeconds:0.#} s ({(_client.IsConnected ? "publishing" : "connecting")})", ex);
        }
    }

    /// <summary>Text made safe as one topic level: <c>%</c>, <c>/</c>, <c>+</c>, <c>#</c> and NUL percent-encoded (as in URLs, so <c>%</c> first).</summary>
    public static string TopicLevel(string text) =>
        text.AsSpan().IndexOfAny("%/+#\0") < 0 ? text
            : text.Replace("%", "%25", StringComparison.Ordinal).Replace("/", "%2F", StringComparison.Ordinal).Replace("+", "%2B", StringComparison.Ordinal)
                .Replace("#", "%23", StringComparison.Ordinal).Replace("\0", "%00", StringComparison.Ordinal);

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            await _client.DisconnectAsync();
        }

        _client.Dispose();
        _connect.Dispose();
    }

    private async Task EnsureConnected(CancellationToken cancel)
    {
        if (_client.IsConnected)
        {
            return;
        }

        await _connect.WaitAsync(cancel);
        try
        {
            if (!_client.IsConnected)
            {
                var builder = new MqttClientOptionsBuilder().WithTcpServer(options.Host, options.Port).WithTimeout(options.Timeout).WithClientId($"facestream-{Environment.MachineName}-{Environment.ProcessId}");
                if (options.Username.Length > 0)
                {
                    builder = builder.WithCredentials(options.Username, options.Password);
                }

                await _client.ConnectAsync(builder.Build(), cancel);
            }
        }
        finally
        {
            _connect.Release();
        }
    }
}
