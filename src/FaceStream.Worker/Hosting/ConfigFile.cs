using FaceStream.Worker.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;

namespace FaceStream.Worker.Hosting;

/// <summary>
/// The worker's configuration file: found from --config (or upward from the working directory), checked before the
/// host is built, added to the configuration with reload on change, and whether its last reload could not be read.
/// </summary>
public sealed class ConfigFile
{
    public const string Usage = "facestream run [--config FILE]   (facestream-worker [--config FILE] as a service)";

    private int _loadFailed;

    private ConfigFile(string path) => Path = System.IO.Path.GetFullPath(path);

    /// <summary>The file, as given (relative paths resolve against the working directory).</summary>
    public string Path { get; }

    /// <summary>The file named by the worker's arguments; a usage, missing-file or JSON syntax problem is a <see cref="WorkerConfigurationException"/>.</summary>
    public static ConfigFile FromArguments(string[] args)
    {
        string? path = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--config" && i + 1 < args.Length)
            {
                path = args[++i];
            }
            else
            {
                throw new WorkerConfigurationException($"unknown argument '{args[i]}'. Usage: {Usage}");
            }
        }

        path ??= FindDefault() ?? throw new WorkerConfigurationException("no config/facestream.json found upward from here; pass --config FILE");
        if (!File.Exists(path))
        {
            throw new WorkerConfigurationException($"--config {path}: file not found");
        }

        if (ConfigKeys.SyntaxError(path) is { } syntax)
        {
            throw new WorkerConfigurationException(syntax);
        }

        return new ConfigFile(path);
    }

    /// <summary>config/facestream.json in the working directory or the nearest parent that has one.</summary>
    public static string? FindDefault()
    {
        for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
        {
            string p = System.IO.Path.Combine(d.FullName, "config", "facestream.json");
            if (File.Exists(p))
            {
                return p;
            }
        }

        return null;
    }

    /// <summary>
    /// Adds the file with reload on change. A broken file written while running must not reach the cameras:
    /// <see cref="CameraReload"/> checks it first and says why it is rejected; the provider's own exception (thrown on
    /// the file watcher's thread, unseen) is ignored and noted here.
    /// </summary>
    public void AddTo(IConfigurationBuilder configuration)
    {
        string folder = System.IO.Path.GetDirectoryName(Path)!;
        configuration.AddJsonFile(source =>
        {
            source.Path = System.IO.Path.GetFileName(Path);
            source.FileProvider = new PhysicalFileProvider(folder);
            source.Optional = false;
            source.ReloadOnChange = true;
            source.OnLoadException = context =>
            {
                context.Ignore = true;
                Volatile.Write(ref _loadFailed, 1);
            };
        });
    }

    /// <summary>Whether a reload failed to read the file since the last call.</summary>
    public bool TakeLoadFailed() => Interlocked.Exchange(ref _loadFailed, 0) == 1;
}
