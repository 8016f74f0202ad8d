using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;

namespace FaceStream.Inference.Detection;

/// <summary>
/// Finds faces (box, score, five landmarks) in images. Calls may run at once from several threads (the worker's detect
/// stage searches up to Pipeline:DetectBatchesInFlight batches at a time, the HTTP API's requests beside them).
/// </summary>
public interface IFaceDetector : IDisposable
{
    /// <summary>Model family, for logs and metrics.</summary>
    string Name { get; }

    /// <summary>Faces in one image, highest score first.</summary>
    IReadOnlyList<DetectedFace> Detect(ImageFrame frame);

    /// <summary>
    /// Faces in several images in one call (e.g. one frame from each of several cameras); same-size frames share
    /// network runs. The result has one list per input frame, in input order.
    /// </summary>
    IReadOnlyList<IReadOnlyList<DetectedFace>> DetectBatch(IReadOnlyList<ImageFrame> frames);

    /// <summary>
    /// As <see cref="DetectBatch(IReadOnlyList{ImageFrame})"/>, each image searched only for faces in its size range
    /// (e.g. windows of a frame around tracked faces: the pyramid keeps only the scales that fit). Boxes are in each
    /// image's own coordinates.
    /// </summary>
    IReadOnlyList<IReadOnlyList<DetectedFace>> DetectBatch(IReadOnlyList<ImageFrame> frames, IReadOnlyList<FaceSizeRange> sizes);
}

/// <summary>Face sizes (box side, px) a detection request looks for.</summary>
public readonly record struct FaceSizeRange(float Min, float Max)
{
    /// <summary>Every size the detector's own settings allow.</summary>
    public static readonly FaceSizeRange Any = new(0, float.MaxValue);
}
