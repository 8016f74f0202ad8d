using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;

namespace FaceStream.Core.Detection.Adaptive;

/// <summary>Settings of the per-camera motion mask (section <c>Detector:Adaptive</c>).</summary>
public sealed record MotionOptions
{
    /// <summary>Width of the grey working copy in cells; a 1080p frame becomes 160 × 90 cells of 12 × 12 px.</summary>
    public int CellsAcross { get; init; } = 160;

    /// <summary>Grey-level change of a cell (after removing the frame's global shift) that counts as motion.</summary>
    public int Threshold { get; init; } = 18;

    /// <summary>Smallest moving blob kept, in cells (at 160 cells across, 6 cells ≈ a 30 × 30 px patch of a 1080p frame).</summary>
    public int MinCells { get; init; } = 6;

    /// <summary>
    /// Share of the frame that may move before the mask gives up and asks for a full pass: camera shake, a pan, an
    /// IR switch or auto-exposure swinging move everything at once, and then regions carry no information.
    /// </summary>
    public float MaxMovingShare { get; init; } = 0.35f;

    /// <summary>
    /// More than <see cref="MaxMovingShare"/> moving is still people, not the camera, when at least this share of the
    /// frame's tiles (8 × 8 cells) stays still: a crowd leaves the walls, the ceiling and the floor alone, a shake, a pan
    /// or an IR switch moves every textured tile. 1 (the default) turns this off: every large motion is a scene change.
    /// 0.25 is the measured crowd setting (docs/adaptive-detection.md).
    /// </summary>
    public float CrowdStillTiles { get; init; } = 1f;

    /// <summary>How fast the background follows the scene, per analysed frame (0.05 at 5 fps ≈ a 4 s memory).</summary>
    public float BackgroundRate { get; init; } = 0.05f;

    /// <summary>
    /// A cell moves only when its grey is outside the range of the background's cells within this many cells of it
    /// (plus <see cref="Threshold"/>): a hand-held or wind-shaken camera shifts edges by a few pixels, which otherwise
    /// turns every edge of the scene into motion; a view moved further than that (a pan, a knock) is a scene change.
    /// 0 (the default) compares each cell with its own background only; 1 is the measured setting for a hand-held or
    /// shaking camera (docs/adaptive-detection.md).
    /// </summary>
    public int JitterCells { get; init; }
}

/// <summary>What moved in one frame: padded regions in frame pixels, or <see cref="WholeFrame"/> when the mask gave up.</summary>
public sealed record MotionResult(IReadOnlyList<BoxF> Regions, float MovingShare, bool WholeFrame)
{
    public static readonly MotionResult Still = new([], 0, false);
}

/// <summary>
/// Running-background motion mask of one camera. Owns its buffers (no allocation per frame once the frame size is
/// known); one instance per camera, called from that camera's detect loop only.
/// </summary>
/// <remarks>
/// Why our own rather than a library: the only served computer-vision packages bring OpenCV's native build (tens of
/// MB) for what is a block average, a subtraction and a connected-components pass on ~15k cells.
/// Each cell is the mean grey of a block of pixels, so sensor noise averages out before the threshold; the median
/// signed difference (the frame's global shift) is removed first, so a lighting change that brightens everything is
/// not motion; an opening (erode then dilate) drops isolated cells that compression artefacts make.
/// </remarks>
public sealed class MotionDetector(MotionOptions options)
{
    private readonly MotionOptions _o = options;
    private int _frameW, _frameH, _block, _w, _h;
    private float[] _background = [];
    private byte[] _grey = [], _mask = [], _scratch = [];
    private int[] _stack = [];
    private readonly int[] _histogram = new int[511];
    private bool _primed;

    /// <summary>Forget the background (after a reconnect or a scene cut): the next frame primes it and reports <see cref="MotionResult.WholeFrame"/>.</summary>
    public void Reset() => _primed = false;

