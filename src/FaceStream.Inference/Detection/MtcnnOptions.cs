namespace FaceStream.Inference.Detection;

/// <summary>Config section "Detector:Mtcnn": cascade settings. Defaults are the reference MTCNN's (see MODELS.md).</summary>
public sealed class MtcnnOptions
{
    public const string Section = "Detector:Mtcnn";

    /// <summary>P-Net's receptive field in pixels: a fact of the network, not a tunable.</summary>
    public const int PNetWindow = 12;

    /// <summary>P-Net's output stride (one 2×2 max-pool).</summary>
    public const int PNetStride = 2;

    /// <summary>
    /// Smallest face (px) the image pyramid is built for: photos (detect, enroll, uploads) are searched from here, cameras
    /// from the larger of this and Quality:MinFaceSize (40), the smallest face they embed. 20 finds small faces; 40 is
    /// about 2–3× faster.
    /// </summary>
    public int MinFaceSize { get; set; } = 20;

    /// <summary>Ratio between pyramid scales.</summary>
    public float ScaleFactor { get; set; } = 0.709f;

    public float PNetThreshold { get; set; } = 0.6f;
    public float RNetThreshold { get; set; } = 0.7f;
    public float ONetThreshold { get; set; } = 0.7f;

    /// <summary>IoU for NMS inside one pyramid scale.</summary>
    public float NmsWithinScale { get; set; } = 0.5f;

    /// <summary>IoU for NMS over all scales (after P-Net).</summary>
    public float NmsAcrossScales { get; set; } = 0.7f;

    /// <summary>IoU for NMS after R-Net.</summary>
    public float NmsAfterRNet { get; set; } = 0.7f;

    /// <summary>Overlap (intersection over the smaller box) for the final NMS after O-Net.</summary>
    public float NmsAfterONet { get; set; } = 0.7f;

    /// <summary>At most this many P-Net windows go on to R-Net per image (highest scores kept).</summary>
    public int MaxRNetCandidates { get; set; } = 2000;

    /// <summary>At most this many R-Net windows go on to O-Net per image.</summary>
    public int MaxONetCandidates { get; set; } = 400;

    /// <summary>Crops per R-Net run (bounded memory: unbounded candidate batches are a known out-of-memory cause).</summary>
    public int RNetBatchSize { get; set; } = 256;

    /// <summary>Crops per O-Net run.</summary>
    public int ONetBatchSize { get; set; } = 64;

    /// <summary>Threads that run pyramid scales and crop batches in parallel (0 = one per core).</summary>
    public int Parallelism { get; set; }

    /// <summary>Largest image side accepted (protects memory: the float frame tensor is 12 bytes per pixel).</summary>
    public int MaxImageSide { get; set; } = 8192;

    /// <summary>
    /// Most pixels of P-Net's largest pyramid level (the first, at scale 12 / min face): bounds a very large photo's
    /// detection time (uncapped, an 8000×8000 photo at min face 20 took 45 s, and 5.6 GB before P-Net ran in strips of
    /// <see cref="PNetArenaPixels"/>). Larger images have their smallest face raised to 12·√(pixels / this) px (see <see cref="EffectiveMinFace"/>).
    /// </summary>
    public long MaxPyramidPixels { get; set; } = 4_000_000;

    /// <summary>
    /// Pixels of P-Net input (images × level width × level height) one run may take while ONNX Runtime keeps the run's
    /// working memory in its arena for the next run: about 350 bytes per input pixel of the runs in flight (measured on
    /// a 48 MP photo, 2026-12-02: 0.77 GB peak at 250 000, 1.31 GB at 1 000 000). Same-size images of a batch are split
    /// into runs of at most this many pixels, and a level of one image that is larger (a large photo; 1080p at 20 px)
    /// runs in horizontal strips of this size, which find exactly the windows of one run (P-Net has no padding). So
    /// what the arena pins stays near budget × 350 bytes per detector thread. 250 000 costs no measurable CPU against
    /// 1 000 000 and holds 0.4–0.5 GB less at eight 1080p cameras (docs/benchmarks.md, issue 12). 0 = no arena and
    /// whole levels (the behaviour before 2026-12-02): every run then maps and faults in fresh pages, which cost 10–45 %
    /// of the detector's CPU at 1080p / 40 px and about three quarters at 20 px on the loaded 2-core VM.
    /// </summary>
    public long PNetArenaPixels { get; set; } = 250_000;

