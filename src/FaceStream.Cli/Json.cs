using System.Text;
using System.Text.Json;
using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Application.Enrollment;

namespace FaceStream.Cli;

/// <summary>Writes the CLI's JSON-lines output (a stable contract for scripts).</summary>
public static class Json
{
    public static string Line(Action<Utf8JsonWriter> write)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            write(w);
        }

        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static double R(float v) => Math.Round(v, 2);

    private static void Box(Utf8JsonWriter w, BoxF b)
    {
        w.WriteStartArray("box");
        w.WriteNumberValue(R(b.X1)); w.WriteNumberValue(R(b.Y1)); w.WriteNumberValue(R(b.X2)); w.WriteNumberValue(R(b.Y2));
        w.WriteEndArray();
    }

    /// <param name="more">Writes further fields into the face object (e.g. its attributes).</param>
    public static void Face(Utf8JsonWriter w, DetectedFace f, float[]? embedding = null, Action<Utf8JsonWriter>? more = null)
    {
        w.WriteStartObject();
        Box(w, f.Box);
        w.WriteNumber("score", Math.Round(f.Score, 4));
        w.WriteStartArray("landmarks");
        foreach (var p in f.Landmarks.Points)
        {
            w.WriteStartArray();
            w.WriteNumberValue(R(p.X)); w.WriteNumberValue(R(p.Y));
            w.WriteEndArray();
        }

        w.WriteEndArray();
        if (embedding is not null)
        {
            w.WriteStartArray("embedding");
            foreach (var v in embedding)
            {
                w.WriteNumberValue(Math.Round(v, 6));
            }

            w.WriteEndArray();
        }

        more?.Invoke(w);
        w.WriteEndObject();
    }

    /// <summary>A face of an enrollment photo as the user may pick it: {"face":N,"box":[x1,y1,x2,y2],"score":S}.</summary>
    public static void WriteFaceSeen(Utf8JsonWriter w, FaceSeen f)
    {
        w.WriteStartObject();
        w.WriteNumber("face", f.Number);
        Box(w, f.Box);
        w.WriteNumber("score", Math.Round(f.Score, 4));
        w.WriteEndObject();
    }

    /// <summary>A number, or null when it is not measurable (NaN or infinite, e.g. a threshold on a set without impostor pairs).</summary>
    public static void NumberOrNull(Utf8JsonWriter w, string name, double value, int digits = 4)
    {
        if (!double.IsFinite(value))
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteNumber(name, Math.Round(value, digits));
        }
    }

    public static string Error(string image, string message) => Line(w =>
    {
        w.WriteStartObject();
        w.WriteString("image", image);
        w.WriteString("error", message);
        w.WriteEndObject();
    });
}
