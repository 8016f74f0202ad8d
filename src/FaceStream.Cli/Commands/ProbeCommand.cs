using System.CommandLine;
using System.Globalization;
using FaceStream.Media.Video;
using FaceStream.Media.Video.Interop;

namespace FaceStream.Cli.Commands;

/// <summary>facestream probe URL: opens a camera or file, decodes one frame and prints what it delivers.</summary>
public static class ProbeCommand
{
    private static readonly Argument<string> Url = new("URL") { Description = "A camera (rtsp://, http://, …) or a video file" };

    private static readonly Option<float> Timeout = CliOptions.Float("--timeout", 0.1f, 600f, 10f, "SECONDS", "Longest wait to open the source and to read a frame");

    private static readonly Option<string> Transport = new("--transport") { Description = "RTSP transport: tcp or udp", HelpName = "tcp|udp", DefaultValueFactory = _ => "tcp" };

    public static Command Create()
    {
        var command = new Command("probe", "Open a camera or file, decode one frame, print codec, size and fps") { Url, CliOptions.Json, Timeout, Transport };
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult args)
    {
        var timeout = TimeSpan.FromSeconds(args.GetValue(Timeout));
        var options = new VideoSourceOptions
        {
            Id = "probe",
            Url = args.GetRequiredValue(Url),
            Transport = args.GetRequiredValue(Transport),
            OpenTimeout = timeout,
            ReadTimeout = timeout,
        };
        var problems = options.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new UsageException(string.Join("; ", problems));
        }

        bool json = args.GetValue(CliOptions.Json);
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
