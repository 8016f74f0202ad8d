namespace FaceStream.Media.Images;

/// <summary>A still image could not be decoded; the message names the file and the reason.</summary>
public sealed class ImageDecodeException(string message, Exception? inner = null) : Exception(message, inner);
