using System.Globalization;
using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;

namespace FaceStream.Application.Enrollment;

/// <summary>Which face of an enrollment photo to enrol: the dominant one (default), the Nth listed, or the one a box overlaps most.</summary>
public sealed record FacePick(int? Number = null, BoxF? Box = null)
{
    public static FacePick Dominant { get; } = new();

    /// <summary>Parses the user's choice (CLI --face/--box, API face/box fields); throws <see cref="FormatException"/> naming the field.</summary>
    public static FacePick Parse(string? face, string? box)
    {
        if (face is not null && box is not null)
        {
            throw new FormatException("give either face or box, not both");
        }

        if (face is not null)
        {
            return int.TryParse(face, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 1000
                ? new FacePick(Number: n)
                : throw new FormatException($"face must be a face number from 1 (the largest) (got '{face}')");
        }

        if (box is not null)
        {
            var parts = box.Split(',');
            var v = new float[4];
            bool ok = parts.Length == 4;
            for (int i = 0; ok && i < 4; i++)
            {
                ok = float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out v[i]) && float.IsFinite(v[i]);
            }

            return ok && v[2] > v[0] && v[3] > v[1]
                ? new FacePick(Box: new BoxF(v[0], v[1], v[2], v[3]))
                : throw new FormatException($"box must be x1,y1,x2,y2 in pixels with x2 > x1 and y2 > y1 (got '{box}')");
        }

        return Dominant;
    }
}

/// <summary>A face seen in an enrollment photo, numbered as the user may pick it (1 = largest).</summary>
public sealed record FaceSeen(int Number, BoxF Box, float Score)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"#{Number} ({Box.X1:0},{Box.Y1:0})-({Box.X2:0},{Box.Y2:0}) {Box.Width:0}×{Box.Height:0} px score {Score:0.00}");
}

/// <summary>The face chosen for enrollment (or why none was), what else was seen, and a note for the user.</summary>
/// <param name="Number">The chosen face's number in <paramref name="Seen"/>; 0 when refused.</param>
public sealed record SubjectChoice(DetectedFace? Face, int Number, IReadOnlyList<FaceSeen> Seen, string? Note, string? Refusal);

/// <summary>
/// Picks the subject of an enrollment photo. Faces are numbered largest box area first (ties: left to right, then top
/// to bottom), after dropping detections whose landmarks cannot belong to a face (<see cref="LandmarkGeometry"/>).
/// Without a pick, one face is enrolled when it is the only one or its box has at least <c>dominantAreaRatio</c>
/// times the area of the next; otherwise the photo is ambiguous and refused with the faces listed. A less confident
/// detection touching a confident face is taken for part of that person (<see cref="AttachedGap"/>) and competes with
/// nobody.
/// </summary>
public static class SubjectSelector
{
    /// <summary>Least overlap (IoU) between a given box and a face for the box to pick that face.</summary>
    public const float MinPickOverlap = 0.3f;

    /// <summary>
    /// Largest gap between a detection scoring below <see cref="SubjectFace.ConfidentScore"/> and a confident face, as a
    /// share of the confident face's size, for the detection to count as part of the same person rather than a second
    /// one. On real portraits MTCNN scored a chest, a raised hand and a hand at the chin 0.81–0.92, larger than the
    /// face and at most 0.05 of its size away; the less confident real faces of group photos (people looking down or
    /// aside) stood 1.7 face sizes or more from the nearest confident face (docs/benchmarks.md, "Enrollment on real photos").
    /// </summary>
    public const float AttachedGap = 0.25f;

