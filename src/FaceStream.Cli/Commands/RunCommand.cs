using FaceStream.Worker.Hosting;

namespace FaceStream.Cli.Commands;

/// <summary>facestream run: the stream-processing worker (the same host as the facestream-worker executable).</summary>
public static class RunCommand
{
    public static int Run(IEnumerable<string> argv) => WorkerHost.RunAsync(argv.ToArray()).GetAwaiter().GetResult();
}
