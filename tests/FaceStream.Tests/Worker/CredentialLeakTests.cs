using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Worker;

/// <summary>A camera password in the URL's query never reaches /status, the log or camera_state events.</summary>
[Trait("Category", "Live")]
public class CredentialLeakTests
{
    [Fact]
    public Task A_password_in_the_query_string_shows_nowhere() => Bounded.Run(async () =>
    {
        var dir = TestAssets.TempDirectory();
        var config = Path.Combine(dir, "facestream.json");
        var events = Path.Combine(dir, "events.jsonl");
        const string Secret = "Sup3rSecret-q";
        // Nothing listens on the port: the camera keeps reconnecting, and its errors quote the address.
        await File.WriteAllTextAsync(config, $$"""
            { "Metrics": { "Port": 0 }, "Events": { "Console": true, "JsonLinesFile": "{{events}}" },
              "Cameras": [ { "Id": "door", "Url": "rtsp://admin:{{Secret}}u@127.0.0.1:{{TestPorts.Free()}}/cam?user=admin&password={{Secret}}&token={{Secret}}t", "OpenTimeout": "00:00:02" } ] }
            """);
        using var worker = WorkerProcess.Start(config);
        var baseAddress = await worker.WaitForBaseAddress();
        using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
        await Wait.Until(() => File.Exists(events) && File.ReadAllText(events).Contains("\"reconnecting\"", StringComparison.Ordinal), "a camera_state event");
        var status = await http.GetStringAsync("/status");

        Assert.Contains("password=***", status, StringComparison.Ordinal);
        foreach (var (what, text) in new[] { ("/status", status), ("events", File.ReadAllText(events)), ("log and stdout", worker.Output) })
        {
            Assert.False(text.Contains(Secret, StringComparison.Ordinal), $"{what} shows the secret:\n{text}");
        }

        Assert.Contains("password=***", worker.Output, StringComparison.Ordinal);
    });
}
