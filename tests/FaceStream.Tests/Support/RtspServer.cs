using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FaceStream.Tests.Support;

/// <summary>The repository's gst-rtsp-server launcher (scripts/rtsp_loop_server.py) on a free 127.0.0.1 port; can be killed,
/// restarted on the same port, frozen with SIGSTOP and resumed.</summary>
public sealed class RtspServer : IDisposable
{
    private readonly string _file;
    private Process? _process;

    public RtspServer(string file)
    {
        _file = file;
        Port = FreePort();
        Start();
    }

    public int Port { get; }

    public string Url => $"rtsp://127.0.0.1:{Port}/cam";

    public static string Python => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    public void Start()
    {
        var script = Path.Combine(TestAssets.RepositoryRoot, "scripts", "rtsp_loop_server.py");
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(_file);
        psi.ArgumentList.Add(Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        psi.ArgumentList.Add("/cam");
        _process = Process.Start(psi)!;
        var line = _process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(20)) || line.Result is null || !line.Result.StartsWith("rtsp://", StringComparison.Ordinal))
        {
            var err = _process.HasExited ? _process.StandardError.ReadToEnd() : "(still running)";
            Kill();
            throw new InvalidOperationException($"RTSP test server did not start: {err}");
        }
    }

    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            Signal("CONT");
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    public void Freeze() => Signal("STOP");

    public void Resume() => Signal("CONT");

    public void Dispose() => Kill();

    private void Signal(string name)
    {
        if (_process is null)
        {
            return;
        }

        using var kill = Process.Start("kill", $"-{name} {_process.Id}");
        kill.WaitForExit();
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}

/// <summary>Camera settings for tests against the local RTSP server: short deadlines and back-off so failures show in seconds.</summary>
public static class LiveCamera
{
    public static T Options<T>(string id, string url, double fps)
        where T : FaceStream.Media.Video.VideoSourceOptions, new() => new()
        {
            Id = id,
            Url = url,
            AnalysisFps = fps,
            OpenTimeout = TimeSpan.FromSeconds(3),
            ReadTimeout = TimeSpan.FromSeconds(2),
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(200),
            ReconnectMaxDelay = TimeSpan.FromSeconds(1),
        };
}
