namespace FaceStream.Cli.Commands;

/// <summary>placeholder</summary>
public static class EvalDetectionCommand
{
    public const string Usage = "todo";

    public static int Run(IEnumerable<string> argv) => throw new UsageException("not yet");
}
