using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;

namespace FaceStream.Core.Embeddings;

/// <summary>
/// The face-encoder role enrollment and gallery loading need: an image in, its faces and their embeddings out.
/// FaceStream.Inference's FaceEngine (ONNX Runtime) implements it; the watchlist and the application layer only see this.
/// </summary>
public interface IFaceEncoder
{
    /// <summary>The embedder's model id: templates of different models are never compared.</summary>
    string ModelId { get; }

    /// <summary>Length of the embeddings.</summary>
    int Dimension { get; }

    /// <summary>Every face found in the image.</summary>
    IReadOnlyList<DetectedFace> Detect(ImageFrame image);

    /// <summary>The embedding of one face of the image (aligned by its landmarks).</summary>
    FaceEmbedding Embed(ImageFrame image, DetectedFace face);

    /// <summary>Detects every face (those <paramref name="keep"/> accepts, when given) and embeds each one.</summary>
    IReadOnlyList<EmbeddedFace> DetectAndEmbed(ImageFrame image, Func<DetectedFace, bool>? keep = null);

    /// <summary>The photo's subject (the largest confident face) and its embedding, or null when there is none.</summary>
    EmbeddedFace? SubjectFaceOf(ImageFrame image);
}
