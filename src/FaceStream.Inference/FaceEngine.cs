using FaceStream.Core.Embeddings;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Inference.Detection;
using FaceStream.Inference.Embedding;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;
using Microsoft.Extensions.Logging;

namespace FaceStream.Inference;

/// <summary>A detected face together with its embedding.</summary>
public sealed record EmbeddedFace(DetectedFace Face, FaceEmbedding Embedding);

/// <summary>
/// The one face engine behind the CLI, the HTTP API and the worker: detector + aligner + embedder on one
/// execution provider. Thread-safe: ONNX Runtime sessions may be run concurrently.
/// </summary>
public sealed class FaceEngine : IDisposable
{
    public IFaceDetector Detector { get; }
    public IFaceEmbedder Embedder { get; }
    public ModelStore Models { get; }
    public string ExecutionProvider { get; }

    public FaceEngine(InferenceOptions inference, MtcnnOptions mtcnn, ILogger? log = null)
    {
        Models = ModelStore.Locate(string.IsNullOrWhiteSpace(inference.ModelsDirectory) ? null : inference.ModelsDirectory);
        var embedders = Models.Manifest.Embedders.Select(m => m.Id).ToList();
        if (!embedders.Contains(inference.Embedder, StringComparer.Ordinal))
        {
            throw new UnknownModelException($"embedder '{inference.Embedder}' (--embedder or {InferenceOptions.Section}:Embedder) is not one of: {string.Join(", ", embedders)}");
        }

        var factory = new OnnxSessionFactory(inference, log);
        ExecutionProvider = factory.ProviderInUse;
        Detector = new MtcnnDetector(Models, factory, mtcnn);
        try
        {
            Embedder = new OnnxFaceEmbedder(Models, factory, inference.Embedder);
        }
        catch
        {
            Detector.Dispose();
            throw;
        }
    }

    /// <summary>Detects every face and embeds each one.</summary>
    public IReadOnlyList<EmbeddedFace> DetectAndEmbed(ImageFrame image)
    {
        var faces = Detector.Detect(image);
        if (faces.Count == 0)
        {
            return [];
        }

        var embeddings = Embedder.Embed(image, faces.Select(f => f.Landmarks).ToList());
        return faces.Select((f, i) => new EmbeddedFace(f, embeddings[i])).ToList();
    }

    /// <summary>The largest face (by box area) and its embedding, or null when there is none.</summary>
    public EmbeddedFace? LargestFace(ImageFrame image)
    {
        var faces = Detector.Detect(image);
        if (faces.Count == 0)
        {
            return null;
        }

        var largest = faces.MaxBy(f => f.Box.Area)!;
        return new EmbeddedFace(largest, Embedder.Embed(image, [largest.Landmarks])[0]);
    }

    public void Dispose()
    {
        Detector.Dispose();
        Embedder.Dispose();
    }
}
