namespace FaceStream.Inference.Runtime;

/// <summary>The configured execution provider cannot be used on this machine.</summary>
public sealed class ExecutionProviderException(string message, Exception? inner = null) : Exception(message, inner);
