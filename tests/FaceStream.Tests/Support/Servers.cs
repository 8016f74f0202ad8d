using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FaceStream.Tests.Support;

/// <summary>A real server process on a free 127.0.0.1 port that a test can kill and start again on the same port.</summary>
public abstract class ServerProcess : IDisposable
{
    private Process? _process;

    protected ServerProcess() => Port = TestPorts.Free();

    public int Port { get; }

    public void Start()
    {
        var (file, args) = Command();
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!Listening())
        {
            if (DateTime.UtcNow > deadline || _process.HasExited)
            {
                throw new InvalidOperationException($"{file} did not start listening on 127.0.0.1:{Port}");
            }

            Thread.Sleep(50);
        }
    }

    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process?.Dispose();
        _process = null;
    }

    public void Dispose() => Kill();

    protected abstract (string File, string[] Args) Command();

    private bool Listening()
    {
        try
        {
            using var c = new TcpClient();
            c.Connect(IPAddress.Loopback, Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>redis-server without persistence (as in CI): a restart loses the data, which is what the restart tests need.</summary>
public sealed class RedisServer : ServerProcess
{
    private readonly string? _password;

    /// <param name="password">Set: the server requires it (requirepass).</param>
    public RedisServer(string? password = null)
    {
        _password = password;
        Start();
    }

    public string Uri => $"redis://127.0.0.1:{Port}";

    /// <summary>The shared test Redis (scripts/test.sh starts it and sets FACESTREAM_TEST_REDIS), else a private one for this run.</summary>
    public static string SharedUri => Environment.GetEnvironmentVariable("FACESTREAM_TEST_REDIS") is { Length: > 0 } shared ? $"redis://{shared}" : Fallback.Value.Uri;

    private static readonly Lazy<RedisServer> Fallback = new(() => new RedisServer());

    protected override (string, string[]) Command() =>
        ("redis-server", ["--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no",
            .. (_password is null ? Array.Empty<string>() : ["--requirepass", _password])]);
}

/// <summary>Debian's mosquitto on 127.0.0.1 with anonymous access and no persistence.</summary>
public sealed class MosquittoServer : ServerProcess
{
    private readonly string _config = Path.Combine(TestAssets.TempDirectory(), "mosquitto.conf");

    public MosquittoServer()
    {
        File.WriteAllText(_config, $"listener {Port} 127.0.0.1\nallow_anonymous true\npersistence false\n");
        Start();
    }

    /// <summary>host:port of the shared test broker (FACESTREAM_TEST_MQTT from scripts/test.sh), else a private one.</summary>
    public static (string Host, int Port) Shared
    {
        get
        {
            if (Environment.GetEnvironmentVariable("FACESTREAM_TEST_MQTT") is { Length: > 0 } shared)
            {
                var parts = shared.Split(':');
                return (parts[0], int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
            }

            return ("127.0.0.1", Fallback.Value.Port);
        }
    }

    private static readonly Lazy<MosquittoServer> Fallback = new(() => new MosquittoServer());

    protected override (string, string[]) Command() => (File.Exists("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto", ["-c", _config]);
}
