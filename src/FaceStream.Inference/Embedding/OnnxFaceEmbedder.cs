using System.Buffers;
using FaceStream.Core.Alignment;
using FaceStream.Core.Embeddings;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Inference.Alignment;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace FaceStream.Inference.Embedding;

/// <summary>
/// Any embedder described by a manifest entry (input size, colour order, mean/scale, template): aligns, batches,
/// runs ONNX Runtime and L2-normalises. Both shipped embedders (faceplugin 512-d, MobileFaceNet 192-d) use it.
/// </summary>
public sealed class OnnxFaceEmbedder : IFaceEmbedder
{
    private readonly InferenceSession _session;
    private readonly ModelEntry _model;
    private readonly FaceAligner _aligner;
    private readonly ChipFormat _chip;
    private readonly string _output;
    private readonly int _maxBatch;
    private readonly RunOptions _run = new();

    public string ModelId => _model.Id;
    public int Dimension { get; }
    public float Threshold { get; }

    public OnnxFaceEmbedder(ModelStore store, OnnxSessionFactory factory, string modelId, int maxBatch = 16)
    {
        _model = store.Manifest.Get(modelId);
        var spec = _model.Embedding ?? throw new ArgumentException($"model '{modelId}' is not an embedder (role {_model.Role})");
        if (_model.Input.Width != _model.Input.Height)
        {
            throw new NotSupportedException($"model '{modelId}': only square embedder inputs are supported");
        }

        _session = factory.Create(store.Resolve(modelId), _model.GraphOptimization);
        _aligner = new FaceAligner(spec.AlignmentTemplate);
        _chip = new ChipFormat(_model.Input.Width, _model.Input.ColorOrder == "BGR", _model.Input.Mean, _model.Input.Scale);
        _output = _model.Output("embedding");
        Dimension = spec.Dimension;
        Threshold = spec.Threshold;
        _maxBatch = Math.Max(1, maxBatch);
    }

    public IReadOnlyList<FaceEmbedding> Embed(ImageFrame image, IReadOnlyList<Landmarks5> faces) =>
        EmbedMany(faces.Select(f => (image, f)).ToList());

    public IReadOnlyList<FaceEmbedding> EmbedMany(IReadOnlyList<(ImageFrame Image, Landmarks5 Face)> faces)
    {
        var result = new FaceEmbedding[faces.Count];
        int chip = 3 * _chip.Size * _chip.Size;
        for (int start = 0; start < faces.Count; start += _maxBatch)
        {
            int len = Math.Min(_maxBatch, faces.Count - start);
            float[] buffer = ArrayPool<float>.Shared.Rent(len * chip);
            try
            {
                for (int i = 0; i < len; i++)
                {
                    var (image, face) = faces[start + i];
                    AffineWarp.ToTensor(image, _aligner.Estimate(face), _chip, buffer.AsSpan(i * chip, chip));
                }

                using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffer.AsMemory(0, len * chip),
                    [len, 3, _chip.Size, _chip.Size]);
                using var outputs = _session.Run(_run, [_model.Input.Name], [input], [_output]);
                var data = outputs[0].GetTensorDataAsSpan<float>();
                if (data.Length != len * Dimension)
                {
                    throw new InvalidOperationException($"model '{ModelId}' returned {data.Length} values for {len} faces; the manifest says {Dimension} each");
                }

                for (int i = 0; i < len; i++)
                {
                    result[start + i] = FaceEmbedding.FromRaw(data.Slice(i * Dimension, Dimension).ToArray(), ModelId);
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(buffer);
            }
        }

        return result;
    }

    public void Dispose()
    {
        _session.Dispose();
        _run.Dispose();
    }
}
