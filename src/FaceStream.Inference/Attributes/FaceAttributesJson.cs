using System.Text.Json;
using FaceStream.Core.Attributes;

namespace FaceStream.Inference.Attributes;

/// <summary>
/// The attribute fields of a face object, shared by `facestream attributes --json`, `identify --attributes` and the
/// HTTP analyse endpoint: age, gender, gender_score, pose {yaw, pitch, roll}, expression, expression_scores, eyes,
/// models {attribute: model id} and experimental [attributes not shown to work].
/// </summary>
public static class FaceAttributesJson
{
    /// <summary>Writes the fields into the face object that <paramref name="w"/> is inside.</summary>
    public static void Write(Utf8JsonWriter w, FaceAttributes a, IReadOnlyList<AttributeSource> sources)
    {
        if (a.Age is { } age)
        {
            w.WriteNumber("age", Math.Round(age.Years, 1));
        }

        if (a.Gender is { } gender)
        {
            w.WriteString("gender", gender.Gender == Gender.Male ? "male" : "female");
            w.WriteNumber("gender_score", Math.Round(gender.Score, 3));
        }

        if (a.Pose is { } pose)
        {
            w.WriteStartObject("pose");
            w.WriteNumber("yaw", Math.Round(pose.Yaw, 1));
            w.WriteNumber("pitch", Math.Round(pose.Pitch, 1));
            w.WriteNumber("roll", Math.Round(pose.Roll, 1));
            w.WriteEndObject();
        }

        if (a.Expression is { } expression)
        {
            w.WriteString("expression", expression.Label);
            w.WriteStartObject("expression_scores");
            foreach (var (label, score) in expression.Scores)
            {
                w.WriteNumber(label, Math.Round(score, 3));
            }

            w.WriteEndObject();
        }

        if (a.Eyes is { } eyes)
        {
            w.WriteString("eyes", eyes.State == EyeState.Closed ? "closed" : "open");
        }

        w.WriteStartObject("models");
        foreach (var s in sources)
        {
            w.WriteString(s.Attribute, s.ModelId);
        }

        w.WriteEndObject();
        w.WriteStartArray("experimental");
        foreach (var s in sources.Where(s => s.Experimental))
        {
            w.WriteStringValue(s.Attribute);
        }

        w.WriteEndArray();
    }
}
