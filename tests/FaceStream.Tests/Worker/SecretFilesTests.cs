using System.Net;
using System.Net.Http.Headers;
using FaceStream.Tests.Operations;
using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Worker;

/// <summary>Secret files (KeyPerFile, FACESTREAM_SECRETS_DIR): above the JSON file, below FACESTREAM__ variables, never logged.</summary>
[Trait("Category", "Live")]
public class SecretFilesTests
{
    [Fact]
    public Task A_worker_takes_its_api_token_from_a_secret_file_over_the_config_file_and_under_environment_variables() => Bounded.Run(async () =>
    {
        const string secretToken = "token-from-a-secret-file-7f3a9c";
        var dir = TestAssets.TempDirectory();
        var config = Path.Combine(dir, "facestream.json");
        int port = TestPorts.Free();
        await File.WriteAllTextAsync(config, """
            { "Detector": { "Mtcnn": { "MinFaceSize": 40 } }, "Metrics": { "Port": 1 }, "Events": { "Console": false },
              "Api": { "Token": "token-from-the-config-file-0000" }, "Watchlist": { "Uri": "memory:" } }
            """);
        var secrets = Directory.CreateDirectory(Path.Combine(dir, "secrets")).FullName;
        // As `kubectl create secret` or `echo > file` write them: a trailing newline, which is not part of the value.
        await File.WriteAllTextAsync(Path.Combine(secrets, "Api__Token"), secretToken + "\n");
        // The secret file's port is overridden by the environment variable (the order: file, secrets, environment).
        await File.WriteAllTextAsync(Path.Combine(secrets, "Metrics__Port"), "2");
        using var worker = WorkerProcess.Start(config, new Dictionary<string, string?>
        {
            ["FACESTREAM_SECRETS_DIR"] = secrets, ["FACESTREAM__Metrics__Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        await worker.WaitFor200Async(http, "/healthz", TimeSpan.FromSeconds(90));
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/identities")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "token-from-the-config-file-0000");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/identities")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secretToken);
        var answer = await http.GetAsync("/api/identities");
        Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
        Assert.DoesNotContain(secretToken, worker.Output, StringComparison.Ordinal);
    });

    [Fact]
    public async Task A_secrets_directory_that_does_not_exist_stops_the_worker_with_exit_code_2_naming_the_variable()
    {
        var dir = TestAssets.TempDirectory();
        var config = Path.Combine(dir, "facestream.json");
        await File.WriteAllTextAsync(config, """{ "Metrics": { "Enabled": false }, "Events": { "Console": false } }""");
        using var worker = WorkerProcess.Start(config, new Dictionary<string, string?> { ["FACESTREAM_SECRETS_DIR"] = Path.Combine(dir, "missing") });
        Assert.Equal(2, await worker.ExitCodeAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("FACESTREAM_SECRETS_DIR", worker.Output, StringComparison.Ordinal);
    }
}
