using FaceStream.Core.Embeddings;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;

namespace FaceStream.Inference.Embedding;

/// <summary>
/// Several embedders as one (`Inference:Embedder` = "a+b"): the members' unit vectors, each scaled by 1/√m,
/// concatenated. The result is a unit vector whose cosine is the mean of the members' cosines (score fusion), so
/// the watchlist, search and thresholds need nothing special. Costs the sum of the members' time.
/// </summary>
public sealed class EnsembleFaceEmbedder : IFaceEmbedder
{
    public const char Separator = '+';

    private readonly IFaceEmbedder[] _members;
    private readonly float _weight;

    public string ModelId { get; }
    public int Dimension { get; }
    public float Threshold { get; private set; }

    public EnsembleFaceEmbedder(IReadOnlyList<IFaceEmbedder> members)
    {
        if (members.Count < 2)
        {
            throw new ArgumentException("an ensemble needs at least two embedders");
        }

        _members = [.. members];
        _weight = 1f / MathF.Sqrt(members.Count);
        ModelId = string.Join(Separator, members.Select(m => m.ModelId));
        Dimension = members.Sum(m => m.Dimension);
        // Without a calibration, the mean of the members' own thresholds (their cosines are averaged too).
        Threshold = members.Average(m => m.Threshold);
    }

    public void UseCalibratedThreshold(float threshold) => Threshold = threshold;

    public IReadOnlyList<FaceEmbedding> Embed(ImageFrame image, IReadOnlyList<Landmarks5> faces) =>
        EmbedMany(faces.Select(f => (image, f)).ToList());

    public IReadOnlyList<FaceEmbedding> EmbedMany(IReadOnlyList<(ImageFrame Image, Landmarks5 Face)> faces)
    {
        var parts = _members.Select(m => m.EmbedMany(faces)).ToArray();
        var result = new FaceEmbedding[faces.Count];
        for (int i = 0; i < faces.Count; i++)
        {
            var v = new float[Dimension];
            int offset = 0;
            foreach (var part in parts)
            {
                var p = part[i].Vector;
                System.Numerics.Tensors.TensorPrimitives.Multiply(p, _weight, v.AsSpan(offset, p.Length));
                offset += p.Length;
            }

            result[i] = new FaceEmbedding(v, ModelId);
        }

        return result;
    }

    public void Dispose()
    {
        foreach (var m in _members)
        {
            m.Dispose();
        }
    }
}
