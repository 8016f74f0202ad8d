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
/// Any embedder described by a manifest entry (input size, colour order, mean/scale and per-channel mean/std,
/// template): aligns, batches, runs ONNX Runtime and L2-normalises. Every shipped embedder (faceplugin 512-d,
/// MobileFaceNet 192-d, face-api.js's ResNet 128-d on its 150 px dlib-style chip) uses it.
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
    public float Threshold { get; private set; }

    private readonly bool _flip;

    public OnnxFaceEmbedder(ModelStore store, OnnxSessionFactory factory, string modelId, int maxBatch = 16, bool flipFusion = false, bool antialias = false)
    {
        _model = store.Manifest.Get(modelId);
        var spec = _model.Embedding ?? throw new ArgumentException($"model '{modelId}' is not an embedder (role {_model.Role})");
        if (_model.Input.Width != _model.Input.Height)
        {
            throw new NotSupportedException($"model '{modelId}': only square embedder inputs are supported");
        }

        _session = factory.Create(store.Resolve(modelId), _model.GraphOptimization);
        _aligner = new FaceAligner(spec.AlignmentTemplate);
        _chip = new ChipFormat(_model.Input.Width, _model.Input.ColorOrder == "BGR", _model.Input.Mean, _model.Input.Scale, antialias);
        _flip = flipFusion;
        _output = _model.Output("embedding");
        Dimension = spec.Dimension;
        Threshold = spec.Threshold;
        _maxBatch = Math.Max(1, maxBatch);
    }

    /// <summary>Replaces the manifest's default threshold with one calibrated for this deployment.</summary>
    public void UseCalibratedThreshold(float threshold) => Threshold = threshold;

    public IReadOnlyList<FaceEmbedding> Embed(ImageFrame image, IReadOnlyList<Landmarks5> faces) =>
        EmbedMany(faces.Select(f => (image, f)).ToList());

    public IReadOnlyList<FaceEmbedding> EmbedMany(IReadOnlyList<(ImageFrame Image, Landmarks5 Face)> faces)
    {
        var result = new FaceEmbedding[faces.Count];
        int chip = 3 * _chip.Size * _chip.Size;
        // With flip fusion each face's chip is followed by its mirror image in the same batch.
        int views = _flip ? 2 : 1;
        for (int start = 0; start < faces.Count; start += _maxBatch)
        {
            int len = Math.Min(_maxBatch, faces.Count - start);
            int rows = len * views;
            float[] buffer = ArrayPool<float>.Shared.Rent(rows * chip);
            try
            {
                for (int i = 0; i < len; i++)
                {
                    var (image, face) = faces[start + i];
                    var first = buffer.AsSpan(i * views * chip, chip);
                    AffineWarp.ToTensor(image, _aligner.Estimate(face), _chip, first);
                    _model.Input.NormaliseChannels(first, _chip.Size * _chip.Size);
                    if (_flip)
                    {
                        var mirror = buffer.AsSpan(((i * views) + 1) * chip, chip);
                        first.CopyTo(mirror);
                        AffineWarp.MirrorChip(mirror, _chip.Size);
                    }
                }

                using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffer.AsMemory(0, rows * chip),
                    [rows, 3, _chip.Size, _chip.Size]);
                using var outputs = _session.Run(_run, [_model.Input.Name], [input], [_output]);
                var data = outputs[0].GetTensorDataAsSpan<float>();
                if (data.Length != rows * Dimension)
                {
                    throw new InvalidOperationException($"model '{ModelId}' returned {data.Length} values for {rows} faces; the manifest says {Dimension} each");
                }

                for (int i = 0; i < len; i++)
                {
                    var raw = data.Slice(i * views * Dimension, Dimension).ToArray();
                    if (_flip)
                    {
                        // Sum of the raw descriptors (the usual test-time flip augmentation), normalised below.
                        System.Numerics.Tensors.TensorPrimitives.Add(raw, data.Slice(((i * views) + 1) * Dimension, Dimension), raw);
                    }

                    result[start + i] = FaceEmbedding.FromRaw(raw, ModelId);
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
