using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;

namespace FaceStream.Worker.Configuration;

/// <summary>
/// The configuration layers above the JSON file, shared by the worker and the CLI. Later layers win:
/// the JSON file, then secret files (one file per key, <c>__</c> for <c>:</c>, e.g. <c>Api__Token</c>,
/// <c>Cameras__0__Url</c>), then <c>FACESTREAM__Section__Key</c> environment variables.
/// </summary>
public static class ConfigurationLayers
{
    /// <summary>Names the secrets directory; when it is not set, <see cref="DefaultSecretsDirectory"/> is read if it exists.</summary>
    public const string SecretsDirectoryVariable = "FACESTREAM_SECRETS_DIR";

    /// <summary>Where the Helm chart mounts its Secret.</summary>
    public const string DefaultSecretsDirectory = "/run/secrets/facestream";

    public const string EnvironmentPrefix = "FACESTREAM__";

    /// <summary>
    /// The secrets directory to read: $FACESTREAM_SECRETS_DIR when set (it must exist), else /run/secrets/facestream
    /// when it exists, else none.
    /// </summary>
    public static string? SecretsDirectory()
    {
        string? named = Environment.GetEnvironmentVariable(SecretsDirectoryVariable);
        if (!string.IsNullOrWhiteSpace(named))
        {
            return Directory.Exists(named)
                ? Path.GetFullPath(named)
                : throw new WorkerConfigurationException($"{SecretsDirectoryVariable} = '{named}': directory not found");
        }

        return Directory.Exists(DefaultSecretsDirectory) ? DefaultSecretsDirectory : null;
    }

    /// <summary>
    /// Adds the secret files (when there is a secrets directory) and then the environment variables. File contents are
    /// values, never logged; a trailing newline is dropped. Files and folders whose names start with a dot (Kubernetes'
    /// <c>..data</c>) are skipped.
    /// </summary>
    public static IConfigurationBuilder AddSecretsAndEnvironment(this IConfigurationBuilder builder, bool reloadOnChange = false)
    {
        if (SecretsDirectory() is { } dir)
        {
            builder.AddKeyPerFile(source =>
            {
                source.FileProvider = new PhysicalFileProvider(dir);
                source.Optional = false;
                source.ReloadOnChange = reloadOnChange;
            });
        }

        return builder.AddEnvironmentVariables(EnvironmentPrefix);
    }
}