    public MotionResult Update(ImageFrame frame)
    {
        Resize(frame.Width, frame.Height);
        Downsample(frame);
        if (!_primed)
        {
            for (int i = 0; i < _grey.Length; i++)
            {
                _background[i] = _grey[i];
            }

            _primed = true;
            return new MotionResult([], 1, true);
        }

        int shift = GlobalShift();
        int moving = Threshold(shift);
        float share = (float)moving / _mask.Length;
        bool viewMoved = _o.JitterCells > 0 && share > 0.05f && ViewMoved(shift);
        if (viewMoved || (share > _o.MaxMovingShare && StillTileShare() < _o.CrowdStillTiles))
        {
            // Everything changed at once: adopt the new scene as the background and let the caller scan it all.
            for (int i = 0; i < _grey.Length; i++)
            {
                _background[i] = _grey[i];
            }

            return new MotionResult([], share, true);
        }

        Learn();
        if (moving == 0)
        {
            return MotionResult.Still;
        }

        Erode(_mask, _scratch);
        Dilate(_scratch, _mask);
        Dilate(_mask, _scratch); // one extra dilation joins a head to the shoulders it moves with
        Array.Copy(_scratch, _mask, _mask.Length);
        return new MotionResult(Blobs(), share, false);
    }

    private void Resize(int width, int height)
    {
        if (width == _frameW && height == _frameH)
        {
            return;
        }

        _frameW = width;
        _frameH = height;
        _block = Math.Max(1, (int)Math.Ceiling((double)width / _o.CellsAcross));
        _w = Math.Max(1, width / _block);
        _h = Math.Max(1, height / _block);
        _background = new float[_w * _h];
        _grey = new byte[_w * _h];
        _mask = new byte[_w * _h];
        _scratch = new byte[_w * _h];
        _stack = new int[_w * _h];
        _primed = false;
    }

    private void Downsample(ImageFrame frame)
    {
        var (ro, go, bo) = frame.Format.ChannelOffsets();
        int bpp = frame.Format.BytesPerPixel();
        var px = frame.Pixels.Span;
        int step = Math.Max(1, _block / 4); // 16 samples per block are plenty for a mean and 9× cheaper at 1080p
        for (int cy = 0; cy < _h; cy++)
        {
            for (int cx = 0; cx < _w; cx++)
            {
                int sum = 0, n = 0;
                for (int y = cy * _block; y < (cy + 1) * _block; y += step)
                {
                    int row = y * frame.Stride;
                    for (int x = cx * _block; x < (cx + 1) * _block; x += step)
                    {
                        int p = row + (x * bpp);
                        sum += (px[p + ro] * 77) + (px[p + go] * 150) + (px[p + bo] * 29);
                        n++;
                    }
                }

                _grey[(cy * _w) + cx] = (byte)(sum / (n << 8));
            }
        }
    }

    /// <summary>Median signed difference between the frame and the background: a global brightness shift.</summary>
    private int GlobalShift()
    {
        Array.Clear(_histogram);
        for (int i = 0; i < _grey.Length; i++)
        {
            _histogram[_grey[i] - (int)_background[i] + 255]++;
        }

        int half = _grey.Length / 2, seen = 0;
        for (int d = 0; d < _histogram.Length; d++)
        {
            seen += _histogram[d];
            if (seen > half)
            {
                return d - 255;
            }
        }

        return 0;
    }

    private int Threshold(int shift)
    {
        int moving = 0, r = _o.JitterCells;
        if (r == 0)
        {
            // The default: each cell against its own background, without the neighbourhood walk (every frame of every camera).
            for (int i = 0; i < _grey.Length; i++)
            {
                _mask[i] = Math.Abs(_grey[i] - _background[i] - shift) > _o.Threshold ? (byte)1 : (byte)0;
                moving += _mask[i];
            }

            return moving;
        }

        for (int y = 0; y < _h; y++)
        {
            for (int x = 0; x < _w; x++)
            {
                // The background's range around the cell: a shift of the view by up to r cells stays inside it.
                float lo = float.MaxValue, hi = float.MinValue;
                for (int yy = Math.Max(0, y - r); yy <= Math.Min(_h - 1, y + r); yy++)
                {
                    for (int xx = Math.Max(0, x - r); xx <= Math.Min(_w - 1, x + r); xx++)
                    {
                        float b = _background[(yy * _w) + xx];
                        lo = Math.Min(lo, b);
                        hi = Math.Max(hi, b);
                    }
                }

                int i = (y * _w) + x;
                float g = _grey[i] - shift;
                bool m = g > hi + _o.Threshold || g < lo - _o.Threshold;
                _mask[i] = m ? (byte)1 : (byte)0;
                moving += _mask[i];
            }
        }

        return moving;
    }

