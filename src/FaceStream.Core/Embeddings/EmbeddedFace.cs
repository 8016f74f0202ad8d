using FaceStream.Core.Faces;

namespace FaceStream.Core.Embeddings;

/// <summary>A detected face together with its embedding.</summary>
public sealed record EmbeddedFace(DetectedFace Face, FaceEmbedding Embedding);
