namespace FaceStream.Core.Quality;

/// <summary>Config section "Quality": gates a face view must pass before it is embedded.</summary>
public sealed class QualityOptions
{
    public const string Section = "Quality";

    /// <summary>Smallest face (shorter box side, px). Embeddings of tiny faces are unreliable.</summary>
    public float MinFaceSize { get; set; } = 40;

    /// <summary>Smallest detector score.</summary>
    public float MinScore { get; set; } = 0.9f;

    /// <summary>Smallest variance of the Laplacian on the 64×64 grey aligned crop; lower is blurrier.</summary>
    public float MinSharpness { get; set; } = 20;

    /// <summary>Largest |yaw proxy|: nose offset from the eye midpoint over the eye distance (0 frontal, ≈0.5 at 45°).</summary>
    public float MaxYaw { get; set; } = 0.45f;

    /// <summary>Largest |pitch proxy|: deviation of the nose's relative height between eyes and mouth from frontal.</summary>
    public float MaxPitch { get; set; } = 0.3f;

    /// <summary>Side of the grey crop the sharpness is measured on.</summary>
    public int SharpnessCropSize { get; set; } = 64;

    public IEnumerable<string> Validate()
    {
        if (MinFaceSize is < 12 or > 4096)
        {
            yield return $"{Section}:MinFaceSize = {MinFaceSize} must be between 12 and 4096";
        }

        if (MinScore is < 0 or > 1)
        {
            yield return $"{Section}:MinScore = {MinScore} must be in [0, 1]";
        }

        if (MinSharpness < 0)
        {
            yield return $"{Section}:MinSharpness = {MinSharpness} must not be negative";
        }

        if (MaxYaw <= 0 || MaxPitch <= 0)
        {
            yield return $"{Section}:MaxYaw and {Section}:MaxPitch must be positive";
        }

        if (SharpnessCropSize is < 16 or > 256)
        {
            yield return $"{Section}:SharpnessCropSize = {SharpnessCropSize} must be between 16 and 256";
        }
    }
}
