using System.Text;
using FaceStream.Core.Imaging;

namespace FaceStream.Media.Images;

/// <summary>Binary PGM (P5) and PPM (P6) with 8-bit samples: the format of classic face datasets such as ORL.</summary>
internal static class NetpbmDecoder
{
    public static bool IsNetpbm(byte[] d) => d.Length > 2 && d[0] == (byte)'P' && (d[1] == (byte)'5' || d[1] == (byte)'6');

    public static ImageFrame Decode(byte[] d, string name, ImageLimits limits)
    {
        int pos = 2;
        int Next()
        {
            while (pos < d.Length)
            {
                if (d[pos] == (byte)'#')
                {
                    while (pos < d.Length && d[pos] != (byte)'\n')
                    {
                        pos++;
                    }
                }
                else if (char.IsWhiteSpace((char)d[pos]))
                {
                    pos++;
                }
                else
                {
                    break;
                }
            }

            int start = pos;
            while (pos < d.Length && char.IsDigit((char)d[pos]))
            {
                pos++;
            }

            if (start == pos || !int.TryParse(Encoding.ASCII.GetString(d, start, pos - start), out int v))
            {
                throw new ImageDecodeException($"{name}: corrupt Netpbm header");
            }

            return v;
        }

        bool color = d[1] == (byte)'6';
        int w = Next(), h = Next(), max = Next();
        pos++; // exactly one whitespace byte before the raster
        if (max != 255)
        {
            throw new ImageDecodeException($"{name}: only 8-bit Netpbm images are supported (maxval {max})");
        }

        if (w <= 0 || h <= 0 || (long)w * h > limits.MaxPixels)
        {
            throw new ImageDecodeException($"{name}: Netpbm size {w}x{h} is invalid or over the limit");
        }

        int channels = color ? 3 : 1;
        long need = (long)w * h * channels;
        if (d.Length - pos < need)
        {
            throw new ImageDecodeException($"{name}: truncated image data (the file ends before the image does)");
        }

        var rgb = new byte[w * h * 3];
        for (int i = 0; i < w * h; i++)
        {
            if (color)
            {
                rgb[3 * i] = d[pos + (3 * i)];
                rgb[(3 * i) + 1] = d[pos + (3 * i) + 1];
                rgb[(3 * i) + 2] = d[pos + (3 * i) + 2];
            }
            else
            {
                rgb[3 * i] = rgb[(3 * i) + 1] = rgb[(3 * i) + 2] = d[pos + i];
            }
        }

        return new ImageFrame(w, h, w * 3, PixelFormat.Rgb24, rgb);
    }
}
