using System.Diagnostics;

namespace FaceStream.Cli.Demo;

/// <summary>Runs Debian's ffmpeg command-line tool (demo video, benchmark clips, test clips); decoding itself never uses it.</summary>
public static class FfmpegCli
{
    /// <summary>Writes <paramref name="times"/> copies of a clip back to back, stream-copied (timestamps keep growing): a long
    /// stream for the RTSP launcher's --once mode, which serves a file without its looping seek.</summary>
    public static void Loop(string clip, int times, string output) =>
        Run($"-stream_loop {times - 1} -i \"{clip}\" -c copy \"{output}\"", "loop a clip");

    /// <summary>Runs <c>ffmpeg -v error -y -nostdin ARGUMENTS</c>; throws <see cref="InvalidDataException"/> with ffmpeg's message (saying <paramref name="purpose"/>) on failure.</summary>
    public static void Run(string arguments, string purpose)
    {
        var psi = new ProcessStartInfo("ffmpeg", "-v error -y -nostdin " + arguments) { RedirectStandardError = true, RedirectStandardOutput = true };
        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new InvalidDataException("cannot start ffmpeg");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidDataException($"the ffmpeg CLI is needed to {purpose}: apt-get install ffmpeg (scripts/setup.sh does)");
        }

        using (p)
        {
            var err = p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                throw new InvalidDataException($"ffmpeg failed to {purpose}: {err.Result}");
            }
        }
    }
}
