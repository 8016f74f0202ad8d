using System.Buffers;
using FaceStream.Core.Alignment;
using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace FaceStream.Inference.Attributes;

/// <summary>
/// The part every attribute model shares: the session, the input contract from the manifest (size, colour order,
/// normalisation), square crops written into the input tensor, and batched runs. A graph whose batch dimension is
/// fixed at 1 runs one face per call; a dynamic one takes up to <see cref="MaxBatch"/> faces per call.
/// </summary>
internal sealed class AttributeNetwork : IDisposable
{
    public const int MaxBatch = 16;

    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private readonly int _batch;

    // Runs in flight, so that Dispose never frees the session under one (a worker stopping while its embed stage is
    // still reading attributes: a native crash otherwise). Guarded by _gate.
    private readonly object _gate = new();
    private int _running;
    private bool _disposed;

    public ModelEntry Model { get; }
    public int Size { get; }
    public int Channels { get; }

    /// <param name="colorOrder">Overrides the manifest's colour order (RGB or BGR): for measuring which one a model wants.</param>
    public AttributeNetwork(ModelStore store, OnnxSessionFactory factory, string modelId, string role, string? colorOrder = null)
    {
        Model = store.Manifest.Get(modelId);
        if (colorOrder is not null)
        {
            Model = Model with { Input = Model.Input with { ColorOrder = colorOrder } };
        }

        if (Model.Role != role)
        {
            throw new ArgumentException($"model '{modelId}' has role '{Model.Role}', not '{role}'");
        }

        if (Model.Input.Width != Model.Input.Height)
        {
            throw new NotSupportedException($"model '{modelId}': only square inputs are supported");
        }

        Size = Model.Input.Width;
        Channels = Model.Input.ColorOrder == "GREY" ? 1 : 3;
        _session = factory.Create(store.Resolve(modelId), Model.GraphOptimization);
        _batch = _session.InputMetadata[Model.Input.Name].Dimensions[0] > 0 ? 1 : MaxBatch;
    }

    public int ChipLength => Channels * Size * Size;

    /// <summary>Image → chip transform for a square region centred at (<paramref name="cx"/>, <paramref name="cy"/>) with side <paramref name="side"/> pixels.</summary>
    public SimilarityTransform SquareRegion(float cx, float cy, float side)
    {
        float s = Size / MathF.Max(1f, side);
        return new SimilarityTransform(s, 0, (Size / 2f) - (s * cx), (Size / 2f) - (s * cy));
    }

    /// <summary>The square of side <paramref name="grow"/> × the box's larger side, centred on the box.</summary>
    public SimilarityTransform AroundBox(BoxF box, float grow) =>
        SquareRegion(box.Center.X, box.Center.Y, grow * MathF.Max(box.Width, box.Height));

    /// <summary>The square of side <paramref name="grow"/> × the box's larger side, centred on the box and turned so the eyes are level.</summary>
    public SimilarityTransform Levelled(BoxF box, Core.Faces.Landmarks5 eyes, float grow) =>
        LevelledAt(box.Center, eyes, grow * MathF.Max(box.Width, box.Height));

    /// <summary>Eye fissure width ≈ 30 mm against an inter-pupil distance ≈ 63 mm (adult anthropometry).</summary>
    public const float EyeWidthPerEyeDistance = 0.47f;

    /// <summary>
    /// The square of side <paramref name="cropPerEyeWidth"/> × the eye's width (taken as
    /// <see cref="EyeWidthPerEyeDistance"/> of the eye distance: five landmarks have no eye corners), centred on one
    /// eye (the one on the image's left or right) and turned so the eye line is level.
    /// </summary>
    public SimilarityTransform AroundEye(Core.Faces.Landmarks5 eyes, bool left, float cropPerEyeWidth)
    {
        float dx = eyes.RightEye.X - eyes.LeftEye.X, dy = eyes.RightEye.Y - eyes.LeftEye.Y;
        float distance = MathF.Max(1f, MathF.Sqrt((dx * dx) + (dy * dy)));
        return LevelledAt(left ? eyes.LeftEye : eyes.RightEye, eyes, cropPerEyeWidth * EyeWidthPerEyeDistance * distance);
    }

