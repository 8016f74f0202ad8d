using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using FaceStream.Tests.Support;
using StackExchange.Redis;
using Xunit;

namespace FaceStream.Tests.Worker.Cluster;

/// <summary>
/// A redis-server of its own and `facestream run` worker processes on 127.0.0.1 that share its cameras: small looping
/// file cameras played in real time, a short lease TTL, each worker writing its events to a file of its own.
/// </summary>
internal sealed class TestCluster : IDisposable
{
    public const string Token = "cluster-test-token-0123456789";
    public const string ViewerToken = "cluster-viewer-token-0123456789";
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(4);

    /// <summary>Generous for anything a loaded 2-core machine does while workers start, stop and take cameras over.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private static readonly Lazy<string> Clip = new(() =>
    {
        var path = Path.Combine(TestAssets.TempDirectory(), "cluster-320x180.mp4");
        VideoClips.Ffmpeg($"-f lavfi -i testsrc2=size=320x180:rate=10 -t 4 -c:v libx264 -preset veryfast -g 10 -pix_fmt yuv420p \"{path}\"");
        return path;
    });

    private readonly string _dir = TestAssets.TempDirectory();
    private readonly List<Node> _nodes = [];

    public TestCluster(int cameras)
    {
        CameraIds = Enumerable.Range(0, cameras).Select(i => $"cam{i}").ToList();
    }

    public RedisServer Redis { get; } = new();

    public IReadOnlyList<string> CameraIds { get; }

    public IReadOnlyList<Node> Nodes => _nodes;

    /// <summary>Cluster:Capacity of the workers started after it is set (worker id → capacity; absent = the default, 1).</summary>
    public Dictionary<string, double> Capacities { get; } = new(StringComparer.Ordinal);

    /// <summary>The cameras' clip: 4 s of 320×180 H.264 at 10 fps.</summary>
    public static string ClipFile => Clip.Value;

    public static string CameraJson(string id, double fps = 1) =>
        $$"""{ "Id": "{{id}}", "Url": "{{Clip.Value}}", "Loop": true, "Realtime": true, "AnalysisFps": {{fps.ToString(CultureInfo.InvariantCulture)}} }""";

    /// <summary>Starts workers (in parallel: each loads its models) and waits until each serves.</summary>
    public async Task<IReadOnlyList<Node>> StartAsync(params string[] ids)
    {
        var started = ids.Select(Start).ToList();
        foreach (var node in started)
        {
            await node.Process.WaitFor200Async(node.Http, "/healthz", Patience);
        }

        return started;
    }

    /// <summary>Which live workers stream each camera now (camera → worker ids); a worker that does not answer counts as none.</summary>
    public async Task<Dictionary<string, List<string>>> StreamingAsync(IEnumerable<Node> nodes)
    {
        var map = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            foreach (var camera in await node.StreamingAsync())
            {
                map.TryAdd(camera, []);
                map[camera].Add(node.Id);
            }
        }

        return map;
    }

    /// <summary>Waits until every camera in <paramref name="cameras"/> (default: all) streams on exactly one of <paramref name="nodes"/>, and <paramref name="also"/> holds.</summary>
    public async Task<Dictionary<string, List<string>>> WaitEachOnceAsync(IReadOnlyList<Node> nodes, IReadOnlyCollection<string>? cameras = null,
        Func<Dictionary<string, List<string>>, bool>? also = null)
    {
        var expected = cameras ?? CameraIds;
        var deadline = DateTime.UtcNow + Patience;
        Dictionary<string, List<string>> map;
        while (true)
        {
            map = await StreamingAsync(nodes);
            if (map.Keys.Order().SequenceEqual(expected.Order()) && map.Values.All(w => w.Count == 1) && (also?.Invoke(map) ?? true))
            {
                return map;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"not within {Patience.TotalSeconds} s: each of {expected.Count} cameras streaming on exactly one worker; now: "
                    + string.Join(", ", map.Select(m => $"{m.Key}@{string.Join('+', m.Value)}")) + "\n" + string.Join("\n", nodes.Select(n => $"--- {n.Id}:\n{n.Process.Output}")));
            }

            await Task.Delay(200);
        }
    }

    /// <summary>The lease of each camera as Redis holds it now: camera → "worker|epoch".</summary>
    public async Task<Dictionary<string, string>> LeasesAsync()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{Redis.Port}");
        var db = redis.GetDatabase();
        var leases = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var id in CameraIds)
        {
            if (await db.StringGetAsync($"facestream:cluster:lease:{id}") is { IsNullOrEmpty: false } value)
            {
                leases[id] = value!;
            }
        }

        return leases;
    }

    /// <summary>
    /// Every camera's streaming spans per worker from the camera_state events (streaming → stopped; a span still open
    /// ends at the worker's kill time, or now), and the pairs of spans of one camera on two workers that overlap after
    /// <paramref name="from"/>: a camera analysed twice.
    /// </summary>
    public IReadOnlyList<string> Overlaps(DateTimeOffset from, IReadOnlyDictionary<string, DateTimeOffset>? killedAt = null)
    {
        var spans = new List<(string Camera, string Worker, DateTimeOffset Start, DateTimeOffset End)>();
        foreach (var node in _nodes)
        {
            var open = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            var end = killedAt?.GetValueOrDefault(node.Id) is { } killed && killed != default ? killed : DateTimeOffset.MaxValue;
            foreach (var e in node.Events().Where(e => e.GetProperty("kind").GetString() == "camera_state"))
            {
                string camera = e.GetProperty("camera_id").GetString()!, state = e.GetProperty("camera_state").GetString()!;
                var at = e.GetProperty("frame_timestamp").GetDateTimeOffset();
                if (state == "streaming")
                {
                    open.TryAdd(camera, at);
                }
                else if (state is "stopped" or "failed" or "completed" && open.Remove(camera, out var start))
                {
                    spans.Add((camera, node.Id, start, at));
                }
            }

            spans.AddRange(open.Select(o => (o.Key, node.Id, o.Value, end)));
        }

        var overlaps = new List<string>();
        foreach (var camera in spans.GroupBy(s => s.Camera))
        {
            var list = camera.Where(s => s.End > from).ToList();
            for (int i = 0; i < list.Count; i++)
            {
                for (int j = i + 1; j < list.Count; j++)
                {
                    var (a, b) = (list[i], list[j]);
                    if (a.Worker != b.Worker && a.Start < b.End && b.Start < a.End)
                    {
                        overlaps.Add($"{camera.Key}: {a.Worker} {a.Start:HH:mm:ss.fff}–{a.End:HH:mm:ss.fff} and {b.Worker} {b.Start:HH:mm:ss.fff}–{b.End:HH:mm:ss.fff}");
                    }
                }
            }
        }

        return overlaps;
    }

    public void Dispose()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }

        Redis.Dispose();
    }

    private Node Start(string id)
    {
        int port = TestPorts.Free();
        var events = Path.Combine(_dir, $"events-{id}.jsonl");
        var config = Path.Combine(_dir, $"{id}.json");
        File.WriteAllText(config, $$"""
            { "Detector": { "Mtcnn": { "MinFaceSize": 40 } }, "Metrics": { "Port": {{port}} },
              "Events": { "Console": false, "JsonLinesFile": "{{events}}" }, "Api": { "Token": "{{Token}}", "ViewerToken": "{{ViewerToken}}" },
              "Cluster": { "Redis": "{{Redis.Uri}}", "WorkerId": "{{id}}", "LeaseTtl": "{{Ttl}}", "Capacity": {{Capacities.GetValueOrDefault(id, 1).ToString(CultureInfo.InvariantCulture)}} },
              "Cameras": [ {{string.Join(", ", CameraIds.Select(c => CameraJson(c)))}} ] }
            """);
        var node = new Node(id, WorkerProcess.Start(config), new Uri($"http://127.0.0.1:{port}"), events);
        _nodes.Add(node);
        return node;
    }

    /// <summary>One worker process with an HTTP client for its /status and /api.</summary>
    internal sealed class Node(string id, WorkerProcess process, Uri address, string eventsFile) : IDisposable
    {
        public string Id { get; } = id;

        public WorkerProcess Process { get; } = process;

        public HttpClient Http { get; } = new()
        {
            BaseAddress = address, Timeout = TimeSpan.FromSeconds(10),
            DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", Token) },
        };

        /// <summary>The cameras this worker streams now; none when it does not answer (killed, paused, stopping).</summary>
        public async Task<IReadOnlyList<string>> StreamingAsync()
        {
            if (Process.Exited)
            {
                return [];
            }

            try
            {
                using var status = JsonDocument.Parse(await Http.GetStringAsync("/status"));
                Assert.Equal(Id, status.RootElement.GetProperty("worker_id").GetString());
                return status.RootElement.GetProperty("cameras").EnumerateArray()
                    .Where(c => c.GetProperty("state").GetString() == "streaming").Select(c => c.GetProperty("id").GetString()!).ToList();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return [];
            }
        }

        /// <summary>The lease epochs this worker holds (camera → epoch), from its /status.</summary>
        public async Task<Dictionary<string, long>> LeasesAsync()
        {
            using var status = JsonDocument.Parse(await Http.GetStringAsync("/status"));
            return status.RootElement.GetProperty("leases").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64(), StringComparer.Ordinal);
        }

        /// <summary>GET /readyz: ready or not, and the reasons it gives.</summary>
        public async Task<(bool Ready, IReadOnlyList<string> Reasons)> ReadinessAsync()
        {
            using var answer = await Http.GetAsync("/readyz");
            using var body = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
            return (answer.IsSuccessStatusCode, body.RootElement.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()!).ToList());
        }

        /// <summary>The events written so far (a line still being written is skipped).</summary>
        public IReadOnlyList<JsonElement> Events()
        {
            if (!File.Exists(eventsFile))
            {
                return [];
            }

            using var stream = new FileStream(eventsFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var list = new List<JsonElement>();
            while (reader.ReadLine() is { } line)
            {
                try
                {
                    list.Add(JsonDocument.Parse(line).RootElement.Clone());
                }
                catch (JsonException)
                {
                }
            }

            return list;
        }

        public void Dispose()
        {
            Process.Dispose();
            Http.Dispose();
        }
    }
}
