using FaceStream.Core.Embeddings;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;

namespace FaceStream.Inference.Embedding;

/// <summary>Turns aligned faces into L2-normalised identity vectors.</summary>
public interface IFaceEmbedder : IDisposable
{
    /// <summary>Manifest id of the model; stored with every template so vectors of different models never mix.</summary>
    string ModelId { get; }

    int Dimension { get; }

    /// <summary>Default same-person cosine threshold for this model (from the manifest, measured on real faces).</summary>
    float Threshold { get; }

    /// <summary>Replaces the default threshold with one calibrated for this deployment (config/thresholds.json).</summary>
    void UseCalibratedThreshold(float threshold);

    /// <summary>Aligns each face by its landmarks and embeds all of them in batches.</summary>
    IReadOnlyList<FaceEmbedding> Embed(ImageFrame image, IReadOnlyList<Landmarks5> faces);

    /// <summary>Embeds faces from different images in shared batches (the worker batches crops across cameras).</summary>
    IReadOnlyList<FaceEmbedding> EmbedMany(IReadOnlyList<(ImageFrame Image, Landmarks5 Face)> faces);
}
