using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;

namespace FaceStream.Inference.Detection;

/// <summary>Finds faces (box, score, five landmarks) in images.</summary>
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
}
