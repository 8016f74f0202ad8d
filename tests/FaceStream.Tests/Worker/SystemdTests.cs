using System.Net.Sockets;
using System.Text;
using FaceStream.Tests.Operations;
using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Worker;

/// <summary>The worker as a systemd Type=notify unit: READY=1 once it serves, STOPPING=1 on SIGTERM, journald-style log lines.</summary>
[Trait("Category", "Live")]
public class SystemdTests
{
    [Fact]
    public Task Under_systemd_the_worker_notifies_ready_and_stopping_and_logs_in_the_journal_format() => Bounded.Run(async () =>
    {
        var dir = TestAssets.TempDirectory();
        var config = Path.Combine(dir, "facestream.json");
        int port = TestPorts.Free();
        await File.WriteAllTextAsync(config, $$"""
            { "Detector": { "Mtcnn": { "MinFaceSize": 40 } }, "Metrics": { "Port": {{port}} }, "Events": { "Console": false } }
            """);
        // systemd's notification socket: a datagram socket whose path the unit's process finds in NOTIFY_SOCKET
        // (a short path: socket paths are limited to 107 bytes).
        string socketPath = Path.Combine(Path.GetTempPath(), $"fs-notify-{Guid.NewGuid():N}"[..20]);
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(socketPath));
        try
        {
            using var worker = WorkerProcess.Start(config, new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = socketPath }, asSystemdUnit: true);
            Assert.Equal("READY=1", await Receive(notify, TimeSpan.FromSeconds(90), worker));
            // Ready means serving: the listener is up by then.
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            Assert.Equal("ok\n", await http.GetStringAsync("/healthz"));

            worker.Terminate();
            Assert.Equal("STOPPING=1", await Receive(notify, TimeSpan.FromSeconds(30), worker));
            Assert.Equal(0, await worker.ExitCodeAsync(TimeSpan.FromSeconds(30)));
            // The journal's format: a syslog level prefix and no time of our own (journald adds it).
            Assert.Contains("<6>FaceStream.Worker[0] metrics on http://", worker.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("info: FaceStream.Worker", worker.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(socketPath);
        }
    });

    private static async Task<string> Receive(Socket socket, TimeSpan limit, WorkerProcess worker)
    {
        var buffer = new byte[4096];
        using var cancel = new CancellationTokenSource(limit);
        try
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, cancel.Token);
            return Encoding.UTF8.GetString(buffer, 0, n).Trim();
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"no notification within {limit.TotalSeconds} s:\n{worker.Output}");
        }
    }
}
