using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace FaceStream.Worker.Events;

/// <summary>The event wire format (a stable contract: docs/event.schema.json, README "Events").</summary>
public static class EventJson
{
    public const int SchemaVersion = 1;

    public static string Kind(EventKind kind) => kind switch { EventKind.Match => "match", EventKind.Unknown => "unknown", _ => "camera_state" };

    public static string Serialize(FaceEvent e)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteNumber("schema", SchemaVersion);
            w.WriteString("event_id", e.EventId);
            w.WriteString("kind", Kind(e.Kind));
            w.WriteString("camera_id", e.CameraId);
            switch (e)
            {
                case TrackEvent t:
                    WriteTrack(w, t);
                    break;
                case CameraStateEvent c:
                    w.WriteString("frame_timestamp", Timestamp(c.FrameTimestamp));
                    w.WriteString("decision_timestamp", Timestamp(c.DecisionTimestamp));
                    w.WriteString("camera_state", c.State);
                    w.WriteString("reason", c.Reason);
                    break;
            }

            w.WriteString("snapshot", (e as TrackEvent)?.Snapshot);
            if (e.Origin is { } origin)
            {
                w.WriteString("worker_id", origin.WorkerId);
                if (origin.LeaseEpoch is { } epoch)
                {
                    w.WriteNumber("lease_epoch", epoch);
                }
                else
                {
                    w.WriteNull("lease_epoch");
                }
            }
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void WriteTrack(Utf8JsonWriter w, TrackEvent e)
    {
        w.WriteNumber("track_id", e.TrackId);
        if (e is MatchEvent m)
        {
            w.WriteString("identity_id", m.IdentityId);
            w.WriteString("identity_name", m.IdentityName);
        }

        w.WriteNumber("similarity", Math.Round(e.Similarity, 4));
        w.WriteNumber("margin", Math.Round(e.Margin, 4));
        WriteFace(w, e.Face);
        w.WriteString("frame_timestamp", Timestamp(e.FrameTimestamp));
        w.WriteNumber("media_time_s", Math.Round(e.MediaTime.TotalSeconds, 3));
        w.WriteString("decision_timestamp", Timestamp(e.DecisionTimestamp));
        w.WriteString("model_id", e.ModelId);
        if (e.Attributes is { } a)
        {
            w.WriteStartObject("attributes");
            FaceStream.Inference.Attributes.FaceAttributesJson.Write(w, a.Values, a.Sources);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("attributes");
        }
    }

    /// <summary>A face's box, detector score and five landmarks (pixels, one decimal) into the open object: events and the analyse API share it.</summary>
    public static void WriteFace(Utf8JsonWriter w, Core.Faces.DetectedFace f)
    {
        w.WriteStartArray("box");
        foreach (var v in new[] { f.Box.X1, f.Box.Y1, f.Box.X2, f.Box.Y2 })
        {
            w.WriteNumberValue(Math.Round(v, 1));
        }

        w.WriteEndArray();
        w.WriteNumber("score", Math.Round(f.Score, 4));
        w.WriteStartArray("landmarks");
        foreach (var p in f.Landmarks.Points)
        {
            w.WriteStartArray();
            w.WriteNumberValue(Math.Round(p.X, 1));
            w.WriteNumberValue(Math.Round(p.Y, 1));
            w.WriteEndArray();
        }

        w.WriteEndArray();
    }

    /// <summary>ISO 8601 in UTC with milliseconds, e.g. 2026-11-27T23:21:28.966Z.</summary>
    private static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
