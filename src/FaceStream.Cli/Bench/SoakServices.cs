using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FaceStream.Worker.Events;

namespace FaceStream.Cli.Bench;

/// <summary>Free TCP ports on 127.0.0.1 for the throw-away servers of the benches.</summary>
public static class LocalPorts
{
    public static int Free()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public static bool Listening(int port)
    {
        try
        {
            using var c = new TcpClient();
            c.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>
/// A private redis-server on a free 127.0.0.1 port with an append-only file fsynced on every write, so that a kill and
/// restart keeps what was acknowledged: the stream's length at the end can then be checked against the events the sink
/// counted as delivered.
/// </summary>
public sealed class RedisProcess : IDisposable
{
    private readonly string _dir;
    private Process? _process;

    public RedisProcess()
    {
        Port = LocalPorts.Free();
        _dir = Directory.CreateTempSubdirectory("facestream-soak-redis-").FullName;
        Start();
    }

    public int Port { get; }

    public string Uri => $"redis://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public void Start()
    {
        var psi = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--bind", "127.0.0.1", "--port", Port.ToString(CultureInfo.InvariantCulture), "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", _dir })
        {
            psi.ArgumentList.Add(a);
        }

        _process = Process.Start(psi) ?? throw new InvalidDataException("cannot start redis-server");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (!LocalPorts.Listening(Port))
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(15) || _process.HasExited)
            {
                throw new InvalidDataException($"redis-server did not start listening on 127.0.0.1:{Port} (is it installed?)");
            }

            Thread.Sleep(50);
        }
    }

    /// <summary>SIGKILL, as a crash would.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    public void Dispose()
    {
        Kill();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a temporary folder
        }
    }
}

/// <summary>
/// A minimal HTTP/1.1 endpoint on 127.0.0.1 that answers every POST with 204 and counts the requests; it can be taken
/// down (listener closed and every open keep-alive connection dropped) and brought back on the same port.
/// </summary>
public sealed class WebhookListener : IDisposable
{
    private readonly object _gate = new();
    private readonly List<TcpClient> _clients = [];
    private TcpListener? _listener;
    private long _received;

    public WebhookListener()
    {
        Port = LocalPorts.Free();
        Start();
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/events";

    /// <summary>Requests answered (a request whose connection dropped before the answer is not counted).</summary>
    public long Received => Interlocked.Read(ref _received);

    public void Start()
    {
        lock (_gate)
        {
            var l = new TcpListener(IPAddress.Loopback, Port);
            l.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            l.Start();
            _listener = l;
            _ = Task.Run(() => AcceptAsync(l));
        }
    }

    public void Stop()
    {
        lock (_gate)
        {
            _listener?.Stop();
            _listener = null;
            foreach (var c in _clients)
            {
                c.Dispose();
            }

            _clients.Clear();
        }
    }

    public void Dispose() => Stop();

    private async Task AcceptAsync(TcpListener l)
    {
        while (true)
        {
            TcpClient c;
            try
            {
                c = await l.AcceptTcpClientAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            lock (_gate)
            {
                if (_listener != l)
                {
                    c.Dispose();
                    return;
                }

                _clients.Add(c);
            }

            _ = Task.Run(() => ServeAsync(c));
        }
    }

    private async Task ServeAsync(TcpClient c)
    {
        try
        {
            using var stream = c.GetStream();
            var buffer = new byte[64 * 1024];
            int filled = 0;
            while (true)
            {
                int headerEnd;
                while ((headerEnd = IndexOf(buffer, filled, "\r\n\r\n"u8)) < 0)
                {
                    if (filled == buffer.Length)
                    {
                        return;
                    }

                    int n = await stream.ReadAsync(buffer.AsMemory(filled));
                    if (n == 0)
                    {
                        return;
                    }

                    filled += n;
                }

                var headers = Encoding.ASCII.GetString(buffer, 0, headerEnd);
                int length = 0;
                foreach (var line in headers.Split("\r\n"))
                {
                    if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                    {
                        length = int.Parse(line["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture);
                    }
                }

                int total = headerEnd + 4 + length;
                if (total > buffer.Length)
                {
                    return;
                }

                while (filled < total)
                {
                    int n = await stream.ReadAsync(buffer.AsMemory(filled));
                    if (n == 0)
                    {
                        return;
                    }

                    filled += n;
                }

                await stream.WriteAsync("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
                Interlocked.Increment(ref _received);
                Buffer.BlockCopy(buffer, total, buffer, 0, filled - total);
                filled -= total;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or FormatException)
        {
            // dropped (taken down, or the client went away)
        }
        finally
        {
            lock (_gate)
            {
                _clients.Remove(c);
            }

            c.Dispose();
        }
    }

    private static int IndexOf(byte[] buffer, int count, ReadOnlySpan<byte> what) => buffer.AsSpan(0, count).IndexOf(what);
}

/// <summary>Passes events on to a sink and counts those the sink accepted (its name is the inner sink's, so the
/// publisher's per-sink metrics keep their labels).</summary>
public sealed class CountingSink(IEventSink inner) : IEventSink
{
    private long _delivered;

    public string Name => inner.Name;

    public long Delivered => Interlocked.Read(ref _delivered);

    public async ValueTask PublishAsync(FaceEvent e, CancellationToken cancel)
    {
        await inner.PublishAsync(e, cancel);
        Interlocked.Increment(ref _delivered);
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>This process's resources at one moment (Linux: /proc/self).</summary>
public sealed record ProcessSample(double Seconds, long RssBytes, int Threads, int Handles, long ManagedHeapBytes, int Gen0, int Gen1, int Gen2)
{
    public static ProcessSample Take(double seconds)
    {
        using var p = Process.GetCurrentProcess();
        int handles = Directory.Exists("/proc/self/fd") ? Directory.GetFileSystemEntries("/proc/self/fd").Length : p.HandleCount;
        return new ProcessSample(seconds, p.WorkingSet64, p.Threads.Count, handles, GC.GetTotalMemory(false),
            GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
    }
}
