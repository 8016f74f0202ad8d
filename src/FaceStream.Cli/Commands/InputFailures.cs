using FaceStream.Media.Images;

namespace FaceStream.Cli.Commands;

/// <summary>Per-input error handling: report the file and reason, keep going, remember that something failed.</summary>
public sealed class InputFailures(bool json)
{
    public int Count { get; private set; }

    /// <summary>Runs <paramref name="work"/> for one input; a bad input is reported and does not stop the others.</summary>
    public void Run(string input, Action work)
    {
        try
        {
            work();
        }
        catch (Exception e) when (e is ImageDecodeException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            Count++;
            string message = e is ImageDecodeException ? e.Message : $"{input}: {e.Message}";
            Console.Error.WriteLine($"error: {message}");
            if (json)
            {
                Console.Out.WriteLine(Json.Error(input, e.Message));
            }
        }
    }

    public int ExitCode => Count > 0 ? 1 : 0;
}
