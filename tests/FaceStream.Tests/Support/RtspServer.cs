using System.Diagnostics;

namespace FaceStream.Tests.Support;

/// <summary>The repository's gst-rtsp-server launcher (scripts/rtsp_loop_server.py) on a free 127.0.0.1 port; can be killed,
/// restarted on the same port, frozen with SIGSTOP and resumed. It serves a 3-minute looped copy of the clip once per
/// client (--once): the launcher's own looping seek can race a client's PLAY and abort gst-rtsp-server on a busy machine.</summary>
public sealed class RtspServer : IDisposable
{
    private readonly string _file;
    private readonly System.Text.StringBuilder _stderr = new();
    private Process? _process;

    public RtspServer(string file)
    {
        _file = VideoClips.Looped(file);
        for (int attempt = 1; ; attempt++)
        {
            Port = TestPorts.Free();
            try
            {
                Start();
                return;
            }
            catch (InvalidOperationException) when (attempt < 5)
            {
                // Taken between the check and the server's bind: another port.
            }
        }
    }

    public int Port { get; private set; }

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
        psi.ArgumentList.Add("--once");
        _process = Process.Start(psi)!;
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
            }
        };
        _process.BeginErrorReadLine();
        var line = _process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(20)) || line.Result is null || !line.Result.StartsWith("rtsp://", StringComparison.Ordinal))
        {
            string why = Describe();
            Kill();
            throw new InvalidOperationException($"RTSP test server did not start: {why}");
        }
    }

    /// <summary>For failure messages: whether the server process runs, and what it printed on stderr.</summary>
    public string Describe()
    {
        string state = _process is null ? "not started" : _process.HasExited ? $"exited with {_process.ExitCode}" : $"pid {_process.Id} running";
        lock (_stderr)
        {
            return $"server on port {Port}: {state}; stderr: {_stderr.ToString().Trim()}";
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
