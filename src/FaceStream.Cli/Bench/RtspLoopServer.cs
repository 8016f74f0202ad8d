using System.Diagnostics;
using System.Globalization;

namespace FaceStream.Cli.Bench;

/// <summary>
/// The repository's gst-rtsp-server launcher (scripts/rtsp_loop_server.py) serving one clip on 127.0.0.1:PORT/cam,
/// once per client (--once: the launcher's looping seek can race a client's PLAY on a busy machine). It can be killed
/// and started again on the same port, which is how the benches simulate a camera that goes away and comes back.
/// </summary>
public sealed class RtspLoopServer : IDisposable
{
    private readonly string _clip;
    private Process? _process;

    public RtspLoopServer(string clip, int port)
    {
        _clip = clip;
        Port = port;
        Start();
    }

    public int Port { get; }

    public string Url => $"rtsp://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/cam";

    public bool Running => _process is { HasExited: false };

    /// <summary>
    /// CPU time the server has used so far (zero when it is not running). The benches run the servers on the machine
    /// they measure, where real cameras would not be, so they report this share apart from the pipeline's.
    /// </summary>
    public TimeSpan CpuTime
    {
        get
        {
            try
            {
                if (_process is not { HasExited: false } p)
                {
                    return TimeSpan.Zero;
                }

                p.Refresh();
                return p.TotalProcessorTime;
            }
            catch (InvalidOperationException)
            {
                return TimeSpan.Zero;   // exited between the check and the read
            }
        }
    }

    /// <summary>Starts the server and waits until it listens (it prints its URL then).</summary>
    public void Start()
    {
        var script = FindUpward(Path.Combine("scripts", "rtsp_loop_server.py"))
            ?? throw new InvalidDataException("scripts/rtsp_loop_server.py not found upward from here: run the bench from the repository");
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { script, _clip, Port.ToString(CultureInfo.InvariantCulture), "/cam", "--once" })
        {
            psi.ArgumentList.Add(a);
        }

        var p = Process.Start(psi) ?? throw new InvalidDataException("cannot start the RTSP test server");
        var stderr = p.StandardError.ReadToEndAsync();
        var url = p.StandardOutput.ReadLineAsync();
        if (!url.Wait(TimeSpan.FromSeconds(30)) || url.Result is null || !url.Result.StartsWith("rtsp://", StringComparison.Ordinal))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            throw new InvalidDataException($"the RTSP test server on port {Port} did not start (needs python3-gi and gir1.2-gst-rtsp-server-1.0: scripts/setup.sh --test): {stderr.Result}");
        }

        _process = p;
    }

    /// <summary>Kills the server (SIGKILL): its clients see their connection drop.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    public void Dispose() => Kill();

    internal static string? FindUpward(string relative)
    {
        for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, relative);
            if (File.Exists(p))
            {
                return p;
            }
        }

        return null;
    }
}
