using FaceStream.Inference;
using FaceStream.Inference.Detection;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace FaceStream.Cli;

/// <summary>Configuration and engine construction shared by the commands.</summary>
public sealed class CliContext
{
    public InferenceOptions Inference { get; } = new();
    public MtcnnOptions Mtcnn { get; } = new();
    public ILoggerFactory Logs { get; }

    private CliContext(ILoggerFactory logs) => Logs = logs;

    /// <summary>
    /// Loads config/facestream.json (or --config FILE), then FACESTREAM__SECTION__KEY environment variables, then
    /// the global command-line options; validates everything and names the bad key.
    /// </summary>
    public static CliContext Create(CliArgs args)
    {
        var builder = new ConfigurationBuilder();
        string? configPath = args.Value("--config");
        if (configPath is not null)
        {
            if (!File.Exists(configPath))
            {
                throw new UsageException($"--config {configPath}: file not found");
            }

            builder.AddJsonFile(Path.GetFullPath(configPath), optional: false);
        }
        else if (FindDefaultConfig() is { } found)
        {
            builder.AddJsonFile(found, optional: true);
        }

        builder.AddEnvironmentVariables("FACESTREAM__");
        var config = builder.Build();
        // Logs go to stderr so that --json output on stdout stays machine-readable.
        var logs = LoggerFactory.Create(b => b
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            })
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .SetMinimumLevel(LogLevel.Information)
            .AddFilter("Microsoft", LogLevel.Warning));
        var ctx = new CliContext(logs);
        try
        {
            config.GetSection(InferenceOptions.Section).Bind(ctx.Inference, o => o.ErrorOnUnknownConfiguration = true);
            config.GetSection(MtcnnOptions.Section).Bind(ctx.Mtcnn, o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException e)
        {
            throw new UsageException($"configuration: {e.Message}");
        }

        if (args.Value("--models") is { } models)
        {
            ctx.Inference.ModelsDirectory = models;
        }

        if (args.Value("--provider") is { } provider)
        {
            ctx.Inference.ExecutionProvider = provider;
        }

        if (args.Value("--embedder") is { } embedder)
        {
            ctx.Inference.Embedder = embedder;
        }

        if (args.Int("--min-face", 12, 4096) is { } minFace)
        {
            ctx.Mtcnn.MinFaceSize = minFace;
        }

        if (args.Int("--threads", 0, 256) is { } threads)
        {
            ctx.Mtcnn.Parallelism = threads;
        }

        ctx.Validate();
        return ctx;
    }

    public void Validate()
    {
        var errors = Inference.Validate().Concat(Mtcnn.Validate()).ToList();
        if (errors.Count > 0)
        {
            throw new UsageException("invalid configuration: " + string.Join("; ", errors));
        }
    }

    private static string? FindDefaultConfig()
    {
        for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
        {
            string p = Path.Combine(d.FullName, "config", "facestream.json");
            if (File.Exists(p))
            {
                return p;
            }
        }

        return null;
    }

    public ModelStore Store() => ModelStore.Locate(string.IsNullOrWhiteSpace(Inference.ModelsDirectory) ? null : Inference.ModelsDirectory);

    public FaceEngine Engine()
    {
        Validate();
        return new FaceEngine(Inference, Mtcnn, Logs.CreateLogger("FaceStream.Engine"));
    }
}
