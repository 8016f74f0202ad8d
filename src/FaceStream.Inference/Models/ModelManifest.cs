using System.Text.Json;
using System.Text.Json.Serialization;

namespace FaceStream.Inference.Models;

/// <summary>models/manifest.json: every model's source package, hashes, conversion and tensor contract.</summary>
public sealed record ModelManifest(
    int Version,
    IReadOnlyList<NpmPackageRef> Packages,
    IReadOnlyList<ModelEntry> Models,
    IReadOnlyList<SampleEntry> Samples)
{
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public static ModelManifest Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException("empty manifest");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid model manifest: {e.Message}", e);
        }
    }

    public ModelEntry Get(string id) => Models.FirstOrDefault(m => m.Id == id)
        ?? throw new KeyNotFoundException($"model '{id}' is not in the manifest; known: {string.Join(", ", Models.Select(m => m.Id))}");

    public NpmPackageRef Package(string name) => Packages.FirstOrDefault(p => p.Name == name)
        ?? throw new InvalidDataException($"manifest names package '{name}' but does not pin it");

    public IEnumerable<ModelEntry> Embedders => Models.Where(m => m.Role == "embedder");
}

/// <summary>A pinned npm package and its npm integrity string (sha512 of the tarball).</summary>
public sealed record NpmPackageRef(string Name, string Version, string Integrity, string License)
{
    public string Spec => $"{Name}@{Version}";

    /// <summary>File name of the cached tarball.</summary>
    public string TarballName => $"{Name.TrimStart('@').Replace('/', '-')}-{Version}.tgz";
}

/// <summary>One model: where it comes from, how it is converted and what its tensors mean.</summary>
/// <remarks><c>GraphOptimization</c> (all | extended | basic) is measured per model. Every model now gains from `all`
/// (ORT's blocked-layout transforms) since PReLU is installed in a form that stays in that layout; fr_feature, which
/// ran `extended` before, is 2.2× faster at `all` than at `extended` (docs/benchmarks.md, "PReLU in the blocked layout").</remarks>
public sealed record ModelEntry(
    string Id,
    string Role,
    string Package,
    string File,
    string Sha256,
    string Convert,
    ModelInput Input,
    IReadOnlyDictionary<string, string> Outputs,
    bool TransposedInput = false,
    bool DynamicSpatial = false,
    EmbeddingSpec? Embedding = null,
    string GraphOptimization = "all",
    IReadOnlyList<ModelFile>? Weights = null)
{
    /// <summary>Name of the runnable ONNX file under the models directory.</summary>
    public string OnnxFileName => $"{Id}.onnx";

    public string Output(string role) => Outputs.TryGetValue(role, out var n) ? n
        : throw new InvalidDataException($"model '{Id}' has no output with role '{role}' in the manifest");
}

/// <summary>A further file of a model taken from its package (a TF.js model's weight shard), pinned by sha256.</summary>
public sealed record ModelFile(string File, string Sha256);

/// <summary>
/// Input tensor contract: NCHW float, colour order (RGB, BGR or GREY) and normalisation (v − mean)·scale, then, when
/// given, per channel (x − channelMean[c]) / channelStd[c] in the model's channel order (ImageNet-style models).
/// </summary>
public sealed record ModelInput(string Name, string Layout, int Width, int Height, string ColorOrder, float Mean, float Scale,
    float[]? ChannelMean = null, float[]? ChannelStd = null)
{
    /// <summary>Applies the per-channel step (x − channelMean[c]) / channelStd[c] to a planar 3-channel chip, when the model has one.</summary>
    public void NormaliseChannels(Span<float> chip, int plane)
    {
        if (ChannelMean is not { Length: 3 } mean || ChannelStd is not { Length: 3 } std)
        {
            return;
        }

        for (int c = 0; c < 3; c++)
        {
            var p = chip.Slice(c * plane, plane);
            System.Numerics.Tensors.TensorPrimitives.Subtract(p, mean[c], p);
            System.Numerics.Tensors.TensorPrimitives.Multiply(p, 1f / std[c], p);
        }
    }
}

/// <summary>Embedding facts: dimension, default same-person threshold (cosine) and the 5-point alignment template.</summary>
public sealed record EmbeddingSpec(int Dimension, float Threshold, float[] AlignmentTemplate);

/// <summary>A sample image shipped inside a pinned package (demo and tests).</summary>
public sealed record SampleEntry(string Package, string File, string SaveAs, string Sha256);