    /// <summary>Run O-Net once more on each final box to place the five landmarks (better alignment; one O-Net crop per face).</summary>
    public bool RefineLandmarks { get; set; } = true;

    public int EffectiveParallelism => Parallelism > 0 ? Parallelism : Environment.ProcessorCount;

    public IEnumerable<string> Validate()
    {
        if (MinFaceSize < PNetWindow || MinFaceSize > 4096)
        {
            yield return $"{Section}:MinFaceSize = {MinFaceSize} must be between {PNetWindow} and 4096 px (P-Net's window is {PNetWindow} px)";
        }

        if (!(ScaleFactor > 0.1f && ScaleFactor < 0.95f))
        {
            yield return $"{Section}:ScaleFactor = {ScaleFactor} must be in (0.1, 0.95)";
        }

        foreach (var (name, v) in new[] { ("PNetThreshold", PNetThreshold), ("RNetThreshold", RNetThreshold), ("ONetThreshold", ONetThreshold),
                     ("NmsWithinScale", NmsWithinScale), ("NmsAcrossScales", NmsAcrossScales), ("NmsAfterRNet", NmsAfterRNet), ("NmsAfterONet", NmsAfterONet) })
        {
            if (!(v > 0f && v < 1f))
            {
                yield return $"{Section}:{name} = {v} must be in (0, 1)";
            }
        }

        foreach (var (name, v) in new[] { ("MaxRNetCandidates", MaxRNetCandidates), ("MaxONetCandidates", MaxONetCandidates), ("RNetBatchSize", RNetBatchSize), ("ONetBatchSize", ONetBatchSize) })
        {
            if (v < 1 || v > 100_000)
            {
                yield return $"{Section}:{name} = {v} must be between 1 and 100000";
            }
        }

        if (Parallelism < 0 || Parallelism > 256)
        {
            yield return $"{Section}:Parallelism = {Parallelism} must be between 0 (one per core) and 256";
        }

        if (MaxPyramidPixels is < 100_000 or > 1_000_000_000)
        {
            yield return $"{Section}:MaxPyramidPixels = {MaxPyramidPixels} must be between 100000 and 1000000000";
        }

        if (PNetArenaPixels is < 0 or > 100_000_000)
        {
            yield return $"{Section}:PNetArenaPixels = {PNetArenaPixels} must be between 0 (no arena) and 100000000";
        }

        if (MaxImageSide < 64)
        {
            yield return $"{Section}:MaxImageSide = {MaxImageSide} must be at least 64";
        }
    }

    /// <summary>
    /// The smallest face (px, in the image's own pixels) searched for in a <paramref name="width"/>×<paramref name="height"/>
    /// image: <see cref="MinFaceSize"/>, raised for very large images so that P-Net's first level (pixels × (12 / min face)²)
    /// stays within <see cref="MaxPyramidPixels"/>. Work and memory per image are then bounded whatever its size, at
    /// the price of faces smaller than about 0.6 % of the side of an 8000×8000 photo (48 px there).
    /// </summary>
    public float EffectiveMinFace(int width, int height) =>
        MathF.Max(MinFaceSize, (float)(PNetWindow * Math.Sqrt((double)width * height / MaxPyramidPixels)));

    /// <summary>Pyramid scales for an image whose shorter side is <paramref name="minSide"/> (reference algorithm).</summary>
    public IReadOnlyList<float> Scales(int minSide) => Scales(minSide, MinFaceSize);

    /// <summary>Pyramid scales for the smallest face <paramref name="minFace"/> (px).</summary>
    public IReadOnlyList<float> Scales(int minSide, float minFace)
    {
        var scales = new List<float>();
        float m = PNetWindow / minFace;
        float minl = minSide * m;
        float scale = m;
        while (minl >= PNetWindow)
        {
            scales.Add(scale);
            scale *= ScaleFactor;
            minl *= ScaleFactor;
        }

        return scales;
    }
}