    /// <summary>
    /// Runs one chip per eye (<see cref="AroundEye"/>) of each face and returns each face's output row for the eye on
    /// the image's left and the one on its right; <paramref name="mirrorRight"/> mirrors the right eye's chip (for a
    /// model trained on one side's eyes).
    /// </summary>
    public (float[] Left, float[] Right)[] RunEyes(IReadOnlyList<(ImageFrame Image, Core.Faces.DetectedFace Face)> faces, float cropPerEyeWidth, bool mirrorRight, string role)
    {
        // Chips 2i and 2i+1: the left and the right eye of face i.
        var rows = Run(2 * faces.Count, (i, chip) =>
        {
            var (image, face) = faces[i / 2];
            Fill(image, AroundEye(face.Landmarks, left: i % 2 == 0, cropPerEyeWidth), chip);
            if (mirrorRight && i % 2 == 1)
            {
                for (int row = 0; row < chip.Length / Size; row++)
                {
                    chip.Slice(row * Size, Size).Reverse();
                }
            }
        }, role)[0];
        return Enumerable.Range(0, faces.Count).Select(i => (rows[2 * i], rows[(2 * i) + 1])).ToArray();
    }

    /// <summary>The square of side <paramref name="side"/> centred on <paramref name="c"/>, turned by minus the eye line's angle.</summary>
    private SimilarityTransform LevelledAt(PointF c, Core.Faces.Landmarks5 eyes, float side)
    {
        float dx = eyes.RightEye.X - eyes.LeftEye.X, dy = eyes.RightEye.Y - eyes.LeftEye.Y;
        float d = MathF.Max(1e-3f, MathF.Sqrt((dx * dx) + (dy * dy)));
        float s = Size / MathF.Max(1f, side);
        float a = s * dx / d, b = -s * dy / d, half = Size / 2f;
        return new SimilarityTransform(a, b, half - ((a * c.X) - (b * c.Y)), half - ((b * c.X) + (a * c.Y)));
    }

    /// <summary>Writes the region into one chip of the input tensor, normalised as the manifest says.</summary>
    public void Fill(ImageFrame image, SimilarityTransform imageToChip, Span<float> chip)
    {
        var input = Model.Input;
        int plane = Size * Size;
        if (Channels == 1)
        {
            AffineWarp.ToGrey(image, imageToChip, Size, chip);
            for (int i = 0; i < plane; i++)
            {
                chip[i] = (chip[i] - input.Mean) * input.Scale;
            }

            return;
        }

        AffineWarp.ToTensor(image, imageToChip, new ChipFormat(Size, input.ColorOrder == "BGR", input.Mean, input.Scale, Antialias: true), chip);
        input.NormaliseChannels(chip, plane);
    }

    /// <summary>
    /// Runs <paramref name="count"/> chips (written by <paramref name="fill"/>) and returns, for each requested output
    /// role, count rows of that output's values (row i = chip i).
    /// </summary>
    public float[][][] Run(int count, Action<int, Span<float>> fill, params string[] roles)
    {
        var names = roles.Select(Model.Output).ToArray();
        var result = roles.Select(_ => new float[count][]).ToArray();
        int chip = ChipLength;
        for (int start = 0; start < count; start += _batch)
        {
            int len = Math.Min(_batch, count - start);
            float[] buffer = ArrayPool<float>.Shared.Rent(len * chip);
            try
            {
                for (int i = 0; i < len; i++)
                {
                    fill(start + i, buffer.AsSpan(i * chip, chip));
                }

                using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffer.AsMemory(0, len * chip),
                    [len, Channels, Size, Size]);
                using var outputs = RunSession(input, names);
                for (int o = 0; o < names.Length; o++)
                {
                    var data = outputs[o].GetTensorDataAsSpan<float>();
                    int width = data.Length / len;
                    for (int i = 0; i < len; i++)
                    {
                        result[o][start + i] = data.Slice(i * width, width).ToArray();
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(buffer);
            }
        }

        return result;
    }

    private IDisposableReadOnlyCollection<OrtValue> RunSession(OrtValue input, string[] names)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _running++;
        }

        try
        {
            return _session.Run(_run, [Model.Input.Name], [input], names);
        }
        finally
        {
            lock (_gate)
            {
                _running--;
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Softmax of raw scores (in place on a copy).</summary>
    public static float[] Softmax(ReadOnlySpan<float> logits)
    {
        var p = logits.ToArray();
        System.Numerics.Tensors.TensorPrimitives.SoftMax(logits, p);
        return p;
    }

    /// <summary>Stops runs in flight (ONNX Runtime's terminate flag: they throw), waits for them to return, then frees the session.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _run.Terminate = true;
            while (_running > 0)
            {
                Monitor.Wait(_gate);
            }
        }

        _session.Dispose();
        _run.Dispose();
    }
}
