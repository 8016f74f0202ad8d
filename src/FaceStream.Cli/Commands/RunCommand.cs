using System.CommandLine;
using FaceStream.Worker.Hosting;

namespace FaceStream.Cli.Commands;

/// <summary>facestream run: the stream-processing worker (the same host as the facestream-worker executable).</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var command = new Command("run", "The worker: cameras from the config file, events on stdout and the configured sinks, /metrics, health and the watchlist API");
        // A synchronous action: the host handles Ctrl+C and SIGTERM itself (graceful stop, systemd's STOPPING=1).
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult parse)
    {
        // The worker reads everything else from its config file (the same file and keys as facestream-worker).
        var ignored = CliOptions.Global.Where(o => o != CliOptions.Config && parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
        if (ignored.Count > 0)
        {
            throw new UsageException($"run takes only --config FILE; set {string.Join(", ", ignored)} in the config file (e.g. Inference:ModelsDirectory) or as FACESTREAM__SECTION__KEY");
        }

        string[] argv = parse.GetValue(CliOptions.Config) is { } config ? ["--config", config] : [];
        // Blocking on purpose: an async action would have System.CommandLine take SIGTERM/Ctrl+C and end the process
        // after its grace time; the worker's host handles them itself (graceful drain, systemd's STOPPING=1).
        return WorkerHost.RunAsync(argv).GetAwaiter().GetResult();
    }
}
