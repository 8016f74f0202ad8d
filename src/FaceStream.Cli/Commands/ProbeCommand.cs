using System.CommandLine;
using System.Globalization;
using FaceStream.Media.Video;

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

        var outcome = VideoProbe.TryProbe(options);
        if (args.GetValue(CliOptions.Json))
        {
            Console.Out.WriteLine(Json.Line(w =>
            {
                w.WriteStartObject();
                outcome.WriteMembers(w);
                w.WriteEndObject();
            }));
        }

        if (outcome.Result is not { } r)
        {
            Console.Error.WriteLine($"error: {outcome.Error}");
            return 1;
        }

        if (!args.GetValue(CliOptions.Json))
        {
            var c = CultureInfo.InvariantCulture;
            Console.Out.WriteLine(string.Create(c, $"{r.Url}: {(r.IsLive ? "live" : "file")}, {r.Codec} {r.Width}x{r.Height} @ {r.Fps:0.##} fps ({r.SourcePixelFormat}), opened in {r.TimeToOpen.TotalMilliseconds:0} ms, first frame after {r.TimeToFirstFrame.TotalMilliseconds:0} ms"));
        }

        return 0;
    }
}
