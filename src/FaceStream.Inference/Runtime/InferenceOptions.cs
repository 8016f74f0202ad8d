namespace FaceStream.Inference.Runtime;

/// <summary>Config section "Inference": where models live and how ONNX Runtime runs them.</summary>
public sealed class InferenceOptions
{
    public const string Section = "Inference";

    /// <summary>Known execution providers.</summary>
    public static readonly string[] Providers = ["cpu", "cuda", "directml"];

    /// <summary>Models directory; empty = discover (see <c>ModelStore.Locate</c>).</summary>
    public string ModelsDirectory { get; set; } = "";

    /// <summary>cpu (default), cuda or directml. A provider that cannot load is a start-up error, never a silent fall-back.</summary>
    public string ExecutionProvider { get; set; } = "cpu";

    /// <summary>Threads ONNX Runtime uses inside one inference call. 1 is fastest on small machines: we parallelise across
    /// images, scales and faces instead.</summary>
    public int IntraOpNumThreads { get; set; } = 1;

    /// <summary>CUDA device index when ExecutionProvider is cuda.</summary>
    public int DeviceId { get; set; }

    /// <summary>
    /// Embedder model id from models/manifest.json, or several joined by '+' (an ensemble: scores averaged). The default
    /// ensemble is the most accurate measured on real in-the-wild faces; "mobilefacenet-192" alone is ≈ 2× cheaper per
    /// face (docs/accuracy.md).
    /// </summary>
    public string Embedder { get; set; } = DefaultEmbedder;

    public const string DefaultEmbedder = "mobilefacenet-192+faceplugin-arcface-512";

    /// <summary>Per-model calibrated thresholds (`eval identities --calibrate`); empty = config/thresholds.json beside the config.</summary>
    public string ThresholdsFile { get; set; } = "";

    /// <summary>Embed each face and its mirror image and average the two (costs a second embedder run per face).</summary>
    public bool FlipFusion { get; set; } = true;

    /// <summary>Prefilter face chips when the face is larger than the embedder's input (box-averaged samples).</summary>
    public bool AntialiasChips { get; set; } = true;

    public IEnumerable<string> Validate()
    {
        if (!Providers.Contains(ExecutionProvider))
        {
            yield return $"{Section}:ExecutionProvider = '{ExecutionProvider}' is not one of: {string.Join(", ", Providers)}";
        }

        if (IntraOpNumThreads < 1 || IntraOpNumThreads > 64)
        {
            yield return $"{Section}:IntraOpNumThreads = {IntraOpNumThreads} must be between 1 and 64";
        }

        if (string.IsNullOrWhiteSpace(Embedder))
        {
            yield return $"{Section}:Embedder must name an embedder model from models/manifest.json";
        }
    }
}
