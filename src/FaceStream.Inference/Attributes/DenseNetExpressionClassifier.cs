using FaceStream.Core.Attributes;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;

namespace FaceStream.Inference.Attributes;

/// <summary>
/// Expression from faceplugin's fr_expression.onnx (DenseNet-121, 7 classes): 224×224 RGB, v/255, the vendor's crop
/// (the box's top-left corner, 1.2 × its width and height). The vendor names no classes; the order used is the
/// FER-2013 one, and only "happy" was confirmed on labelled faces (docs/attributes.md): experimental.
/// </summary>
public sealed class DenseNetExpressionClassifier(ModelStore store, OnnxSessionFactory factory, string modelId = DenseNetExpressionClassifier.DefaultModel) : IExpressionClassifier
{
    public const string DefaultModel = "densenet-expression";

    public static readonly string[] Labels = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"];

    private const float CropGrowth = 1.2f;

    private readonly AttributeNetwork _net = new(store, factory, modelId, "expression");

    public string ModelId => _net.Model.Id;

    public IReadOnlyList<ExpressionEstimate> Estimate(IReadOnlyList<(ImageFrame Image, DetectedFace Face)> faces)
    {
        var outs = _net.Run(faces.Count, (i, chip) =>
        {
            var b = faces[i].Face.Box;
            float side = CropGrowth * MathF.Max(b.Width, b.Height);
            _net.Fill(faces[i].Image, _net.SquareRegion(b.X1 + (side / 2), b.Y1 + (side / 2), side), chip);
        }, "scores");
        return outs[0].Select(logits =>
        {
            var p = AttributeNetwork.Softmax(logits);
            var scores = p.Select((v, k) => new KeyValuePair<string, float>(k < Labels.Length ? Labels[k] : $"class{k}", v)).ToList();
            return new ExpressionEstimate(scores.MaxBy(s => s.Value).Key, scores);
        }).ToList();
    }

    public void Dispose() => _net.Dispose();
}
