namespace FaceStream.Core.Attributes;

/// <summary>Estimated age in years.</summary>
public sealed record AgeEstimate(float Years);

public enum Gender
{
    Female,
    Male,
}

/// <summary>Estimated gender.</summary>
/// <param name="Score">Confidence in <paramref name="Gender"/>, 0.5–1.</param>
/// <param name="MaleScore">The model's raw male score, 0 (female) – 1 (male).</param>
public sealed record GenderEstimate(Gender Gender, float Score, float MaleScore);

/// <summary>Head orientation in degrees: yaw (turn; its sign flips on a mirrored image), pitch (nod), roll (tilt in the image plane).</summary>
public sealed record HeadPose(float Yaw, float Pitch, float Roll);

/// <summary>The most likely expression and every class's probability, in the model's class order.</summary>
public sealed record ExpressionEstimate(string Label, IReadOnlyList<KeyValuePair<string, float>> Scores);

public enum EyeState
{
    Open,
    Closed,
}

/// <summary>
/// Eye state from both eyes (left/right: the eyes on the image's left and right). <paramref name="LeftClosed"/> and
/// <paramref name="RightClosed"/> are each eye's "closed" score (a probability, or 0/1 for a model that decides per
/// eye); a landmark model also gives each eye's openness (eyelid gap over eye width).
/// </summary>
public sealed record EyeStateEstimate(EyeState State, float LeftClosed, float RightClosed, float? LeftOpenness = null, float? RightOpenness = null);

/// <summary>Which model produced an attribute, and whether its output is shown to work (docs/attributes.md) or is experimental.</summary>
public sealed record AttributeSource(string Attribute, string ModelId, bool Experimental);

/// <summary>What the attribute models say about one face; an attribute whose model is not enabled is null.</summary>
public sealed record FaceAttributes(
    AgeEstimate? Age,
    GenderEstimate? Gender,
    HeadPose? Pose,
    ExpressionEstimate? Expression,
    EyeStateEstimate? Eyes);
