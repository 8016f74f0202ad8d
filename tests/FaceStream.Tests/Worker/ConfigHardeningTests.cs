using System.Reflection;
using FaceStream.Tests.Support;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Hosting;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace FaceStream.Tests.Worker;

/// <summary>Configuration values that used to slip through (NaN, ±Infinity) and a worker whose pipeline fails.</summary>
[Trait("Category", "Live")]
public class ConfigHardeningTests
{
    private const string Camera = "Cameras:0:";

    private static WorkerSettings Load(Dictionary<string, string?> values) =>
        WorkerSettings.Load(new ConfigurationBuilder().AddInMemoryCollection(values).Build());

    /// <summary>Every float/double key of the worker's configuration, found from the option classes themselves.</summary>
    public static TheoryData<string> FloatingPointKeys()
    {
        var keys = new TheoryData<string>();
        var settings = new WorkerSettings();
        foreach (var p in typeof(WorkerSettings).GetProperties().Where(p => p.Name != nameof(WorkerSettings.Cameras)))
        {
            var value = p.GetValue(settings)!;
            string section = (string)value.GetType().GetField("Section")!.GetValue(null)!;
            Walk(value, section + ":", keys);
        }

        Walk(new CameraOptions(), Camera, keys);
        return keys;
    }

    private static void Walk(object options, string prefix, TheoryData<string> keys)
    {
        foreach (var p in options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            if (p.PropertyType == typeof(float) || p.PropertyType == typeof(double))
            {
                keys.Add(prefix + p.Name);
            }
            else if (p.PropertyType == typeof(Dictionary<string, float>))
            {
                keys.Add(prefix + p.Name + ":some-model");
            }
            else if (p.PropertyType.IsClass && p.PropertyType.Namespace!.StartsWith("FaceStream", StringComparison.Ordinal))
            {
                Walk(p.GetValue(options)!, prefix + p.Name + ":", keys);
            }
        }
    }

