using System.Numerics.Tensors;

namespace FaceStream.Core.Embeddings;

/// <summary>An L2-normalised face embedding and the model that produced it.</summary>
public sealed record FaceEmbedding(float[] Vector, string ModelId)
{
    public int Dimension => Vector.Length;

    /// <summary>Cosine similarity; both vectors are unit length so this is their dot product.</summary>
    public float Similarity(FaceEmbedding other)
    {
        if (other.ModelId != ModelId || other.Vector.Length != Vector.Length)
        {
            throw new InvalidOperationException($"cannot compare embeddings of '{ModelId}' ({Dimension}-d) and '{other.ModelId}' ({other.Dimension}-d)");
        }

        return TensorPrimitives.Dot(Vector, other.Vector);
    }

    /// <summary>Normalises <paramref name="raw"/> in place to unit L2 length and wraps it.</summary>
    public static FaceEmbedding FromRaw(float[] raw, string modelId)
    {
        float norm = TensorPrimitives.Norm(raw);
        if (!(norm > 0) || float.IsNaN(norm))
        {
            throw new InvalidOperationException($"model '{modelId}' produced a zero or invalid embedding");
        }

        TensorPrimitives.Divide(raw, norm, raw);
        return new FaceEmbedding(raw, modelId);
    }
}
