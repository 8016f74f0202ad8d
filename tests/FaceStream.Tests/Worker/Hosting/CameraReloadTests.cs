using FaceStream.Tests.Support;
using FaceStream.Worker.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace FaceStream.Tests.Worker.Hosting;

/// <summary>
/// <see cref="CamerasOptions"/> through <see cref="IOptionsMonitor{T}"/>: each reload of the configuration gives the
/// cameras it asks for, or the reason it is refused (naming the key), never an exception on the reload's thread.
/// </summary>
public class CameraReloadTests
{
    [Fact]
    public void A_good_edit_gives_the_new_cameras_and_a_bad_one_gives_the_reason_naming_the_key()
    {
        var path = Path.Combine(TestAssets.TempDirectory(), "facestream.json");
        File.WriteAllText(path, Config("""{ "Id": "a", "Url": "a.mp4" }"""));
        var (configuration, monitor) = Monitor(path);
        Assert.Equal(["a"], monitor.CurrentValue.Cameras.Select(c => c.Id));

        // Reload() does what the file watcher does on a write (the watcher may also fire: it reads the same file).
        File.WriteAllText(path, Config("""{ "Id": "a", "Url": "a.mp4" }, { "Id": "b", "Url": "b.mp4", "Enabled": false }"""));
        configuration.Reload();
        var added = monitor.CurrentValue;
        Assert.Null(added.Rejected);
        Assert.Equal(["a", "b"], added.Cameras.Select(c => c.Id));
        Assert.False(added.Cameras[1].Enabled);

        File.WriteAllText(path, Config("""{ "Id": "a", "Url": "a.mp4", "AnalysisFps": -3 }"""));
        configuration.Reload();
        Assert.Contains("Cameras:0:AnalysisFps", monitor.CurrentValue.Rejected, StringComparison.Ordinal);
        Assert.Empty(monitor.CurrentValue.Cameras);

        File.WriteAllText(path, Config("""{ "Id": "a", "Urll": "a.mp4" }"""));
        configuration.Reload();
        Assert.Contains("Cameras:0:Urll is not a setting", monitor.CurrentValue.Rejected, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_file_is_refused_with_its_name_not_read_as_no_cameras()
    {
        var path = Path.Combine(TestAssets.TempDirectory(), "facestream.json");
        File.WriteAllText(path, Config("""{ "Id": "a", "Url": "a.mp4" }"""));
        var (configuration, monitor) = Monitor(path);
        File.WriteAllText(path, "");
        configuration.Reload();
        var refused = monitor.CurrentValue;
        Assert.Contains($"{path} is empty", refused.Rejected, StringComparison.Ordinal);
        Assert.Empty(refused.Cameras);
    }

    private static string Config(string cameras) => $$"""{ "Metrics": { "Enabled": false }, "Cameras": [ {{cameras}} ] }""";

    private static (IConfigurationRoot Configuration, IOptionsMonitor<CamerasOptions> Monitor) Monitor(string path)
    {
        var file = ConfigFile.FromArguments(["--config", path]);
        var builder = new ConfigurationBuilder();
        file.AddTo(builder);
        var configuration = builder.Build();
        var services = new ServiceCollection();
        CameraReload.Register(services, configuration, file);
        return (configuration, services.BuildServiceProvider().GetRequiredService<IOptionsMonitor<CamerasOptions>>());
    }
}
