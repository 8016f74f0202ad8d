using System.CommandLine;
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
    /// Loads config/facestream.json (or --config FILE), then the secret files and FACESTREAM__SECTION__KEY environment
    /// variables (<see cref="Worker.Configuration.ConfigurationLayers"/>), then the global command-line options; validates everything and names the bad key.
    /// </summary>
    public static CliContext Create(ParseResult args)
    {
        var builder = new ConfigurationBuilder();
        string? configPath = AddConfigFile(builder, args);
        var config = AddSecretsAndEnvironment(builder).Build();
        // Logs go to stderr so that --json output on stdout stays machine-readable.
        var logs = LoggerFactory.Create(b => Worker.Hosting.ConsoleLogging.Configure(b));
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

        ApplyGlobalOptions(args, ctx.Inference, ctx.Mtcnn);
        ctx.Inference.ThresholdsFile = ThresholdFile.Resolve(ctx.Inference.ThresholdsFile, configPath);
        ctx.Validate();
        return ctx;
    }

    /// <summary>The command-line options every command takes override the config file.</summary>
    public static void ApplyGlobalOptions(ParseResult args, InferenceOptions inference, MtcnnOptions mtcnn)
    {
        if (args.GetValue(CliOptions.Models) is { } models)
        {
            inference.ModelsDirectory = models;
        }

        if (args.GetValue(CliOptions.Provider) is { } provider)
        {
            inference.ExecutionProvider = provider;
        }

        if (args.GetValue(CliOptions.Embedder) is { } embedder)
        {
            inference.Embedder = embedder;
        }

        if (args.GetValue(CliOptions.MinFace) is { } minFace)
        {
            mtcnn.MinFaceSize = minFace;
        }

        if (args.GetValue(CliOptions.Threads) is { } threads)
        {
            mtcnn.Parallelism = threads;
        }
    }

    /// <summary>Adds --config FILE, else config/facestream.json found upward (optional); returns the file used, if any.</summary>
    private static string? AddConfigFile(IConfigurationBuilder builder, ParseResult args)
    {
        if (args.GetValue(CliOptions.Config) is { } path)
        {
            if (!File.Exists(path))
            {
                throw new UsageException($"--config {path}: file not found");
            }

            builder.AddJsonFile(CheckedJson(Path.GetFullPath(path)), optional: false);
            return path;
        }

        if (FindDefaultConfig() is { } found)
        {
            builder.AddJsonFile(CheckedJson(found), optional: true);
            return found;
        }

        return null;
    }

    /// <summary>The path, once it parses as JSON; else a usage error (exit 2) naming the file, line and column.</summary>
    private static string CheckedJson(string path) =>
        Worker.Configuration.ConfigKeys.SyntaxError(path) is { } syntax ? throw new UsageException(syntax) : path;

    /// <summary>The worker's layers over the file; a missing FACESTREAM_SECRETS_DIR is a usage error (exit 2).</summary>
    private static IConfigurationBuilder AddSecretsAndEnvironment(IConfigurationBuilder builder)
    {
        try
        {
            return Worker.Configuration.ConfigurationLayers.AddSecretsAndEnvironment(builder);
        }
        catch (Worker.Configuration.WorkerConfigurationException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>The worker's settings from the config file, secret files and environment, with the global command-line options applied and no cameras.</summary>
    public static Worker.Configuration.WorkerSettings LoadWorkerSettings(ParseResult args)
    {
        var (config, configPath) = Configuration(args);
        try
        {
            var settings = Worker.Configuration.WorkerSettings.Load(config);
            // Sources come from the command line, never from the config's camera list.
            settings.Cameras.Clear();
            settings.Metrics.Enabled = false;
            ApplyGlobalOptions(args, settings.Inference, settings.Mtcnn);
            settings.Inference.ThresholdsFile = ThresholdFile.Resolve(settings.Inference.ThresholdsFile, configPath);
            return settings;
        }
        catch (Worker.Configuration.WorkerConfigurationException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>The layered configuration the worker reads (file, secret files, environment) and the file it came from, if any.</summary>
    public static (IConfiguration Configuration, string? Path) Configuration(ParseResult args)
    {
        var builder = new ConfigurationBuilder();
        string? configPath = AddConfigFile(builder, args);
        return (AddSecretsAndEnvironment(builder).Build(), configPath);
    }

    public void Validate()
    {
        var errors = Inference.Validate().Concat(Mtcnn.Validate()).ToList();
        if (errors.Count > 0)
        {
            throw new UsageException("invalid configuration: " + string.Join("; ", errors));
        }
    }

    internal static string? FindDefaultConfig() => Worker.Hosting.ConfigFile.FindDefault();

    public ModelStore Store() => ModelStore.Locate(string.IsNullOrWhiteSpace(Inference.ModelsDirectory) ? null : Inference.ModelsDirectory);

    public FaceEngine Engine()
    {
        Validate();
        return new FaceEngine(Inference, Mtcnn, Logs.CreateLogger("FaceStream.Engine"));
    }
}
