using System.Diagnostics;
using System.Net;
using System.Text;
using Xunit;

namespace FaceStream.Tests.Support;

/// <summary>`facestream run --config FILE` as a separate process, killed on dispose; its output kept for failure messages.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private WorkerProcess(Process process) => _process = process;

    public bool Exited => _process.HasExited;

    /// <summary>Waits for an output line containing <paramref name="text"/> (stdout or stderr); returns that line.</summary>
    public async Task<string> WaitForLine(string text, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            if (Output.Split('\n').FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) is { } line)
            {
                return line;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"no line with '{text}' within the time; output so far:\n{Output}");
    }

    /// <summary>The base address of /metrics, /status, /readyz (from the worker's start-up log line).</summary>
    public async Task<Uri> WaitForBaseAddress()
    {
        var line = await WaitForLine("metrics on http://");
        var start = line.IndexOf("http://", StringComparison.Ordinal);
        return new Uri(line[start..line.IndexOf("metrics,", start, StringComparison.Ordinal)]);
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// `facestream run --config CONFIG` with the test models, plus <paramref name="environment"/> (a value of null removes
    /// the variable). <paramref name="asSystemdUnit"/>: seen as a systemd service, which .NET decides from its parent
    /// process being named systemd: a bash parent renamed so, which passes SIGTERM on to the worker and exits with its code.
    /// </summary>
    public static WorkerProcess Start(string config, IReadOnlyDictionary<string, string?>? environment = null, bool asSystemdUnit = false)
    {
        var psi = new ProcessStartInfo(asSystemdUnit ? "bash" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(config)! };
        string[] launcher = asSystemdUnit
            ? ["-c", "printf systemd > /proc/$$/comm; dotnet \"$@\" & w=$!; trap 'kill -TERM $w' TERM; wait $w; trap - TERM; wait $w", "bash"]
            : [];
        foreach (var a in launcher.Concat([Path.Combine(AppContext.BaseDirectory, "facestream.dll"), "run", "--config", config]))
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["FACESTREAM__Inference__ModelsDirectory"] = TestAssets.Store.Directory;
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            psi.Environment[name] = value;
        }

        var worker = new WorkerProcess(Process.Start(psi)!);
        worker._process.OutputDataReceived += (_, e) => worker.Append(e.Data);
        worker._process.ErrorDataReceived += (_, e) => worker.Append(e.Data);
        worker._process.BeginOutputReadLine();
        worker._process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Waits until <paramref name="path"/> answers 200; fails with the worker's output when it exits or does not within <paramref name="limit"/>.</summary>
    public async Task WaitFor200Async(HttpClient http, string path, TimeSpan limit)
    {
        var by = DateTime.UtcNow + limit;
        while (!Exited && !await Answers200(http, path))
        {
            Assert.True(DateTime.UtcNow < by, $"the worker did not answer {path} with 200 within {limit.TotalSeconds} s:\n{Output}");
            await Task.Delay(250);
        }

        Assert.False(Exited, "the worker exited:\n" + Output);
    }

    /// <summary>Sends SIGTERM, as systemd and Kubernetes stop it.</summary>
    public void Terminate() => Signal("TERM");

    /// <summary>Sends a signal by name: KILL (a crash, nothing handed over), STOP (paused, as by a long GC), CONT.</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>The exit code once the process ended by itself within <paramref name="limit"/>.</summary>
    public async Task<int> ExitCodeAsync(TimeSpan limit)
    {
        using var cancel = new CancellationTokenSource(limit);
        await _process.WaitForExitAsync(cancel.Token);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }

    private static async Task<bool> Answers200(HttpClient http, string path)
    {
        try
        {
            return (await http.GetAsync(path)).StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
