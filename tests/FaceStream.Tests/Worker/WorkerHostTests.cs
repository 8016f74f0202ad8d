using System.Net;
using System.Text.Json;
using FaceStream.Tests.Support;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Hosting;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace FaceStream.Tests.Worker;

/// <summary>The hosted worker: strict configuration, camera reload without touching the others, metrics and health endpoints.</summary>
[Trait("Category", "Live")]
public class WorkerHostTests
{
    /// <summary>Every metric name docs/worker.md documents.</summary>
    public static readonly string[] DocumentedMetrics =
    [
        "facestream_camera_up", "facestream_camera_state", "facestream_camera_frames_decoded_total", "facestream_camera_frames_analysed_total",
        "facestream_camera_reconnects_total", "facestream_camera_last_frame_age_seconds", "facestream_stage_latency_seconds",
        "facestream_stage_batch_size", "facestream_stage_queue_depth", "facestream_faces_detected_total", "facestream_tracks_started_total",
        "facestream_embeddings_total", "facestream_views_prescreened_total", "facestream_info", "facestream_watchlist_templates",
    ];

    private static WorkerSettings Load(string json) =>
        WorkerSettings.Load(new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build());

    [Fact]
    public void Invalid_values_are_rejected_naming_the_key_and_the_allowed_values()
    {
        var e = Assert.Throws<WorkerConfigurationException>(() => Load("""
            { "Cameras": [ { "Id": "door", "Url": "rtsp://10.0.0.5/s", "Transport": "quic", "MinFaceSize": 8 }, { "Id": "door", "Url": "gopher://x/y" } ],
              "Pipeline": { "DetectBatchSize": 0 }, "Metrics": { "Port": 70000 }, "Decision": { "VotesNeeded": 5, "VoteWindow": 3 },
              "Enrollment": { "DominantAreaRatio": 0.5 } }
            """));
        Assert.Contains("Enrollment:DominantAreaRatio = 0.5 must be between 1 and 100", e.Message, StringComparison.Ordinal);
        Assert.Contains("Cameras:0:Transport = 'quic' is not one of: tcp, udp", e.Message, StringComparison.Ordinal);
        Assert.Contains("Cameras:0:MinFaceSize = 8 must be 0 (the worker's, 40 px) or between 12 and 4096", e.Message, StringComparison.Ordinal);
        Assert.Contains("Cameras:1:Id = 'door' is used by another camera", e.Message, StringComparison.Ordinal);
        Assert.Contains("Cameras:1:Url: unsupported URL scheme 'gopher'", e.Message, StringComparison.Ordinal);
        Assert.Contains("Pipeline:DetectBatchSize", e.Message, StringComparison.Ordinal);
        Assert.Contains("Metrics:Port = 70000", e.Message, StringComparison.Ordinal);
        Assert.Contains("Decision:VotesNeeded", e.Message, StringComparison.Ordinal);

        var unknown = Assert.Throws<WorkerConfigurationException>(() => Load("""{ "Tracking": { "IouTreshold": 0.3 } }"""));
        Assert.Contains("IouTreshold", unknown.Message, StringComparison.Ordinal);
        var type = Assert.Throws<WorkerConfigurationException>(() => Load("""{ "Pipeline": { "DetectBatchSize": "four" } }"""));
        Assert.Contains("DetectBatchSize", type.Message, StringComparison.Ordinal);
    }

    [Fact]
    public Task A_camera_added_by_editing_the_config_starts_without_restarting_the_others_and_metrics_move() => Bounded.Run(async () =>
    {
        var dir = TestAssets.TempDirectory();
        var config = Path.Combine(dir, "facestream.json");
        string Camera(string id) => $$"""{ "Id": "{{id}}", "Url": "{{VideoClips.Instance.H264_720}}", "Loop": true, "Realtime": true, "AnalysisFps": 5 }""";
        string Config(params string[] cameras) => $$"""
            { "Detector": { "Mtcnn": { "MinFaceSize": 40 } }, "Metrics": { "Port": 0 }, "Events": { "Console": false, "Attributes": false },
              "Cameras": [ {{string.Join(",", cameras)}} ] }
            """;
        await File.WriteAllTextAsync(config, Config(Camera("a")));

        await using var app = await WorkerHost.BuildAsync(["--config", config], Prometheus.Metrics.NewCustomRegistry());
        await app.StartAsync(CancellationToken.None);
        using var http = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var pipeline = app.Pipeline;
        await Wait.Until(() => pipeline.Cameras.Any(c => c.Id == "a" && c.Stats.FramesDelivered >= 3), "camera a analysed");
        var aStats = pipeline.Cameras.Single(c => c.Id == "a").Stats;

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        var ready = await http.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.True(JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("ready").GetBoolean());
        var metrics1 = await http.GetStringAsync("/metrics");
        foreach (var name in DocumentedMetrics)
        {
            Assert.Contains(name, metrics1, StringComparison.Ordinal);
        }

        await File.WriteAllTextAsync(config, Config(Camera("a"), Camera("b")));
        await Wait.Until(() => pipeline.Cameras.Any(c => c.Id == "b" && c.Stats.FramesDelivered >= 3), "camera b started by the reload");
        // Camera a is the same source object (not restarted) and kept streaming.
        Assert.Same(aStats, pipeline.Cameras.Single(c => c.Id == "a").Stats);
        Assert.Equal(0, aStats.Reconnects);

        // A broken edit is rejected; the running cameras stay.
        await File.WriteAllTextAsync(config, Config(Camera("a"), Camera("b")).Replace("\"AnalysisFps\": 5", "\"AnalysisFps\": -3", StringComparison.Ordinal));
        await Task.Delay(1500);
        Assert.Equal(["a", "b"], pipeline.Cameras.Select(c => c.Id).Order());

        // Camera b's frames are delivered before they are analysed: on a loaded machine the analysed count lags, so wait for it.
        string metrics2 = metrics1;
        await Wait.Until(() =>
        {
            metrics2 = http.GetStringAsync("/metrics").GetAwaiter().GetResult();
            return Counter(metrics2, "facestream_camera_frames_analysed_total{camera=\"b\"}") >= 3;
        }, "camera b's frames analysed (facestream_camera_frames_analysed_total >= 3)");
        Assert.True(Counter(metrics2, "facestream_camera_frames_decoded_total{camera=\"a\"}") > Counter(metrics1, "facestream_camera_frames_decoded_total{camera=\"a\"}"));
        await app.StopAsync();
    });

    private static double Counter(string exposition, string series)
    {
        var line = exposition.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
