using FaceStream.Core.Geometry;

namespace FaceStream.Core.Evaluation;

/// <summary>One ground-truth face; invalid faces (WIDER's flag) neither count as misses nor make detections false.</summary>
public sealed record GroundTruthFace(BoxF Box, bool Invalid = false);

/// <summary>Counts accumulated over images by <see cref="DetectionMetrics.Match"/>.</summary>
public sealed class DetectionTally
{
    public int GroundTruth, Found;
    public int GroundTruth20, Found20;
    public int GroundTruth40, Found40;
    public int Detections40, TruePositives40;
    public int Images;

    public double Recall => GroundTruth == 0 ? double.NaN : (double)Found / GroundTruth;
    public double Recall20 => GroundTruth20 == 0 ? double.NaN : (double)Found20 / GroundTruth20;
    public double Recall40 => GroundTruth40 == 0 ? double.NaN : (double)Found40 / GroundTruth40;
    public double Precision40 => Detections40 == 0 ? double.NaN : (double)TruePositives40 / Detections40;
}

/// <summary>Greedy IoU matching of detections to ground truth (highest score first), as in common face benchmarks.</summary>
public static class DetectionMetrics
{
    public static void Match(IReadOnlyList<GroundTruthFace> truth, IReadOnlyList<(BoxF Box, float Score)> detections, DetectionTally tally, float iou = 0.5f)
    {
        tally.Images++;
        var matchedTruth = new bool[truth.Count];
        var detMatched = new bool[detections.Count];
        foreach (int d in Enumerable.Range(0, detections.Count).OrderByDescending(i => detections[i].Score))
        {
            int best = -1;
            float bestIou = iou;
            for (int t = 0; t < truth.Count; t++)
            {
                if (matchedTruth[t])
                {
                    continue;
                }

                float o = truth[t].Box.IoU(detections[d].Box);
                if (o >= bestIou)
                {
                    bestIou = o;
                    best = t;
                }
            }

            if (best >= 0)
            {
                matchedTruth[best] = true;
                detMatched[d] = true;
            }
        }

        for (int t = 0; t < truth.Count; t++)
        {
            if (truth[t].Invalid)
            {
                continue;
            }

            float h = truth[t].Box.Height;
            tally.GroundTruth++;
            tally.Found += matchedTruth[t] ? 1 : 0;
            if (h >= 20)
            {
                tally.GroundTruth20++;
                tally.Found20 += matchedTruth[t] ? 1 : 0;
            }

            if (h >= 40)
            {
                tally.GroundTruth40++;
                tally.Found40 += matchedTruth[t] ? 1 : 0;
            }
        }

        for (int d = 0; d < detections.Count; d++)
        {
            if (detections[d].Box.Height >= 40)
            {
                tally.Detections40++;
                tally.TruePositives40 += detMatched[d] ? 1 : 0;
            }
        }
    }

    /// <summary>
    /// Parses WIDER FACE ground truth: a file name line, a count line, then count lines of
    /// "x y w h blur expression illumination invalid occlusion pose" (a count of 0 is followed by one dummy line).
    /// </summary>
    public static Dictionary<string, List<GroundTruthFace>> ParseWider(string text)
    {
        var result = new Dictionary<string, List<GroundTruthFace>>(StringComparer.Ordinal);
        var lines = text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        int i = 0;
        while (i < lines.Length)
        {
            string name = lines[i++];
            if (i >= lines.Length || !int.TryParse(lines[i++], out int count) || count < 0)
            {
                throw new FormatException($"WIDER ground truth: expected a face count after '{name}'");
            }

            var faces = new List<GroundTruthFace>();
            int rows = Math.Max(count, 1);
            for (int k = 0; k < rows; k++)
            {
                if (i >= lines.Length)
                {
                    throw new FormatException($"WIDER ground truth: '{name}' announces {count} faces but the file ends");
                }

                var f = lines[i++].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (count == 0)
                {
                    continue;
                }

                if (f.Length < 4)
                {
                    throw new FormatException($"WIDER ground truth: bad face line for '{name}'");
                }

                float x = float.Parse(f[0], System.Globalization.CultureInfo.InvariantCulture);
                float y = float.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture);
                float w = float.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture);
                float h = float.Parse(f[3], System.Globalization.CultureInfo.InvariantCulture);
                bool invalid = f.Length > 7 && f[7] == "1";
                faces.Add(new GroundTruthFace(new BoxF(x, y, x + w, y + h), invalid || w <= 0 || h <= 0));
            }

            result[name] = faces;
        }

        return result;
    }
}
