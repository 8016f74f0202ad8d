using System.Text;
using System.Text.Json;
using FaceStream.Core.Faces;

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

    public static void Face(Utf8JsonWriter w, DetectedFace f, float[]? embedding = null)
    {
        w.WriteStartObject();
        w.WriteStartArray("box");
        w.WriteNumberValue(R(f.Box.X1)); w.WriteNumberValue(R(f.Box.Y1)); w.WriteNumberValue(R(f.Box.X2)); w.WriteNumberValue(R(f.Box.Y2));
        w.WriteEndArray();
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

        w.WriteEndObject();
    }

    /// <summary>A number, or null when it is not measurable (NaN).</summary>
    public static void NumberOrNull(Utf8JsonWriter w, string name, double value, int digits = 4)
    {
        if (double.IsNaN(value))
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
