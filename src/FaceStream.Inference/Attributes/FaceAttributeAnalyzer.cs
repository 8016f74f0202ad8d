using FaceStream.Core.Attributes;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;

namespace FaceStream.Inference.Attributes;

/// <summary>
/// Every attribute model behind one call: age, gender, head pose, expression and eye state for detected faces. The
/// choice of model per attribute and which outputs are experimental follow the measurements in docs/attributes.md.
/// Thread-safe (ONNX Runtime sessions may run concurrently).
/// </summary>
public sealed class FaceAttributeAnalyzer : IDisposable
{
    private readonly FaceresGenderAgeModel _genderAge;
    private readonly IHeadPoseEstimator _pose;
    private readonly IExpressionClassifier _expression;
    private readonly IEyeStateClassifier _eyes;

    /// <summary>Which model answers each attribute and whether that answer is experimental (JSON: "models", "experimental").</summary>
    public IReadOnlyList<AttributeSource> Sources { get; }

    public FaceAttributeAnalyzer(ModelStore store, OnnxSessionFactory factory)
    {
        var created = new List<IDisposable>();
        T Add<T>(T model)
            where T : IDisposable
        {
            created.Add(model);
            return model;
        }

        try
        {
            // faceres over SSR-Net for both: measured in docs/attributes.md (gender accuracy on the dev set).
            _genderAge = Add(new FaceresGenderAgeModel(store, factory));
            _pose = Add(new HopenetPoseEstimator(store, factory));
            _expression = Add(new DenseNetExpressionClassifier(store, factory));
            _eyes = Add(new FacepluginEyeStateClassifier(store, factory));
        }
        catch
        {
            created.ForEach(m => m.Dispose());
            throw;
        }

        Sources =
        [
            new("age", _genderAge.ModelId, Experimental: true),
            new("gender", _genderAge.ModelId, Experimental: false),
            // Roll follows turned photos within ±5°; yaw does not reliably flip sign on mirrored photos (docs/attributes.md).
            new("pose", _pose.ModelId, Experimental: true),
            new("expression", _expression.ModelId, Experimental: true),
            new("eyes", _eyes.ModelId, Experimental: true),
        ];
    }

    /// <summary>Attributes of faces from one or several images, in input order; batched per model.</summary>
    /// <param name="cancel">Checked between the models (a stopping worker): throws <see cref="OperationCanceledException"/>.</param>
    public IReadOnlyList<FaceAttributes> Analyze(IReadOnlyList<(ImageFrame Image, DetectedFace Face)> faces, CancellationToken cancel = default)
    {
        if (faces.Count == 0)
        {
            return [];
        }

        var genderAge = _genderAge.EstimateBoth(faces);
        cancel.ThrowIfCancellationRequested();
        var pose = _pose.Estimate(faces);
        cancel.ThrowIfCancellationRequested();
        var expression = _expression.Estimate(faces);
        cancel.ThrowIfCancellationRequested();
        var eyes = _eyes.Estimate(faces);
        return Enumerable.Range(0, faces.Count).Select(i => new FaceAttributes(genderAge[i].Age, genderAge[i].Gender, pose[i], expression[i], eyes[i])).ToList();
    }

    public IReadOnlyList<FaceAttributes> Analyze(ImageFrame image, IReadOnlyList<DetectedFace> faces) =>
        Analyze(faces.Select(f => (image, f)).ToList());

    public void Dispose()
    {
        _genderAge.Dispose();
        _pose.Dispose();
        _expression.Dispose();
        _eyes.Dispose();
    }
}