    /// <summary>
    /// Whether the whole view moved by more than <see cref="MotionOptions.JitterCells"/> (a pan, a knock): the frame
    /// matches the background shifted by a few cells much better than where it is. People moving leave most of the
    /// background in place, so there the unshifted match wins.
    /// </summary>
    private bool ViewMoved(int shift)
    {
        int reach = _o.JitterCells + 2;
        double still = Difference(0, 0, reach, shift);
        for (int dy = -reach; dy <= reach; dy++)
        {
            for (int dx = -reach; dx <= reach; dx++)
            {
                if (Math.Max(Math.Abs(dx), Math.Abs(dy)) > _o.JitterCells && Difference(dx, dy, reach, shift) * 2 < still)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Sum of absolute grey differences between the frame and the background moved by (dx, dy) cells, on every other cell inside a margin.</summary>
    private double Difference(int dx, int dy, int margin, int shift)
    {
        double sum = 0;
        for (int y = margin; y < _h - margin; y += 2)
        {
            for (int x = margin; x < _w - margin; x += 2)
            {
                sum += Math.Abs(_grey[(y * _w) + x] - shift - _background[((y + dy) * _w) + x + dx]);
            }
        }

        return sum;
    }

    /// <summary>Share of the 8 × 8-cell tiles with (almost) no moving cell: at most 2 of 64, which compression noise makes.</summary>
    private float StillTileShare()
    {
        const int Tile = 8;
        int still = 0, tiles = 0;
        for (int ty = 0; ty < _h; ty += Tile)
        {
            for (int tx = 0; tx < _w; tx += Tile)
            {
                int moving = 0;
                for (int y = ty; y < Math.Min(_h, ty + Tile); y++)
                {
                    for (int x = tx; x < Math.Min(_w, tx + Tile); x++)
                    {
                        moving += _mask[(y * _w) + x];
                    }
                }

                tiles++;
                still += moving <= 2 ? 1 : 0;
            }
        }

        return (float)still / tiles;
    }

    private void Learn()
    {
        float a = _o.BackgroundRate;
        for (int i = 0; i < _grey.Length; i++)
        {
            _background[i] += a * (_grey[i] - _background[i]);
        }
    }

    private void Erode(byte[] src, byte[] dst) => Morph(src, dst, erode: true);

    private void Dilate(byte[] src, byte[] dst) => Morph(src, dst, erode: false);

    /// <summary>3 × 3 erosion or dilation; cells outside the grid count as still.</summary>
    private void Morph(byte[] src, byte[] dst, bool erode)
    {
        for (int y = 0; y < _h; y++)
        {
            for (int x = 0; x < _w; x++)
            {
                int count = 0, cells = 0;
                for (int dy = -1; dy <= 1; dy++)
                {
                    int yy = y + dy;
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int xx = x + dx;
                        cells++;
                        if (yy >= 0 && yy < _h && xx >= 0 && xx < _w)
                        {
                            count += src[(yy * _w) + xx];
                        }
                    }
                }

                dst[(y * _w) + x] = erode ? (byte)(count == cells ? 1 : 0) : (byte)(count > 0 ? 1 : 0);
            }
        }
    }

    /// <summary>Bounding boxes of 4-connected moving blobs of at least <see cref="MotionOptions.MinCells"/> cells, in frame pixels.</summary>
    private List<BoxF> Blobs()
    {
        var boxes = new List<BoxF>();
        for (int start = 0; start < _mask.Length; start++)
        {
            if (_mask[start] != 1)
            {
                continue;
            }

            int top = 0, cells = 0;
            int x1 = int.MaxValue, y1 = int.MaxValue, x2 = -1, y2 = -1;
            _stack[top++] = start;
            _mask[start] = 2;
            while (top > 0)
            {
                int i = _stack[--top];
                int x = i % _w, y = i / _w;
                cells++;
                x1 = Math.Min(x1, x); x2 = Math.Max(x2, x);
                y1 = Math.Min(y1, y); y2 = Math.Max(y2, y);
                Push(x - 1, y, ref top); Push(x + 1, y, ref top);
                Push(x, y - 1, ref top); Push(x, y + 1, ref top);
            }

            if (cells >= _o.MinCells)
            {
                boxes.Add(new BoxF(x1 * _block, y1 * _block,
                    Math.Min(_frameW, (x2 + 1) * _block), Math.Min(_frameH, (y2 + 1) * _block)));
            }
        }

        return boxes;
    }

    private void Push(int x, int y, ref int top)
    {
        if (x < 0 || y < 0 || x >= _w || y >= _h)
        {
            return;
        }

        int i = (y * _w) + x;
        if (_mask[i] == 1)
        {
            _mask[i] = 2;
            _stack[top++] = i;
        }
    }
}
