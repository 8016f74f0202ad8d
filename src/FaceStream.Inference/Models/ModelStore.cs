using System.Security.Cryptography;
using System.Text.Json;

namespace FaceStream.Inference.Models;

/// <summary>Raised when a model is missing or does not match the manifest; the message says how to fix it.</summary>
public sealed class ModelNotReadyException(string message) : Exception(message);

/// <summary>The installed models directory: resolves ready ONNX files and refuses missing or mismatched ones.</summary>
public sealed class ModelStore
{
    /// <summary>Environment variable that points at the models directory.</summary>
    public const string EnvironmentVariable = "FACESTREAM_MODELS";

    /// <summary>Bumped whenever conversion output changes, so stale converted files are rebuilt.</summary>
    /// <remarks>2: per-channel PRelu is written as Relu/BatchNormalization/Add (FaceStream.Tools' PreluDecomposition).</remarks>
    public const int ConverterVersion = 2;

    public const string FixCommand = "facestream models install";

    public string Directory { get; }
    public ModelManifest Manifest { get; }

    public ModelStore(string directory)
    {
        Directory = Path.GetFullPath(directory);
        string manifest = Path.Combine(Directory, ModelManifest.FileName);
        if (!File.Exists(manifest))
        {
            throw new ModelNotReadyException($"no model manifest at {manifest}: pass --models DIR or set {EnvironmentVariable} to the repository's models/ folder");
        }

        Manifest = ModelManifest.Load(manifest);
    }

    /// <summary>
    /// Finds the models directory: an explicit path, then $FACESTREAM_MODELS, then a models/ folder holding a
    /// manifest in the working directory or any parent, then next to the executable or its parents.
    /// </summary>
    public static ModelStore Locate(string? explicitDirectory = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitDirectory))
        {
            return new ModelStore(explicitDirectory);
        }

        string? env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(env))
        {
            return new ModelStore(env);
        }

        foreach (var start in new[] { System.IO.Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                string candidate = Path.Combine(d.FullName, "models");
                if (File.Exists(Path.Combine(candidate, ModelManifest.FileName)))
                {
                    return new ModelStore(candidate);
                }
            }
        }

        throw new ModelNotReadyException($"cannot find the models directory (models/{ModelManifest.FileName}): run from the repository, pass --models DIR or set {EnvironmentVariable}");
    }

    public string OnnxDirectory => Path.Combine(Directory, "onnx");
    public string CacheDirectory => Path.Combine(Directory, "cache");
    public string SamplesDirectory => Path.Combine(Directory, "samples");

    public string OnnxPath(ModelEntry m) => Path.Combine(OnnxDirectory, m.OnnxFileName);
    public string StampPath(ModelEntry m) => OnnxPath(m) + ".stamp.json";

    /// <summary>What the installer records next to each runnable model.</summary>
    public sealed record Stamp(string ModelId, string SourceSha256, int ConverterVersion, string OnnxSha256);

    /// <summary>Path of a verified, runnable ONNX file for the model, or a <see cref="ModelNotReadyException"/>.</summary>
    public string Resolve(string id)
    {
        var m = Manifest.Get(id);
        string problem = Check(m);
        if (problem.Length > 0)
        {
            throw new ModelNotReadyException($"model '{id}' {problem}: run `{FixCommand}`");
        }

        return OnnxPath(m);
    }

    /// <summary>Empty when the model is installed and matches; else what is wrong.</summary>
    public string Check(ModelEntry m)
    {
        string onnx = OnnxPath(m), stampPath = StampPath(m);
        if (!File.Exists(onnx) || !File.Exists(stampPath))
        {
            return $"is not installed ({onnx} missing)";
        }

        Stamp? stamp;
        try
        {
            stamp = JsonSerializer.Deserialize<Stamp>(File.ReadAllText(stampPath));
        }
        catch (JsonException)
        {
            stamp = null;
        }

        if (stamp is null || stamp.SourceSha256 != m.Sha256 || stamp.ConverterVersion != ConverterVersion)
        {
            return "was installed from another source file or converter version than the manifest pins";
        }

        string actual = Sha256File(onnx);
        if (actual != stamp.OnnxSha256)
        {
            return $"file {onnx} is damaged (sha256 {actual[..12]}… differs from the installed {stamp.OnnxSha256[..12]}…)";
        }

        return "";
    }

    public static string Sha256File(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(f));
    }

    /// <summary>Path of an installed sample image, or a clear error.</summary>
    public string Sample(string saveAs)
    {
        string p = Path.Combine(SamplesDirectory, saveAs);
        if (!File.Exists(p))
        {
            throw new ModelNotReadyException($"sample image {p} is missing: run `{FixCommand}`");
        }

        return p;
    }
}
