using System.Text.Json;
using System.Text.Json.Serialization;

namespace FaceStream.Inference.Models;

/// <summary>A known-person threshold measured on labelled photos (`facestream eval identities DIR --calibrate`).</summary>
/// <param name="Threshold">Cosine similarity at which <paramref name="TargetFar"/> of impostor pairs were accepted.</param>
/// <param name="Tar">Genuine pairs accepted at that threshold on the same data.</param>
/// <param name="Dataset">Folder name of the labelled photos (no path: the file may be shared).</param>
/// <param name="Condition">"colour", or "grey probes" when measured with greyscale probes against colour templates.</param>
public sealed record CalibratedThreshold(
    string ModelId, float Threshold, double TargetFar, double Tar, string Dataset, int Identities, int Faces, string Condition, DateTimeOffset Measured);

/// <summary>
/// config/thresholds.json: per-model thresholds calibrated on a deployment's own photos. The CLI, the API and the
/// worker use an entry for the running embedder instead of the manifest's default; Decision:KnownThreshold and
/// Decision:ModelThresholds in the config still override both.
/// </summary>
public static class ThresholdFile
{
    public const string FileName = "thresholds.json";

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Ensemble ids contain '+': keep the file readable (it is configuration, never embedded in HTML).
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private sealed record Document(int Schema, Dictionary<string, CalibratedThreshold> Models);

    /// <summary>
    /// Where a process reads its thresholds: <paramref name="setting"/> (Inference:ThresholdsFile) when given, relative
    /// to the config file's folder like every other path in it; else thresholds.json beside the config file in use
    /// (so `facestream-worker --config /etc/facestream/facestream.json` reads /etc/facestream/thresholds.json whatever
    /// its working directory); else <see cref="DefaultPath"/>.
    /// </summary>
    public static string Resolve(string? setting, string? configFile)
    {
        string? configDir = configFile is null ? null : Path.GetDirectoryName(Path.GetFullPath(configFile));
        if (!string.IsNullOrWhiteSpace(setting))
        {
            return configDir is null ? Path.GetFullPath(setting) : Path.GetFullPath(setting, configDir);
        }

        return configDir is null ? DefaultPath() : Path.Combine(configDir, FileName);
    }

    /// <summary>config/thresholds.json beside the nearest config/facestream.json upward from here, else under ./config.</summary>
    public static string DefaultPath()
    {
        for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "config", "facestream.json")))
            {
                return Path.Combine(d.FullName, "config", FileName);
            }
        }

        return Path.Combine("config", FileName);
    }

    /// <summary>The entries in <paramref name="path"/>; none when the file does not exist. A damaged file is an error that names it.</summary>
    public static IReadOnlyDictionary<string, CalibratedThreshold> Load(string path)
    {
        if (!File.Exists(path))
        {
            return new Dictionary<string, CalibratedThreshold>();
        }

        Document? doc;
        try
        {
            doc = JsonSerializer.Deserialize<Document>(File.ReadAllText(path), Options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a thresholds file ({e.Message})", e);
        }

        if (doc?.Models is null || doc.Schema != 1)
        {
            throw new InvalidDataException($"{path}: not a thresholds file (expected {{\"schema\": 1, \"models\": {{…}}}})");
        }

        foreach (var (id, t) in doc.Models)
        {
            if (!float.IsFinite(t.Threshold) || t.Threshold is <= -1 or > 1)
            {
                throw new InvalidDataException($"{path}: models.{id}.threshold = {t.Threshold} must be a cosine similarity in (-1, 1]");
            }
        }

        return doc.Models;
    }

    /// <summary>Adds or replaces one model's entry, keeping the others; written atomically (a running worker may read it).</summary>
    public static void Save(string path, CalibratedThreshold entry)
    {
        var models = new Dictionary<string, CalibratedThreshold>(Load(path)) { [entry.ModelId] = entry };
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string tmp = full + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(new Document(1, models), Options) + "\n");
        File.Move(tmp, full, overwrite: true);
    }
}
