namespace FaceStream.Core.Faces;

/// <summary>Which face a photo is "of" when a single face is wanted (compare, evaluation, re-embedding a stored crop).</summary>
public static class SubjectFace
{
    /// <summary>
    /// Detector score a face needs to be preferred as the subject. MTCNN's O-Net passes faces from 0.7; on real
    /// portraits (../shared/data/identities_wild) the person's own face scored ≥ 0.99 while the larger false faces
    /// that "largest face" picked (a chest, a raised hand, a hand at the chin) scored 0.73–0.92.
    /// </summary>
    public const float ConfidentScore = 0.95f;

    /// <summary>The largest confident face; the largest face when none is confident; null when there is none.</summary>
    public static DetectedFace? Pick(IReadOnlyList<DetectedFace> faces)
    {
        DetectedFace? best = null, bestConfident = null;
        foreach (var f in faces)
        {
            if (best is null || f.Box.Area > best.Box.Area)
            {
                best = f;
            }

            if (f.Score >= ConfidentScore && (bestConfident is null || f.Box.Area > bestConfident.Box.Area))
            {
                bestConfident = f;
            }
        }

        return bestConfident ?? best;
    }
}