    public static SubjectChoice Choose(IReadOnlyList<DetectedFace> detections, FacePick pick, float dominantAreaRatio)
    {
        var faces = detections.Where(LandmarkGeometry.IsPlausible)
            .OrderByDescending(f => f.Box.Area).ThenBy(f => f.Box.X1).ThenBy(f => f.Box.Y1).ToList();
        var seen = faces.Select((f, i) => new FaceSeen(i + 1, f.Box, f.Score)).ToList();
        int implausible = detections.Count - faces.Count;
        string ignoredDetections = implausible == 0 ? "" : $"; ignored {implausible} {Plural(implausible, "detection")} whose landmarks are not a face's";
        if (faces.Count == 0)
        {
            return new SubjectChoice(null, 0, seen, null, "no face found" + ignoredDetections);
        }

        int chosen;
        if (pick.Number is { } n)
        {
            if (n > faces.Count)
            {
                return new SubjectChoice(null, 0, seen, null, $"face {n} requested but {Count(faces.Count)} found: {List(seen)}");
            }

            chosen = n - 1;
        }
        else if (pick.Box is { } box)
        {
            chosen = Enumerable.Range(0, faces.Count).MaxBy(i => faces[i].Box.IoU(box));
            if (faces[chosen].Box.IoU(box) < MinPickOverlap)
            {
                return new SubjectChoice(null, 0, seen, null, string.Create(CultureInfo.InvariantCulture,
                    $"no face overlaps the box ({box.X1:0},{box.Y1:0})-({box.X2:0},{box.Y2:0}) by IoU ≥ {MinPickOverlap}; {Count(faces.Count)} found: {List(seen)}"));
            }
        }
        else if (Contenders(faces) is var contenders && (contenders.Count == 1 || contenders[0].Box.Area >= dominantAreaRatio * contenders[1].Box.Area))
        {
            chosen = faces.IndexOf(contenders[0]);
        }
        else
        {
            return new SubjectChoice(null, 0, seen, null, string.Create(CultureInfo.InvariantCulture,
                $"{faces.Count} faces found and none is clearly the subject (the largest needs {dominantAreaRatio:0.##}× the area of the next); pick one by number (largest first) or box: {List(seen)}{ignoredDetections}"));
        }

        var others = seen.Where(s => s.Number != chosen + 1).ToList();
        string? note = others.Count == 0 ? null
            : pick == FacePick.Dominant && chosen == 0 ? $"enrolled the largest of {faces.Count} faces (#1); ignored {others.Count} smaller {Plural(others.Count, "face")}: {List(others)}"
            : pick == FacePick.Dominant ? string.Create(CultureInfo.InvariantCulture,
                $"enrolled the largest confident face (#{chosen + 1} of {faces.Count}); larger detections scoring below {SubjectFace.ConfidentScore:0.##} that touch a confident face were taken for part of that person (a hand, the chest); ignored {others.Count} other {Plural(others.Count, "face")}: {List(others)}")
            : $"enrolled face #{chosen + 1} of {faces.Count} as asked; ignored {others.Count} other {Plural(others.Count, "face")}: {List(others)}";
        if (implausible > 0)
        {
            note = (note ?? "enrolled the only face") + ignoredDetections;
        }

        return new SubjectChoice(faces[chosen], chosen + 1, seen, note, null);
    }

    /// <summary>The faces that may be the subject, largest first: all but the less confident detections touching a confident face.</summary>
    private static List<DetectedFace> Contenders(List<DetectedFace> faces) =>
        faces.Where(f => f.Score >= SubjectFace.ConfidentScore
            || !faces.Any(c => c.Score >= SubjectFace.ConfidentScore && Gap(f.Box, c.Box) <= AttachedGap * c.Size)).ToList();

    /// <summary>Distance between two boxes along the axis where they are furthest apart; 0 when they overlap.</summary>
    private static float Gap(BoxF a, BoxF b) =>
        MathF.Max(0, MathF.Max(MathF.Max(a.X1 - b.X2, b.X1 - a.X2), MathF.Max(a.Y1 - b.Y2, b.Y1 - a.Y2)));

    private static string List(IEnumerable<FaceSeen> faces) => string.Join("; ", faces);

    private static string Count(int n) => n == 1 ? "only 1 face was" : $"only {n} faces were";

    private static string Plural(int n, string word) => n == 1 ? word : word + "s";
}
