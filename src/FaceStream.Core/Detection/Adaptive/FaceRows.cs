using FaceStream.Core.Geometry;

namespace FaceStream.Core.Detection.Adaptive;

/// <summary>
/// Where one camera's faces are, by height in the frame, and how large they are there: per horizontal band, the
/// smallest and largest face seen in the last <see cref="ScanOptions.FaceRowsMemory"/>. A fixed camera sees people's
/// heads on a few rows (at head height: all on the horizon; from above: smaller further up), so a moving blob needs
/// searching only on those rows and for those sizes, not all of it from the smallest face up. One instance per camera;
/// not thread-safe.
/// </summary>
/// <remarks>
/// Learned from the live tracks' faces (whole-frame passes find them anywhere), so a face where none was seen before is
/// found by the next periodic whole-frame pass, at most <see cref="ScanOptions.FullScanInterval"/> later, and from then
/// on its track window follows it. Memory is two half-length buckets (the current and the previous one): bounded, no
/// per-face history.
/// </remarks>
public sealed class FaceRows(ScanOptions options)
{
    private readonly ScanOptions _o = options;
    private int _height;
    private Bucket _current = new(0), _previous = new(0);
    private DateTimeOffset _bucketStart;

    /// <summary>Forget everything (a reconnect, a scene cut, a new frame size).</summary>
    public void Reset() => _height = 0;

    /// <summary>Records the faces of this frame (the live tracks' predicted boxes), before it is planned.</summary>
    public void Observe(DateTimeOffset at, int height, IReadOnlyList<BoxF> faces)
    {
        int bands = _o.FaceRowBands;
        if (_height != height)
        {
            _height = height;
            _current = new Bucket(bands);
            _previous = new Bucket(bands);
            _bucketStart = at;
        }

        var half = _o.FaceRowsMemory / 2;
        if (at - _bucketStart >= half)
        {
            // Two half-memories gone: nothing left; one: the current bucket becomes the previous one.
            _previous = at - _bucketStart >= _o.FaceRowsMemory ? new Bucket(bands) : _current;
            _current = new Bucket(bands);
            _bucketStart = at;
        }

        foreach (var f in faces)
        {
            float size = Math.Max(f.Width, f.Height);
            int band = Math.Clamp((int)((f.Y1 + f.Y2) / 2 / height * bands), 0, bands - 1);
            _current.Add(band, size);
        }
    }

    /// <summary>
    /// This frame is searched whole: its faces count towards <see cref="Known"/>. Only those count, so a camera where
    /// faces are few (a couple of tracks followed over many frames) keeps searching its motion whole.
    /// </summary>
    public void CountWholePass(int faces) => _current.Faces += faces;

    /// <summary>Whether enough faces were tracked at recent whole passes for the rows to mean something (else search everywhere).</summary>
    public bool Known => _height > 0 && _current.Faces + _previous.Faces >= _o.FaceRowsMinFaces;

    /// <summary>
    /// The window cut to the rows where faces were seen, one piece per band with faces, each searched for the sizes
    /// seen there (widened by <see cref="ScanOptions.TrackScaleRange"/>); nothing where no face was seen. Pieces
    /// overlap by the faces' size, so a face on a band's edge is whole in one of them.
    /// </summary>
    public void Split(ScanWindow w, float minFaceSize, List<ScanWindow> into)
    {
        int bands = _o.FaceRowBands;
        float bandHeight = (float)_height / bands;
        float k = _o.TrackScaleRange;
        int first = into.Count;
        for (int b = 0; b < bands; b++)
        {
            float lo = Math.Min(_current.Min[b], _previous.Min[b]);
            float hi = Math.Max(_current.Max[b], _previous.Max[b]);
            if (hi <= 0)
            {
                continue;
            }

            // A face centred in this band reaches half its size (plus box regression's slack) above and below it.
            float reach = 0.75f * hi * k;
            int y1 = Math.Max(w.Y, (int)MathF.Floor((b * bandHeight) - reach));
            int y2 = Math.Min(w.Y + w.Height, (int)MathF.Ceiling(((b + 1) * bandHeight) + reach));
            float minFace = Math.Max(Math.Max(minFaceSize, w.MinFace), lo / k);
            float maxFace = Math.Min(w.MaxFace, Math.Min(hi * k, Math.Min(w.Width, y2 - y1)));
            if (y2 - y1 < minFace || maxFace < minFace)
            {
                continue;
            }

            var piece = new ScanWindow(w.X, y1, w.Width, y2 - y1, minFace, maxFace);
            if (into.Count > first && Joined(into[^1], piece) is { } joined)
            {
                into[^1] = joined;
            }
            else
            {
                into.Add(piece);
            }
        }
    }

    /// <summary>Two pieces of one window as one, when that costs no more P-Net work than both (neighbouring bands of similar sizes).</summary>
    private static ScanWindow? Joined(ScanWindow a, ScanWindow b)
    {
        int y1 = Math.Min(a.Y, b.Y), y2 = Math.Max(a.Y + a.Height, b.Y + b.Height);
        var j = new ScanWindow(a.X, y1, a.Width, y2 - y1, Math.Min(a.MinFace, b.MinFace), Math.Max(a.MaxFace, b.MaxFace));
        return Cost(j) <= Cost(a) + Cost(b) ? j : null;
    }

    /// <summary>P-Net's work on a window, in pixels of its first pyramid level: area ÷ (smallest face ÷ 12)².</summary>
    internal static double Cost(ScanWindow w) => (double)w.Width * w.Height * 144 / (w.MinFace * w.MinFace);

    private sealed class Bucket(int bands)
    {
        public float[] Min { get; } = Enumerable.Repeat(float.MaxValue, bands).ToArray();

        public float[] Max { get; } = new float[bands];

        public int Faces { get; set; }

        public void Add(int band, float size)
        {
            Min[band] = Math.Min(Min[band], size);
            Max[band] = Math.Max(Max[band], size);
        }
    }
}
