using System.Text;
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
}
