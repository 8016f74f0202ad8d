using System.Text.Json;
using FaceStream.Tests.Support;
using FaceStream.Tests.Worker;
using Xunit;

namespace FaceStream.Tests.Operations;

/// <summary>
/// The alert rules as operators meet them: a real Prometheus (Debian's, installed by `scripts/setup.sh --test`)
/// scrapes a real worker with two live cameras and evaluates charts/facestream/rules; when one camera's RTSP server
/// dies, Prometheus's own API shows FaceStreamCameraDown for that camera (pending: its `for` is 5 minutes) and for
/// no other.
/// </summary>
[Trait("Category", "Live")]
public class AlertEndToEndTests
{
    [Fact]
    public Task A_dead_camera_raises_the_camera_down_alert_in_prometheus_and_only_for_that_camera() => Bounded.Run(async () =>
    {
        using var serverA = new RtspServer(VideoClips.Instance.H264_720);
        using var serverB = new RtspServer(VideoClips.Instance.H264_720);
        var dir = TestAssets.TempDirectory();
        var config = Path.Combine(dir, "facestream.json");
        int workerPort = TestPorts.Free();
        await File.WriteAllTextAsync(config, $$"""
            { "Detector": { "Mtcnn": { "MinFaceSize": 40 } }, "Metrics": { "Port": {{workerPort}} }, "Events": { "Console": false },
              "Cameras": [ { "Id": "gate", "Url": "{{serverA.Url}}", "AnalysisFps": 2 }, { "Id": "hall", "Url": "{{serverB.Url}}", "AnalysisFps": 2 } ] }
            """);
        using var worker = WorkerProcess.Start(config);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{workerPort}"), Timeout = TimeSpan.FromSeconds(10) };
        await worker.WaitFor200Async(http, "/readyz", TimeSpan.FromSeconds(90));
        using var prometheus = new PrometheusServer(workerPort, Path.Combine(Repository.Root, "charts", "facestream", "rules", "facestream.rules.yaml"));
        using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{prometheus.Port}"), Timeout = TimeSpan.FromSeconds(10) };

        // Both cameras up as Prometheus sees them, and no camera alert yet.
        await UntilAsync(async () => (await QueryAsync(api, "sum(facestream_camera_up)")) == 2, "Prometheus sees both cameras streaming", worker);
        Assert.DoesNotContain(await AlertsAsync(api), a => a.Name == "FaceStreamCameraDown");

        serverA.Kill();
        await UntilAsync(async () => (await AlertsAsync(api)).Any(a => a.Name == "FaceStreamCameraDown" && a.Camera == "gate"),
            "FaceStreamCameraDown for camera gate in Prometheus's /api/v1/alerts", worker);
        var down = (await AlertsAsync(api)).Where(a => a.Name == "FaceStreamCameraDown").ToList();
        Assert.All(down, a => Assert.Equal("gate", a.Camera));
        Assert.Contains(down[0].State, new[] { "pending", "firing" });
    });

    /// <summary>Polls Prometheus (its first scrape comes a few seconds after start) for up to a minute.</summary>
    private static async Task UntilAsync(Func<Task<bool>> condition, string what, WorkerProcess worker)
    {
        var by = DateTime.UtcNow.AddSeconds(60);
        while (!await Safely(condition))
        {
            Assert.True(DateTime.UtcNow < by, $"not within 60 s: {what}; worker output:\n{worker.Output}");
            await Task.Delay(500);
        }
    }

    // Prometheus answers 503 until its storage is ready.
    private static async Task<bool> Safely(Func<Task<bool>> condition)
    {
        try
        {
            return await condition();
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static async Task<double?> QueryAsync(HttpClient api, string promQl)
    {
        using var doc = JsonDocument.Parse(await api.GetStringAsync($"/api/v1/query?query={Uri.EscapeDataString(promQl)}"));
        var result = doc.RootElement.GetProperty("data").GetProperty("result");
        return result.GetArrayLength() == 0 ? null : double.Parse(result[0].GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
    }

    private sealed record Alert(string Name, string? Camera, string State);

    private static async Task<List<Alert>> AlertsAsync(HttpClient api)
    {
        using var doc = JsonDocument.Parse(await api.GetStringAsync("/api/v1/alerts"));
        return doc.RootElement.GetProperty("data").GetProperty("alerts").EnumerateArray().Select(a => new Alert(
            a.GetProperty("labels").GetProperty("alertname").GetString()!,
            a.GetProperty("labels").TryGetProperty("camera", out var c) ? c.GetString() : null,
            a.GetProperty("state").GetString()!)).ToList();
    }
}

/// <summary>Debian's prometheus on a free 127.0.0.1 port, scraping one target every second and evaluating the given rules every second.</summary>
public sealed class PrometheusServer : ServerProcess
{
    private readonly string _dir = TestAssets.TempDirectory();

    public PrometheusServer(int targetPort, string rules)
    {
        File.Copy(rules, Path.Combine(_dir, "rules.yaml"));
        File.WriteAllText(Path.Combine(_dir, "prometheus.yml"), $$"""
            global: { scrape_interval: 1s, evaluation_interval: 1s }
            rule_files: [rules.yaml]
            scrape_configs:
              - job_name: facestream
                static_configs: [ { targets: ["127.0.0.1:{{targetPort}}"] } ]
            """);
        Start();
    }

    protected override (string File, string[] Args) Command()
    {
        // scripts/setup.sh --test installs it; without it this check cannot run, and saying so beats skipping silently.
        string binary = File.Exists("/usr/bin/prometheus") ? "/usr/bin/prometheus"
            : throw new InvalidOperationException("prometheus not found: run scripts/setup.sh --test (apt-get install prometheus)");
        return (binary, [$"--config.file={Path.Combine(_dir, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(_dir, "data")}",
            $"--web.listen-address=127.0.0.1:{Port}"]);
    }
}
