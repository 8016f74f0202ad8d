using System.Diagnostics;

namespace FaceStream.Cli;

/// <summary>A one-line progress bar on stderr, shown only when stderr is a terminal (never pollutes --json).</summary>
public sealed class Progress(string label, int total) : IDisposable
{
    private readonly bool _enabled = !Console.IsErrorRedirected && total > 1;
    private readonly Stopwatch _sw = Stopwatch.StartNew();
    private long _lastDraw;
    private int _done;

    public void Tick()
    {
        _done++;
        if (!_enabled || (_sw.ElapsedMilliseconds - _lastDraw < 100 && _done < total))
        {
            return;
        }

        _lastDraw = _sw.ElapsedMilliseconds;
        const int width = 30;
        int filled = (int)((long)width * _done / total);
        double rate = _done / Math.Max(_sw.Elapsed.TotalSeconds, 1e-3);
        double eta = (total - _done) / Math.Max(rate, 1e-6);
        Console.Error.Write($"\r{label} [{new string('#', filled)}{new string('.', width - filled)}] {_done}/{total} {rate:F1}/s eta {eta:F0}s ");
    }

    public void Dispose()
    {
        if (_enabled)
        {
            Console.Error.Write("\r" + new string(' ', 90) + "\r");
        }
    }
}
