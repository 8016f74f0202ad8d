using FaceStream.Core.Attributes;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;

namespace FaceStream.Inference.Attributes;

/// <summary>
/// "Closed" only when all three eye models say so: the face mesh's and the iris model's eyelid openness both under
/// <see cref="OpennessBelow"/> on both eyes, and faceplugin's mean closed probability over 0.5. Each alone calls
/// open faces closed (squints, lids lowered over a downward look, small grey faces); the three err on different faces.
/// Measured on faces labelled by looking (docs/attributes.md, "Closed eyes from three models together"): 6 of 9 ORL
/// shut-eye photos caught and none of 425 open faces refused at the default detector settings; the shut photos sit
/// near the thresholds, so MTCNN's landmarks moving by a pixel (MinFaceSize 40) leave 4 of 9 caught (still none of
/// the open faces refused). Used by enrollment to refuse closed eyes.
/// </summary>
public sealed class ConsensusEyeState(ModelStore store, OnnxSessionFactory factory) : IEyeStateClassifier
{
    /// <summary>Openness (more open eye) under which both landmark models must read a face.</summary>
    public const float OpennessBelow = 0.18f;

    private readonly FacemeshEyeState _mesh = new(store, factory, closedBelow: OpennessBelow);
    private readonly MediaPipeIrisEyeState _iris = new(store, factory, closedBelow: OpennessBelow);
    private readonly FacepluginEyeStateClassifier _vendor = new(store, factory);

    public string ModelId => $"{_mesh.ModelId}+{_iris.ModelId}+{_vendor.ModelId}";

    /// <summary>Per face: closed when all three agree; the closed probabilities are faceplugin's, the openness the mesh's.</summary>
    public IReadOnlyList<EyeStateEstimate> Estimate(IReadOnlyList<(ImageFrame Image, DetectedFace Face)> faces)
    {
        var mesh = _mesh.Estimate(faces);
        var iris = _iris.Estimate(faces);
        var vendor = _vendor.Estimate(faces);
        return faces.Select((_, i) => new EyeStateEstimate(
            mesh[i].State == EyeState.Closed && iris[i].State == EyeState.Closed && vendor[i].State == EyeState.Closed ? EyeState.Closed : EyeState.Open,
            vendor[i].LeftClosed, vendor[i].RightClosed, mesh[i].LeftOpenness, mesh[i].RightOpenness)).ToList();
    }

    public void Dispose()
    {
        _mesh.Dispose();
        _iris.Dispose();
        _vendor.Dispose();
    }
}