    [Theory]
    [MemberData(nameof(FloatingPointKeys))]
    public void Nan_and_infinity_are_refused_in_every_floating_point_option_naming_the_key(string key)
    {
        foreach (var bad in new[] { "NaN", "Infinity", "-Infinity" })
        {
            var values = new Dictionary<string, string?> { [Camera + "Id"] = "door", [Camera + "Url"] = "rtsp://10.0.0.5/s", [key] = bad };
            var e = Assert.Throws<WorkerConfigurationException>(() => Load(values));
            Assert.Contains(key, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_float_keys_found_include_the_ones_that_slipped_through()
    {
        var keys = FloatingPointKeys().Cast<object[]>().Select(k => (string)k[0]).ToList();
        Assert.Contains(Camera + "AnalysisFps", keys);
        Assert.Contains(Camera + "ReconnectJitter", keys);
        Assert.Contains("Decision:Margin", keys);
        Assert.Contains("Events:Snapshots:RetentionHours", keys);
        Assert.Contains("Detector:Adaptive:MaxMovingShare", keys);
        Assert.Contains("Detector:Mtcnn:ScaleFactor", keys);
    }

    [Theory]
    [InlineData("Detector:Mode", "fast", "Detector:Mode = 'fast' is not a detection mode (allowed: full, adaptive)")]
    [InlineData("Detector:Adaptive:FullScanInterval", "00:00:00", "Detector:Adaptive:FullScanInterval = 00:00:00 must be between")]
    [InlineData("Detector:Adaptive:MotionThreshold", "0", "Detector:Adaptive:MotionThreshold = 0 must be between 1 and 255")]
    [InlineData("Detector:Adaptive:MinMotionCells", "0", "Detector:Adaptive:MinMotionCells = 0 must be between 1 and 10000")]
    [InlineData("Detector:Adaptive:MaxMovingShare", "1.5", "Detector:Adaptive:MaxMovingShare = 1.5 must be between 0.01 and 1")]
    [InlineData("Detector:Adaptive:TrackPadding", "-1", "Detector:Adaptive:TrackPadding = -1 must be between 0 and 5")]
    [InlineData("Pipeline:MinEmbedInterval", "-00:00:01", "Pipeline:MinEmbedInterval = -00:00:01 must be between 0 and 10 s")]
    [InlineData("Pipeline:MinEmbedInterval", "00:01:00", "Pipeline:MinEmbedInterval = 00:01:00 must be between 0 and 10 s")]
    [InlineData("Pipeline:ClearUnknownMargin", "-0.1", "Pipeline:ClearUnknownMargin = -0.1 must be in [0, 1] (0 = off)")]
    [InlineData("Pipeline:UnknownRetryFactor", "0.9", "Pipeline:UnknownRetryFactor = 0.9 must be between 1 and 100")]
    [InlineData("Detector:Adaptive:JitterCells", "4", "Detector:Adaptive:JitterCells = 4 must be between 0 and 3")]
    [InlineData("Detector:Adaptive:FaceRowBands", "-1", "Detector:Adaptive:FaceRowBands = -1 must be between 0 and 64")]
    [InlineData("Detector:Adaptive:CrowdStillTiles", "1.5", "Detector:Adaptive:CrowdStillTiles = 1.5 must be between 0 and 1")]
    public void A_bad_detection_mode_adaptive_or_view_gate_setting_is_refused_naming_the_key_and_the_allowed_values(string key, string value, string expected)
    {
        var e = Assert.Throws<WorkerConfigurationException>(() => Load(new Dictionary<string, string?> { [key] = value }));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Detector_mode_adaptive_binds_with_its_settings_next_to_the_cascade_settings()
    {
        var s = WorkerSettings.Load(new ConfigurationBuilder().AddJsonStream(new MemoryStream("""
            { "Detector": { "Mode": "adaptive", "Adaptive": { "FullScanInterval": "00:00:02", "MotionThreshold": 25, "MinMotionCells": 4, "TrackPadding": 1.5 },
                            "Mtcnn": { "MinFaceSize": 40 } } }
            """u8.ToArray())).Build());
        Assert.True(s.Detector.IsAdaptive);
        Assert.Equal(40, s.Mtcnn.MinFaceSize);
        var scan = s.Detector.Adaptive.ToScan();
        var motion = s.Detector.Adaptive.ToMotion();
        Assert.Equal(TimeSpan.FromSeconds(2), scan.FullScanInterval);
        Assert.Equal(1.5f, scan.TrackPadding);
        Assert.Equal(25, motion.Threshold);
        Assert.Equal(4, motion.MinCells);
        // Adaptive is the default (docs/adaptive-detection.md); "full" still binds and turns it off.
        Assert.True(new WorkerSettings().Detector.IsAdaptive);
        Assert.False(WorkerSettings.Load(new ConfigurationBuilder().AddJsonStream(new MemoryStream("""{ "Detector": { "Mode": "full" } }"""u8.ToArray())).Build()).Detector.IsAdaptive);
    }

    [Fact]
    public void Events_attributes_is_on_by_default_and_a_value_that_is_not_a_boolean_is_refused_naming_the_key()
    {
        Assert.True(Load([]).Events.Attributes);
        Assert.False(Load(new() { ["Events:Attributes"] = "false" }).Events.Attributes);
        var e = Assert.Throws<WorkerConfigurationException>(() => Load(new() { ["Events:Attributes"] = "yes" }));
        Assert.Contains("Events:Attributes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Watch_with_fps_nan_is_a_usage_error()
    {
        var r = CliRunner.Run("watch", VideoClips.Instance.Faces, "--fps", "NaN");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--fps must be a number between", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public Task A_pipeline_that_fails_stops_the_worker_with_exit_code_1_and_the_reason() => Bounded.Run(async () =>
    {
        var dir = TestAssets.TempDirectory();
        var config = Path.Combine(dir, "facestream.json");
        await File.WriteAllTextAsync(config, $$"""
            { "Metrics": { "Port": 0 }, "Events": { "Console": false },
              "Cameras": [ { "Id": "a", "Url": "{{VideoClips.Instance.H264_720}}", "Loop": true } ] }
            """);
        var app = await WorkerHost.BuildAsync(["--config", config], Prometheus.Metrics.NewCustomRegistry());
        await using (app)
        {
            // Something the validation did not foresee fails inside the hosted service (here: a camera the source refuses).
            app.Settings.Cameras[0].Transport = "quic";
            var run = WorkerHost.RunAsync(app, null, CancellationToken.None);
            Assert.Same(run, await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60))));
            Assert.Equal(1, await run);
            Assert.Contains("Transport = 'quic'", app.Failure!.Message, StringComparison.Ordinal);
        }
    });

    [Fact]
    public Task A_live_edit_with_nan_is_rejected_with_the_documented_line_and_the_cameras_stay() => Bounded.Run(async () =>
    {
        var dir = TestAssets.TempDirectory();
        var config = Path.Combine(dir, "facestream.json");
        string Config(string fps) => $$"""
            { "Metrics": { "Port": 0 }, "Events": { "Console": false },
              "Cameras": [ { "Id": "a", "Url": "{{VideoClips.Instance.H264_720}}", "Loop": true, "Realtime": true, "AnalysisFps": {{fps}} } ] }
            """;
        await File.WriteAllTextAsync(config, Config("2"));
        using var worker = WorkerProcess.Start(config);
        await worker.WaitForBaseAddress();
        await File.WriteAllTextAsync(config, Config("\"NaN\""));
        var line = await worker.WaitForLine("configuration change rejected");
        Assert.Contains("Cameras:0:AnalysisFps = NaN must be a finite number", line, StringComparison.Ordinal);
        Assert.False(worker.Exited, worker.Output);
    });

    [Fact]
    public void Unknown_sections_and_keys_are_named_with_their_path_and_the_allowed_ones()
    {
        var e = Assert.Throws<WorkerConfigurationException>(() => WorkerSettings.Load(new ConfigurationBuilder().AddJsonStream(new MemoryStream("""
            { "Event": { "Console": false }, "Detector": { "Mtcn": { "MinFaceSize": 40 } },
              "Cameras": [ { "Id": "a", "Url": "a.mp4" }, { "Id": "b", "Urll": "b.mp4" } ], "Events": { "Mqtt": { "Hots": "broker" } } }
            """u8.ToArray())).Build()));
        Assert.Contains("'Event' is not a section (allowed: Inference, Detector, Cameras, Pipeline", e.Message, StringComparison.Ordinal);
        Assert.Contains("Detector:Mtcn is not a setting (allowed: Mode, Adaptive, Mtcnn)", e.Message, StringComparison.Ordinal);
        Assert.Contains("Cameras:1:Urll is not a setting (allowed: Enabled, MinFaceSize, Id, Url,", e.Message, StringComparison.Ordinal);
        Assert.Contains("Events:Mqtt:Hots is not a setting (allowed: Host, Port,", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_config_file_with_a_json_syntax_error_is_a_configuration_error_naming_the_file_and_position()
    {
        var config = Path.Combine(TestAssets.TempDirectory(), "facestream.json");
        File.WriteAllText(config, "{\n  \"Metrics\": { \"Port\": 0 },\n  \"Events\": { \"Console\": false\n  \"Cameras\": []\n}\n");
        var r = CliRunner.Run("run", "--config", config);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"{config}: JSON syntax error at line 4, column 3", r.Stderr, StringComparison.Ordinal);
        var watch = CliRunner.Run("watch", VideoClips.Instance.Faces, "--config", config);
        Assert.Equal(2, watch.ExitCode);
        Assert.Contains($"{config}: JSON syntax error at line 4, column 3", watch.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public Task An_empty_or_truncated_config_written_while_running_is_rejected_with_a_log_line_and_the_cameras_stay() => Bounded.Run(async () =>
    {
        var dir = TestAssets.TempDirectory();
        var config = Path.Combine(dir, "facestream.json");
        var text = $$"""
            { "Metrics": { "Port": 0 }, "Events": { "Console": false },
              "Cameras": [ { "Id": "a", "Url": "{{VideoClips.Instance.H264_720}}", "Loop": true, "Realtime": true, "AnalysisFps": 2 } ] }
            """;
        await File.WriteAllTextAsync(config, text);
        using var worker = WorkerProcess.Start(config);
        using var http = new HttpClient { BaseAddress = await worker.WaitForBaseAddress(), Timeout = TimeSpan.FromSeconds(10) };
        await File.WriteAllTextAsync(config, "");
        Assert.Contains($"{config} is empty", await worker.WaitForLine("configuration change rejected"), StringComparison.Ordinal);
        await File.WriteAllTextAsync(config, text[..(text.Length / 2)]);
        Assert.Contains("JSON syntax error at line", await worker.WaitForLine("JSON syntax error"), StringComparison.Ordinal);
        await Task.Delay(500);
        Assert.DoesNotContain("removed, stopping", worker.Output, StringComparison.Ordinal);
        Assert.Contains("\"id\":\"a\"", await http.GetStringAsync("/status"), StringComparison.Ordinal);
    });

    [Fact]
    public Task A_wrong_redis_password_reads_authentication_failed_not_unavailable() => Bounded.Run(async () =>
    {
        using var redis = new RedisServer(password: "right-password-123");
        var config = Path.Combine(TestAssets.TempDirectory(), "facestream.json");
        await File.WriteAllTextAsync(config, $$"""
            { "Metrics": { "Port": 0 }, "Events": { "Console": false }, "Watchlist": { "Uri": "redis://:wrong-password@127.0.0.1:{{redis.Port}}" } }
            """);
        await using var app = await WorkerHost.BuildAsync(["--config", config], Prometheus.Metrics.NewCustomRegistry());
        await app.StartAsync(CancellationToken.None);
        using var http = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var body = await (await http.GetAsync("/readyz")).Content.ReadAsStringAsync();
        Assert.Contains("authentication failed", body, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password", body, StringComparison.Ordinal);
        Assert.Contains("authentication failed", app.Watchlist.LastError, StringComparison.Ordinal);
        await app.StopAsync();
    });
}
