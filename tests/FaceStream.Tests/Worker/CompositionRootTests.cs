using System.Text;
using System.Text.RegularExpressions;
using FaceStream.Tests.Support;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xunit;

namespace FaceStream.Tests.Worker;

/// <summary>The one composition root (AddFaceStream): settings validated at start with the worker's messages, overrides applied before validation.</summary>
public class CompositionRootTests
{
    private static IConfiguration Json(string json) => new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();

    [Fact]
    public async Task Invalid_settings_stop_the_host_at_start_with_every_bad_key_named_as_the_worker_names_them()
    {
        const string json = """{ "Pipeline": { "DetectBatchSize": 0 }, "Metrics": { "Port": 70000 }, "Decision": { "VotesNeeded": 5, "VoteWindow": 3 } }""";
        using var host = PipelineHost.Build(Json(json), new FaceStreamOverrides());
        // ValidateOnStart: the host refuses to start before any hosted service (no model is loaded, no camera opened).
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("Pipeline:DetectBatchSize", e.Message, StringComparison.Ordinal);
        Assert.Contains("Metrics:Port = 70000", e.Message, StringComparison.Ordinal);
        Assert.Contains("Decision:VotesNeeded", e.Message, StringComparison.Ordinal);
        Assert.Equal(Assert.Throws<WorkerConfigurationException>(() => WorkerSettings.Load(Json(json))).Message, e.Message);
        Assert.Equal(e.Message, Assert.Throws<WorkerConfigurationException>(() => host.Services.ValidatedSettings()).Message);
    }

    [Fact]
    public void Unknown_keys_are_named_with_the_allowed_ones_through_the_root_too()
    {
        using var host = PipelineHost.Build(Json("""{ "Tracking": { "IouTreshold": 0.3 } }"""), new FaceStreamOverrides());
        var e = Assert.Throws<WorkerConfigurationException>(() => host.Services.ValidatedSettings());
        Assert.Contains("Tracking:IouTreshold is not a setting (allowed: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Overrides_apply_before_validation_so_a_command_line_camera_is_checked_like_a_configured_one()
    {
        var overrides = new FaceStreamOverrides { Settings = s => s.Cameras.Add(new CameraOptions { Id = "x", Url = "gopher://h/s" }) };
        using var host = PipelineHost.Build(Json("{}"), overrides);
        var e = Assert.Throws<WorkerConfigurationException>(() => host.Services.ValidatedSettings());
        Assert.Contains("Cameras:0:Url: unsupported URL scheme 'gopher'", e.Message, StringComparison.Ordinal);

        using var fine = PipelineHost.Build(Json("""{ "Pipeline": { "DetectBatchSize": 2 } }"""),
            new FaceStreamOverrides { Settings = s => s.Cameras.Add(new CameraOptions { Id = "door", Url = "rtsp://10.0.0.5/s" }) });
        var settings = fine.Services.ValidatedSettings();
        Assert.Equal(2, settings.Pipeline.DetectBatchSize);
        Assert.Equal("door", Assert.Single(settings.Cameras).Id);
        Assert.Same(settings, fine.Services.GetRequiredService<IOptions<WorkerSettings>>().Value);
    }

    [Trait("Category", "Live")]
    [Fact]
    public Task The_health_checks_answer_live_startup_and_ready_with_the_fields_the_probes_read() => Bounded.Run(async () =>
    {
        var config = Path.Combine(TestAssets.TempDirectory(), "facestream.json");
        await File.WriteAllTextAsync(config, """{ "Metrics": { "Port": 0 }, "Events": { "Console": false } }""");
        await using var app = await WorkerHost.BuildAsync(["--config", config], Prometheus.Metrics.NewCustomRegistry());
        await app.StartAsync(CancellationToken.None);
        using var http = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        Assert.Equal("ok\n", await http.GetStringAsync("/healthz"));
        Assert.Equal("started\n", await http.GetStringAsync("/startupz"));
        // No camera: not ready for alerts, but the API is (the chart's readiness probe reads /readyz/api).
        Assert.Equal("ready\n", await http.GetStringAsync("/readyz/api"));
        var ready = await http.GetAsync("/readyz");
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var body = System.Text.Json.JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(
            ["ready", "models", "cameras_streaming", "cameras", "watchlist", "watchlist_version", "watchlist_identities", "reasons"],
            body.EnumerateObject().Select(p => p.Name));
        Assert.False(body.GetProperty("ready").GetBoolean());
        Assert.Equal("no camera configured", Assert.Single(body.GetProperty("reasons").EnumerateArray()).GetString());
        Assert.Equal("memory:", body.GetProperty("watchlist").GetString());
        await app.StopAsync();
    });

    /// <summary>Sync-over-async blocks a thread and can deadlock; the few left say why (issue 11: at most five in src/).</summary>
    [Fact]
    public void Src_has_at_most_five_blocking_GetResult_calls_and_each_says_why()
    {
        var calls = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(TestAssets.RepositoryRoot, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                if (!lines[i].Contains(".GetResult()", StringComparison.Ordinal))
                {
                    continue;
                }

                calls.Add($"{Path.GetFileName(file)}:{i + 1}");
                bool explained = lines.Skip(Math.Max(0, i - 3)).Take(Math.Min(3, i)).Any(l => Regex.IsMatch(l, @"^\s*//"));
                Assert.True(explained, $"{file}:{i + 1} blocks on a task without a comment saying why");
            }
        }

        Assert.True(calls.Count <= 5, "blocking GetResult() calls: " + string.Join(", ", calls));
    }
}
