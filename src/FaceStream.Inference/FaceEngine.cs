using FaceStream.Core.Embeddings;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Inference.Attributes;
using FaceStream.Inference.Detection;
using FaceStream.Inference.Embedding;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;
using Microsoft.Extensions.Logging;

namespace FaceStream.Inference;

/// <summary>
/// The one face engine behind the CLI, the HTTP API and the worker: detector + aligner + embedder on one
/// execution provider. Thread-safe: ONNX Runtime sessions may be run concurrently.
/// </summary>
public sealed class FaceEngine : IFaceEncoder, IDisposable
{
    public IFaceDetector Detector { get; }
    public IFaceEmbedder Embedder { get; }
    public ModelStore Models { get; }
    public string ExecutionProvider { get; }

    /// <summary>The engine's session factory (its provider and threads), for extra models such as measurement variants.</summary>
    public OnnxSessionFactory Sessions { get; }

    private readonly Lazy<FaceAttributeAnalyzer> _attributes;
    private readonly InferenceOptions _inference;
    private readonly string _thresholdsFile;

    /// <summary>Age, gender, pose, expression and eye-state models, loaded at first use (callers that never ask pay nothing).</summary>
    public FaceAttributeAnalyzer Attributes => _attributes.Value;

    public FaceEngine(InferenceOptions inference, MtcnnOptions mtcnn, ILogger? log = null)
    {
        Models = ModelStore.Locate(string.IsNullOrWhiteSpace(inference.ModelsDirectory) ? null : inference.ModelsDirectory);
        var embedders = Models.Manifest.Embedders.Select(m => m.Id).ToList();
        var memberIds = inference.Embedder.Split(EnsembleFaceEmbedder.Separator, StringSplitOptions.TrimEntries);
        if (memberIds.Any(id => !embedders.Contains(id, StringComparer.Ordinal)) || memberIds.Distinct(StringComparer.Ordinal).Count() != memberIds.Length)
        {
            throw new UnknownModelException($"embedder '{inference.Embedder}' (--embedder or {InferenceOptions.Section}:Embedder) is not one of: {string.Join(", ", embedders)}, " +
                $"nor several of them joined by '{EnsembleFaceEmbedder.Separator}' (an ensemble, e.g. {InferenceOptions.DefaultEmbedder})");
        }

        _inference = inference;
        var factory = new OnnxSessionFactory(inference, log);
        ExecutionProvider = factory.ProviderInUse;
        Sessions = factory;
        Detector = new MtcnnDetector(Models, factory, mtcnn);
        _attributes = new Lazy<FaceAttributeAnalyzer>(() => new FaceAttributeAnalyzer(Models, factory), LazyThreadSafetyMode.ExecutionAndPublication);
        try
        {
            var members = memberIds.Select(id => new OnnxFaceEmbedder(Models, factory, id, flipFusion: inference.FlipFusion, antialias: inference.AntialiasChips)).ToList();
            Embedder = members.Count == 1 ? members[0] : new EnsembleFaceEmbedder(members);
            // Hosts that know their config file have already resolved the setting beside it (ThresholdFile.Resolve).
            string thresholds = _thresholdsFile = ThresholdFile.Resolve(inference.ThresholdsFile, configFile: null);
            if (ThresholdFile.Load(thresholds).TryGetValue(Embedder.ModelId, out var calibrated))
            {
                Embedder.UseCalibratedThreshold(calibrated.Threshold);
                log?.LogInformation("{Model}: known-person threshold {Threshold:F3} from {File} (FAR {Far:G2} on {Dataset}, {Condition}, {When:yyyy-MM-dd})",
                    Embedder.ModelId, calibrated.Threshold, thresholds, calibrated.TargetFar, calibrated.Dataset, calibrated.Condition, calibrated.Measured);
            }
        }
        catch
        {
            Embedder?.Dispose();
            Detector.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A new pre-screen for this engine's embedder (its first member without flip fusion, with that member's calibrated
    /// threshold), or null where it would save nothing. The caller owns it.
    /// </summary>
    public PreScreen? CreatePreScreen() => PreScreen.For(Embedder, _inference.FlipFusion, id =>
    {
        var member = new OnnxFaceEmbedder(Models, Sessions, id, flipFusion: false, antialias: _inference.AntialiasChips);
        if (ThresholdFile.Load(_thresholdsFile).TryGetValue(id, out var calibrated))
        {
            member.UseCalibratedThreshold(calibrated.Threshold);
        }

        return member;
    });

    /// <summary>Detects every face (those <paramref name="keep"/> accepts, when given) and embeds each one.</summary>
    public IReadOnlyList<EmbeddedFace> DetectAndEmbed(ImageFrame image, Func<DetectedFace, bool>? keep = null)
    {
        var faces = keep is null ? Detector.Detect(image) : Detector.Detect(image).Where(keep).ToList();
        if (faces.Count == 0)
        {
            return [];
        }

        var embeddings = Embedder.Embed(image, faces.Select(f => f.Landmarks).ToList());
        return faces.Select((f, i) => new EmbeddedFace(f, embeddings[i])).ToList();
    }

    /// <summary>The photo's subject (<see cref="SubjectFace.Pick"/>: the largest confident face) and its embedding, or null when there is none.</summary>
    public EmbeddedFace? SubjectFaceOf(ImageFrame image)
    {
        var subject = SubjectFace.Pick(Detector.Detect(image));
        return subject is null ? null : new EmbeddedFace(subject, Embedder.Embed(image, [subject.Landmarks])[0]);
    }

    string IFaceEncoder.ModelId => Embedder.ModelId;

    int IFaceEncoder.Dimension => Embedder.Dimension;

    IReadOnlyList<DetectedFace> IFaceEncoder.Detect(ImageFrame image) => Detector.Detect(image);

    FaceEmbedding IFaceEncoder.Embed(ImageFrame image, DetectedFace face) => Embedder.Embed(image, [face.Landmarks])[0];

    public void Dispose()
    {
        Detector.Dispose();
        Embedder.Dispose();
        if (_attributes.IsValueCreated)
        {
            _attributes.Value.Dispose();
        }
    }
}
