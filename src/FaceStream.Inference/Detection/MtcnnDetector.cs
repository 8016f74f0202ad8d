using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using FaceStream.Core.Detection;
using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;
using FaceStream.Inference.Graphs;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace FaceStream.Inference.Detection;

/// <summary>
/// MTCNN (Zhang et al. 2016) with the original weights: image pyramid → P-Net → R-Net → O-Net, box regression,
/// NMS per scale, across scales and after each refinement stage, five landmarks. Faithful to the facenet cascade.
/// </summary>
public sealed class MtcnnDetector : IFaceDetector
{
    private readonly MtcnnOptions _o;
    private readonly InferenceSession _pnet, _rnet, _onet;
    private readonly string _pProb, _pReg, _rProb, _rReg, _oProb, _oReg, _oLandmarks;
    private readonly int _rSize, _oSize;
    private readonly ParallelOptions _parallel;
    private readonly RunOptions _run = new();

    /// <summary>For a P-Net run above <see cref="MtcnnOptions.PNetArenaPixels"/> (a strip of the fewest rows of a level wider than the budget allows): hand the arena's free memory back at the end.</summary>
    private readonly RunOptions _runAndShrink = new();

    public string Name => "mtcnn";

    public MtcnnOptions Options => _o;

    public MtcnnDetector(ModelStore store, OnnxSessionFactory factory, MtcnnOptions options)
    {
        var errors = options.Validate().ToList();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors));
        }

        _o = options;
        var p = store.Manifest.Get("mtcnn-pnet");
        var r = store.Manifest.Get("mtcnn-rnet");
        var o = store.Manifest.Get("mtcnn-onet");
        // Each net takes BGRA bytes; the normalisation from its manifest entry runs inside ONNX Runtime.
        InferenceSession Load(ModelEntry m, bool arena = true) => factory.Create(
            OnnxImagePrefix.Prepend(File.ReadAllBytes(store.Resolve(m.Id)), m.Input.Name, PixelFormat.Bgra32, m.Input.Mean, m.Input.Scale), m.Id, m.GraphOptimization, arena);
        _pnet = Load(p, arena: options.PNetArenaPixels > 0);
        _runAndShrink.AddRunConfigEntry("memory.enable_memory_arena_shrinkage", "cpu:0");
        _rnet = Load(r);
        _onet = Load(o);
        (_pProb, _pReg) = (p.Output("prob"), p.Output("reg"));
        (_rProb, _rReg, _rSize) = (r.Output("prob"), r.Output("reg"), r.Input.Width);
        (_oProb, _oReg, _oLandmarks, _oSize) = (o.Output("prob"), o.Output("reg"), o.Output("landmarks"), o.Input.Width);
        _parallel = new ParallelOptions { MaxDegreeOfParallelism = options.EffectiveParallelism };
    }

    public IReadOnlyList<DetectedFace> Detect(ImageFrame frame) => DetectBatch([frame])[0];

    public IReadOnlyList<IReadOnlyList<DetectedFace>> DetectBatch(IReadOnlyList<ImageFrame> frames) =>
        DetectBatch(frames, [.. Enumerable.Repeat(FaceSizeRange.Any, frames.Count)]);

    /// <remarks>
    /// P-Net runs once per pyramid level of each group of same-size images with the same size range (one tensor for
    /// the group), all groups' levels in one parallel loop; R-Net and O-Net then run once over the candidates of every
    /// image, so many small windows cost a few network runs, not a cascade each. NMS never mixes images, so each
    /// image gets the faces it would get alone.
    /// </remarks>
    public IReadOnlyList<IReadOnlyList<DetectedFace>> DetectBatch(IReadOnlyList<ImageFrame> frames, IReadOnlyList<FaceSizeRange> sizes)
    {
        if (sizes.Count != frames.Count)
        {
            throw new ArgumentException($"{sizes.Count} size ranges for {frames.Count} images");
        }

        int n = frames.Count;
        foreach (var f in frames)
        {
            f.Validate();
            if (Math.Max(f.Width, f.Height) > _o.MaxImageSide)
            {
                throw new ArgumentException($"image {f.Width}x{f.Height} exceeds Detector:Mtcnn:MaxImageSide ({_o.MaxImageSide})");
            }
        }

        var levels = PlanLevels(frames, sizes);
        var empty = Enumerable.Range(0, n).Select(_ => (IReadOnlyList<DetectedFace>)Array.Empty<DetectedFace>()).ToArray();
        if (levels.Count == 0)
        {
            return empty;
        }

        var converted = new byte[n][];
        var pyramids = new SkiaPyramid[n];
        try
        {
            foreach (int k in levels.SelectMany(l => l.Images).Distinct())
            {
                var f = frames[k];
                ReadOnlyMemory<byte> bgra = f.Pixels;
                int stride = f.Stride;
                if (f.Format != PixelFormat.Bgra32)
                {
                    converted[k] = LargeBufferPool.Rent(PixelConversion.BgraSize(f));
                    PixelConversion.ToBgra(f, converted[k]);
                    bgra = converted[k];
                    stride = f.Width * 4;
                }

                pyramids[k] = new SkiaPyramid(bgra, f.Width, f.Height, stride, MtcnnOptions.PNetWindow);
            }

            var windows = RunPNet(pyramids, levels);
            if (windows.Count == 0)
            {
                return empty;
            }

            var span = CollectionsMarshal.AsSpan(windows);
            int kept = NonMaxSuppression.Apply(span, _o.NmsAcrossScales, NmsMode.Union);
            kept = CapPerFrame(span[..kept], _o.MaxRNetCandidates);
            var stage = span[..kept].ToArray();
            BoxRegression.Apply(stage, inclusive: false);
            BoxRegression.Square(stage);
            BoxRegression.Truncate(stage);

            stage = Refine(pyramids, stage, _rnet, _rSize, _rProb, _rReg, null, _o.RNetBatchSize, _o.RNetThreshold, out _);
            kept = NonMaxSuppression.Apply(stage, _o.NmsAfterRNet, NmsMode.Union);
            kept = CapPerFrame(stage.AsSpan(0, kept), _o.MaxONetCandidates);
            stage = stage[..kept];
            BoxRegression.Apply(stage, inclusive: true);
            BoxRegression.Square(stage);
            BoxRegression.Truncate(stage);

            stage = Refine(pyramids, stage, _onet, _oSize, _oProb, _oReg, _oLandmarks, _o.ONetBatchSize, _o.ONetThreshold, out var landmarks);
            // Landmarks are relative to the O-Net input box (before its regression), 5 x values then 5 y values.
            var points = new PointF[stage.Length][];
            for (int i = 0; i < stage.Length; i++)
            {
                ref var c = ref stage[i];
                float bw = c.X2 - c.X1 + 1, bh = c.Y2 - c.Y1 + 1;
                var lm = landmarks.AsSpan(c.Tag * 10, 10);
                var pts = new PointF[5];
                for (int j = 0; j < 5; j++)
                {
                    pts[j] = new PointF((bw * lm[j]) + c.X1 - 1, (bh * lm[5 + j]) + c.Y1 - 1);
                }

                points[i] = pts;
                c.Tag = i;
            }

            BoxRegression.Apply(stage, inclusive: true);
            kept = NonMaxSuppression.Apply(stage, _o.NmsAfterONet, NmsMode.Min);
            if (_o.RefineLandmarks && kept > 0)
            {
                RefineLandmarks(pyramids, stage.AsSpan(0, kept), points);
            }

            var perFrame = new List<DetectedFace>[n];
            for (int k = 0; k < n; k++)
            {
                perFrame[k] = [];
            }

            for (int i = 0; i < kept; i++)
            {
                ref var c = ref stage[i];
                perFrame[c.Frame].Add(new DetectedFace(new BoxF(c.X1, c.Y1, c.X2, c.Y2), c.Score, Landmarks5.FromPoints(points[c.Tag])));
            }

            return perFrame.Select(l => (IReadOnlyList<DetectedFace>)l).ToArray();
        }
        finally
        {
            foreach (var p in pyramids)
            {
                p?.Dispose();
            }

            foreach (var c in converted)
            {
                if (c is not null)
                {
                    LargeBufferPool.Return(c);
                }
            }
        }
    }

    /// <summary>P-Net's runs: each pyramid level of each group of same-size images with the same size range, split so a run keeps at most the arena's budget.</summary>
    private List<PNetLevel> PlanLevels(IReadOnlyList<ImageFrame> frames, IReadOnlyList<FaceSizeRange> sizes)
    {
        var levels = new List<PNetLevel>();
        foreach (var group in Enumerable.Range(0, frames.Count).GroupBy(i => (frames[i].Width, frames[i].Height, sizes[i])))
        {
            var (w, h, size) = group.Key;
            var scales = _o.Scales(Math.Min(w, h), MathF.Max(_o.EffectiveMinFace(w, h), size.Min));
            if (size.Max < float.MaxValue)
            {
                // P-Net at scale s finds faces of about 12 / s px; box regression stretches that by up to ~30 %.
                scales = [.. scales.Where(s => MtcnnOptions.PNetWindow / s <= size.Max * 1.3f)];
            }

            int[] images = [.. group];
            foreach (float s in scales)
            {
                // Same-size images share a run up to the arena's budget, so the memory a run keeps is bounded.
                var level = new PNetLevel(images, w, h, s);
                long perImage = (long)level.LevelWidth * level.LevelHeight;
                int perRun = _o.PNetArenaPixels > 0 ? (int)Math.Clamp(_o.PNetArenaPixels / perImage, 1, images.Length) : images.Length;
                levels.AddRange(images.Chunk(perRun).Select(chunk => level with { Images = chunk }));
            }
        }

        return levels;
    }

    /// <summary>P-Net's windows of one packed BGRA image (after NMS within each level, before NMS across levels): how levels are run is tested on these.</summary>
    internal List<Candidate> PNetWindows(ImageFrame frame)
    {
        using var pyramid = new SkiaPyramid(frame.Pixels, frame.Width, frame.Height, frame.Stride, MtcnnOptions.PNetWindow);
        return RunPNet([pyramid], PlanLevels([frame], [FaceSizeRange.Any]));
    }

    /// <summary>
    /// A second O-Net pass on each final box, squared: O-Net placed the landmarks relative to the R-Net box it was
    /// given, which is often off-centre and of the wrong size; on the final box the face sits where O-Net was trained
    /// to see it. The landmarks drive alignment, so their error becomes embedding error.
    /// </summary>
    private void RefineLandmarks(SkiaPyramid[] pyramids, Span<Candidate> final, PointF[][] points)
    {
        var boxes = final.ToArray();
        BoxRegression.Square(boxes);
        BoxRegression.Truncate(boxes);
        var again = Refine(pyramids, boxes, _onet, _oSize, _oProb, _oReg, _oLandmarks, _o.ONetBatchSize, float.NegativeInfinity, out var landmarks);
        foreach (var r in again)
        {
            // Refine keeps the input order in Tag: boxes[r.Tag] is final[r.Tag] squared.
            ref readonly var box = ref boxes[r.Tag];
            float bw = box.X2 - box.X1 + 1, bh = box.Y2 - box.Y1 + 1;
            var lm = landmarks.AsSpan(r.Tag * 10, 10);
            var pts = points[final[r.Tag].Tag];
            for (int j = 0; j < 5; j++)
            {
                pts[j] = new PointF((bw * lm[j]) + box.X1 - 1, (bh * lm[5 + j]) + box.Y1 - 1);
            }
        }
    }

    /// <summary>One P-Net run: a pyramid level of a group of same-size images.</summary>
    private sealed record PNetLevel(int[] Images, int Width, int Height, float Scale)
    {
        public int LevelWidth => (int)Math.Ceiling(Width * Scale);

        public int LevelHeight => (int)Math.Ceiling(Height * Scale);
    }

    /// <summary>P-Net over every level (in parallel, largest first), NMS within each level.</summary>
    private List<Candidate> RunPNet(SkiaPyramid[] pyramids, List<PNetLevel> levels)
    {
        var perLevel = new List<Candidate>[levels.Count];
        var largestFirst = Enumerable.Range(0, levels.Count).OrderByDescending(i => (long)levels[i].LevelWidth * levels[i].LevelHeight * levels[i].Images.Length);
        var order = Partitioner.Create(largestFirst, EnumerablePartitionerOptions.NoBuffering);
        Parallel.ForEach(order, Parallelism(), l =>
        {
            var level = levels[l];
            int n = level.Images.Length, hs = level.LevelHeight, ws = level.LevelWidth;
            int levelBytes = hs * ws * 4;
            byte[] buffer = LargeBufferPool.Rent(n * levelBytes);
            try
            {
                for (int k = 0; k < n; k++)
                {
                    pyramids[level.Images[k]].DrawScaled(buffer.AsSpan(k * levelBytes, levelBytes), ws, hs);
                }

                // A level of one image over the arena's budget (a large photo; 1080p at 20 px) runs in horizontal strips
                // of at most the budget: P-Net is fully convolutional without padding, so output row i sees input rows
                // 2i … 2i + 11 only, and strips that start on even rows and overlap by 10 give exactly the rows of one
                // run, while the activations (≈ 350 bytes per input pixel) stay within the budget.
                var found = new List<Candidate>();
                int stripRows = StripRows(n, ws, hs);
                for (int top = 0; top + MtcnnOptions.PNetWindow <= hs;)
                {
                    int rows = Math.Min(stripRows, hs - top);
                    var pixels = buffer.AsMemory(top * ws * 4, n * rows * ws * 4);
                    using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels, [n, rows, ws, 4]);
                    var run = _o.PNetArenaPixels > 0 && (long)n * rows * ws > _o.PNetArenaPixels ? _runAndShrink : _run;
                    using var outs = _pnet.Run(run, [OnnxImagePrefix.ImageInput], [input], [_pProb, _pReg]);
                    int outRows = Windows(outs[0], outs[1], level.Images, level.Scale, top / MtcnnOptions.PNetStride, found);
                    if (top + rows >= hs || outRows == 0)
                    {
                        break;
                    }

                    top += outRows * MtcnnOptions.PNetStride;
                }

                int kept = NonMaxSuppression.Apply(CollectionsMarshal.AsSpan(found), _o.NmsWithinScale, NmsMode.Union);
                found.RemoveRange(kept, found.Count - kept);
                perLevel[l] = found;
            }
            finally
            {
                LargeBufferPool.Return(buffer);
            }
        });

        var all = new List<Candidate>(perLevel.Sum(l => l.Count));
        foreach (var l in perLevel)
        {
            all.AddRange(l);
        }

        return all;
    }

    /// <summary>
    /// Adds the windows whose face probability passes the P-Net threshold, mapped back to frame pixels, to
    /// <paramref name="list"/>; <paramref name="firstRow"/> is the run's first output row within the level (its strip's
    /// top ÷ stride). Returns the run's output rows.
    /// </summary>
    private int Windows(OrtValue probValue, OrtValue regValue, int[] images, float scale, int firstRow, List<Candidate> list)
    {
        var shape = probValue.GetTensorTypeAndShape().Shape;
        int mh = (int)shape[2], mw = (int)shape[3];
        var prob = probValue.GetTensorDataAsSpan<float>();
        var reg = regValue.GetTensorDataAsSpan<float>();
        int plane = mh * mw;
        for (int f = 0; f < images.Length; f++)
        {
            var faceProb = prob.Slice(((f * 2) + 1) * plane, plane);
            int regBase = f * 4 * plane;
            for (int i = 0; i < plane; i++)
            {
                float score = faceProb[i];
                if (score < _o.PNetThreshold)
                {
                    continue;
                }

                int row = i / mw, x = i - (row * mw), y = firstRow + row;
                // P-Net's window on the scaled image, mapped back (reference: fix((stride·x + 1) / scale)).
                const int stride = MtcnnOptions.PNetStride, window = MtcnnOptions.PNetWindow;
                list.Add(new Candidate(
                    MathF.Floor(((stride * x) + 1) / scale), MathF.Floor(((stride * y) + 1) / scale),
                    MathF.Floor(((stride * x) + window) / scale), MathF.Floor(((stride * y) + window) / scale), score)
                {
                    Dx1 = reg[regBase + i],
                    Dy1 = reg[regBase + plane + i],
                    Dx2 = reg[regBase + (2 * plane) + i],
                    Dy2 = reg[regBase + (3 * plane) + i],
                    Frame = images[f],
                });
            }
        }

        return mh;
    }

    /// <summary>
    /// Input rows per P-Net run of a level: all of them, unless a single image's level is over the arena's budget; then
    /// as many as the budget holds (even, so every strip starts on P-Net's stride, and at least two output rows).
    /// </summary>
    private int StripRows(int images, int width, int height)
    {
        if (_o.PNetArenaPixels <= 0 || images > 1 || (long)width * height <= _o.PNetArenaPixels)
        {
            return height;
        }

        int rows = (int)Math.Min(height, _o.PNetArenaPixels / width);
        rows -= rows % MtcnnOptions.PNetStride;
        return Math.Max(rows, MtcnnOptions.PNetWindow + MtcnnOptions.PNetStride);
    }

    /// <summary>
    /// The parallel loops' options: on the caller's task scheduler, so a photo analysed on the worker's upload threads
    /// (Api:UploadNice, below the cameras' priority) keeps all of its detection there instead of spreading onto the
    /// thread pool at the cameras' priority (ParallelOptions default to <see cref="TaskScheduler.Default"/>).
    /// </summary>
    private ParallelOptions Parallelism() => TaskScheduler.Current == TaskScheduler.Default ? _parallel
        : new ParallelOptions { MaxDegreeOfParallelism = _parallel.MaxDegreeOfParallelism, TaskScheduler = TaskScheduler.Current };

    /// <summary>Keeps the first <paramref name="max"/> windows of each frame (the span is sorted by score).</summary>
    private static int CapPerFrame(Span<Candidate> sorted, int max)
    {
        var counts = new Dictionary<int, int>();
        int kept = 0;
        for (int i = 0; i < sorted.Length; i++)
        {
            int c = counts.GetValueOrDefault(sorted[i].Frame);
            if (c < max)
            {
                counts[sorted[i].Frame] = c + 1;
                sorted[kept++] = sorted[i];
            }
        }

        return kept;
    }

    /// <summary>
    /// Crops every window (black outside the frame), runs the refinement net in capped batches and keeps windows
    /// scoring above the threshold, carrying the net's regression offsets. <paramref name="landmarks"/> is indexed
    /// by each kept window's Tag.
    /// </summary>
    private Candidate[] Refine(SkiaPyramid[] pyramids, Candidate[] windows, InferenceSession net, int size,
        string probName, string regName, string? landmarkName, int batch, float threshold, out float[] landmarks)
    {
        int count = windows.Length;
        var prob = new float[count];
        var reg = new float[count * 4];
        var lm = landmarkName is null ? [] : new float[count * 10];
        string[] outputs = landmarkName is null ? [probName, regName] : [probName, regName, landmarkName];
        int tile = size * size * 4;
        // Split evenly over the cores (a fixed 256-crop chunk left one core idle on typical counts), capped by the
        // configured batch size to bound memory.
        batch = Math.Clamp((count + _parallel.MaxDegreeOfParallelism - 1) / _parallel.MaxDegreeOfParallelism, 1, batch);
        int chunks = (count + batch - 1) / batch;
        Parallel.For(0, chunks, Parallelism(), chunk =>
        {
            int start = chunk * batch, len = Math.Min(batch, count - start);
            byte[] pixels = ArrayPool<byte>.Shared.Rent(len * tile);
            int[] tiles = ArrayPool<int>.Shared.Rent(len);
            float[] rects = ArrayPool<float>.Shared.Rent(len * 4);
            try
            {
                pixels.AsSpan(0, len * tile).Clear();
                for (int frame = 0; frame < pyramids.Length; frame++)
                {
                    int m = 0;
                    for (int i = 0; i < len; i++)
                    {
                        ref readonly var c = ref windows[start + i];
                        if (c.Frame != frame)
                        {
                            continue;
                        }

                        // The reference crops pixels x1−1 … x2−1 of a 1-based inclusive box: continuous range [x1−1, x2].
                        tiles[m] = i;
                        rects[(4 * m) + 0] = c.X1 - 1; rects[(4 * m) + 1] = c.Y1 - 1;
                        rects[(4 * m) + 2] = c.X2; rects[(4 * m) + 3] = c.Y2;
                        m++;
                    }

                    if (m > 0)
                    {
                        pyramids[frame].DrawCrops(pixels.AsSpan(0, len * tile), len, tiles.AsSpan(0, m), rects.AsSpan(0, 4 * m), size);
                    }
                }

                using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels.AsMemory(0, len * tile), [len, size, size, 4]);
                using var outs = net.Run(_run, [OnnxImagePrefix.ImageInput], [input], outputs);
                var p = outs[0].GetTensorDataAsSpan<float>();
                for (int i = 0; i < len; i++)
                {
                    prob[start + i] = p[(2 * i) + 1];
                }

                outs[1].GetTensorDataAsSpan<float>().CopyTo(reg.AsSpan(start * 4, len * 4));
                if (landmarkName is not null)
                {
                    outs[2].GetTensorDataAsSpan<float>().CopyTo(lm.AsSpan(start * 10, len * 10));
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(pixels);
                ArrayPool<int>.Shared.Return(tiles);
                ArrayPool<float>.Shared.Return(rects);
            }
        });

        var kept = new List<Candidate>();
        for (int i = 0; i < count; i++)
        {
            if (prob[i] > threshold)
            {
                var c = windows[i];
                c.Score = prob[i];
                c.Dx1 = reg[4 * i]; c.Dy1 = reg[(4 * i) + 1]; c.Dx2 = reg[(4 * i) + 2]; c.Dy2 = reg[(4 * i) + 3];
                c.Tag = i;
                kept.Add(c);
            }
        }

        landmarks = lm;
        return kept.ToArray();
    }

    public void Dispose()
    {
        _pnet.Dispose(); _rnet.Dispose(); _onet.Dispose();
        _run.Dispose();
        _runAndShrink.Dispose();
    }
}
