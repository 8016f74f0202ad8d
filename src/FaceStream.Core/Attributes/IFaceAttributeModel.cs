using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;

namespace FaceStream.Core.Attributes;

/// <summary>One attribute model: reads one property of detected faces.</summary>
public interface IFaceAttributeModel<T> : IDisposable
{
    /// <summary>Manifest id of the model.</summary>
    string ModelId { get; }

    /// <summary>
    /// One estimate per face, in input order. Faces may come from different images; they share network runs, and the
    /// result equals estimating each face alone.
    /// </summary>
    IReadOnlyList<T> Estimate(IReadOnlyList<(ImageFrame Image, DetectedFace Face)> faces);
}

/// <summary>Age in years.</summary>
public interface IAgeEstimator : IFaceAttributeModel<AgeEstimate>;

/// <summary>Female or male, with a confidence.</summary>
public interface IGenderClassifier : IFaceAttributeModel<GenderEstimate>;

/// <summary>Yaw, pitch and roll in degrees.</summary>
public interface IHeadPoseEstimator : IFaceAttributeModel<HeadPose>;

/// <summary>Facial expression class.</summary>
public interface IExpressionClassifier : IFaceAttributeModel<ExpressionEstimate>;

/// <summary>Eyes open or closed.</summary>
public interface IEyeStateClassifier : IFaceAttributeModel<EyeStateEstimate>;
