namespace FaceStream.Inference.Models;

/// <summary>A model id (an --embedder or Inference:Embedder value) that the manifest does not have in that role; the message lists the allowed ids.</summary>
public sealed class UnknownModelException(string message) : Exception(message);
