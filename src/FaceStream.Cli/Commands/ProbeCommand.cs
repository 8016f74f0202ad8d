using System.Globalization;
using FaceStream.Media.Video;
using FaceStream.Media.Video.Interop;

namespace FaceStream.Cli.Commands;

/// <summary>facestream probe URL: opens a camera or file, decodes one frame and prints what it delivers.</summary>
public static class ProbeCommand
{
    public const string Usage = "facestream probe URL [--json] [--timeout SECONDS] [--transport tcp|udp]";

    public static int Run(IEnumerable<string> argv)
    {
        var args = CliArgs.Parse(argv, ["--timeout", "--transport"], ["--json"]);
        if (args.Positionals.Count != 1)
        {
            throw new UsageException($"probe takes one URL or file. Usage: {Usage}");
        }

        var timeout = TimeSpan.FromSeconds(args.Float("--timeout", 0.1f, 600f) ?? 10f);
        var options = new VideoSourceOptions
        {
            Id = "probe",
            Url = args.Positionals[0],
            Transport = args.Value("--transport") ?? "tcp",
            OpenTimeout = timeout,
            ReadTimeout = timeout,
        };
        var problems = options.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new UsageException(string.Join("; ", problems));
        }

        bool json = args.Flag("--json");
        var safeUrl = SourceUrl.Redact(options.Url);
        try
        {
            var r = VideoProbe.Probe(options);
            if (json)
            {
                Console.Out.WriteLine(Json.Line(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("url", r.Url);
                    w.WriteBoolean("ok", true);
                    w.WriteBoolean("live", r.IsLive);
                    w.WriteString("codec", r.Codec);
                    w.WriteNumber("width", r.Width);
                    w.WriteNumber("height", r.Height);
                    w.WriteNumber("fps", Math.Round(r.Fps, 3));
                    w.WriteString("pixel_format", r.SourcePixelFormat);
                    w.WriteNumber("open_ms", Math.Round(r.TimeToOpen.TotalMilliseconds));
                    w.WriteNumber("first_frame_ms", Math.Round(r.TimeToFirstFrame.TotalMilliseconds));
                    w.WriteString("ffmpeg", r.FfmpegVersions);
                    w.WriteEndObject();
                }));
            }
            else
            {
                var c = CultureInfo.InvariantCulture;
                Console.Out.WriteLine(string.Create(c, $"{r.Url}: {(r.IsLive ? "live" : "file")}, {r.Codec} {r.Width}x{r.Height} @ {r.Fps:0.##} fps ({r.SourcePixelFormat}), opened in {r.TimeToOpen.TotalMilliseconds:0} ms, first frame after {r.TimeToFirstFrame.TotalMilliseconds:0} ms"));
            }

            return 0;
        }
        catch (Exception e) when (e is VideoSourceException or FfmpegUnavailableException)
        {
            if (json)
            {
                Console.Out.WriteLine(Json.Line(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("url", safeUrl);
                    w.WriteBoolean("ok", false);
                    w.WriteString("error", e.Message);
                    w.WriteEndObject();
                }));
            }

            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
