using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Core.Matching;

namespace FaceStream.Inference.Embedding;

/// <summary>
/// A cheap first look at a face before the full embedder runs: the embedder's first member alone, one pass without
/// flip fusion (a quarter of the default ensemble's four network runs, and its cheapest), scored against that
/// member's part of every watchlist template. A view whose best score is far below that member's own known-person
/// threshold cannot be anyone on the watchlist, so the full embedder is spared; the rest are embedded as before.
/// On a camera most faces are strangers, which is where the saving is (docs/accuracy.md, the pre-screen).
/// </summary>
/// <param name="member">The member embedder, without flip fusion; owned (disposed) by this.</param>
/// <param name="offset">Where the member's vector starts in the full template.</param>
/// <param name="scale">Undoes the ensemble's weight on the member's part, so scores are the member's own cosines.</param>
public sealed class PreScreen(IFaceEmbedder member, int offset, float scale) : IDisposable
{
    /// <summary>The member's id (its threshold and calibration are its own).</summary>
    public string ModelId => member.ModelId;

    /// <summary>The member's known-person threshold (calibrated when the thresholds file has it).</summary>
    public float Threshold => member.Threshold;

    /// <summary>Where the member's part starts in a full template.</summary>
    public int Offset => offset;

    /// <summary>Turns a dot product with the member's part of a template into the member's cosine.</summary>
    public float Scale => scale;

    /// <summary>The faces as the screen sees them: the member's unit vectors, without flip fusion.</summary>
    public IReadOnlyList<Core.Embeddings.FaceEmbedding> Embed(IReadOnlyList<(ImageFrame Image, Landmarks5 Face)> faces) => member.EmbedMany(faces);

    /// <summary>
    /// Each face's best cosine against the member's part of every template in <paramref name="gallery"/>
    /// (−∞ when the gallery is empty: nobody to be).
    /// </summary>
    public float[] BestScores(GalleryIndex gallery, IReadOnlyList<(ImageFrame Image, Landmarks5 Face)> faces)
    {
        var scores = new float[faces.Count];
        if (gallery.Templates == 0)
        {
            Array.Fill(scores, float.NegativeInfinity);
            return scores;
        }

        var embeddings = Embed(faces);
        for (int i = 0; i < faces.Count; i++)
        {
            scores[i] = gallery.BestPartialSimilarity(embeddings[i].Vector, offset) * scale;
        }

        return scores;
    }

    /// <summary>
    /// The screen of <paramref name="embedder"/> (its first member without flip fusion), or null when it would save
    /// nothing: a single model already without flip fusion.
    /// </summary>
    /// <param name="create">Makes a member embedder without flip fusion from a model id.</param>
    public static PreScreen? For(IFaceEmbedder embedder, bool flipFusion, Func<string, IFaceEmbedder> create)
    {
        var members = embedder.ModelId.Split(EnsembleFaceEmbedder.Separator);
        if (members.Length == 1 && !flipFusion)
        {
            return null;
        }

        return new PreScreen(create(members[0]), 0, MathF.Sqrt(members.Length));
    }

    public void Dispose() => member.Dispose();
}
