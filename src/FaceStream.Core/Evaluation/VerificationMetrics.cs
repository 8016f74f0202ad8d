namespace FaceStream.Core.Evaluation;

/// <summary>Accuracy at one threshold ("same" when similarity ≥ threshold).</summary>
public readonly record struct ThresholdAccuracy(float Threshold, double Accuracy);

/// <summary>True-accept rate at a fixed false-accept rate, with the threshold that achieves it.</summary>
public readonly record struct TarAtFar(double Far, double Tar, float Threshold);

/// <summary>Verification (1:1) metrics over scored pairs, as reported for LFW-style protocols.</summary>
public static class VerificationMetrics
{
    /// <summary>The threshold that maximises accuracy on the given pairs (swept over every distinct score).</summary>
    public static ThresholdAccuracy BestThreshold(IReadOnlyList<float> scores, IReadOnlyList<bool> same)
    {
        int n = scores.Count;
        if (n == 0)
        {
            return new ThresholdAccuracy(0, 0);
        }

        var order = Enumerable.Range(0, n).OrderByDescending(i => scores[i]).ToArray();
        int totalNeg = same.Count(s => !s);
        // Threshold above every score: everything rejected.
        int tp = 0, fp = 0;
        int best = totalNeg;
        float bestT = scores[order[0]] + 1e-4f;
        for (int k = 0; k < n; k++)
        {
            if (same[order[k]])
            {
                tp++;
            }
            else
            {
                fp++;
            }

            // Accept all scores ≥ scores[order[k]]; only evaluate at the end of a run of equal scores.
            if (k + 1 < n && scores[order[k + 1]] == scores[order[k]])
            {
                continue;
            }

            int correct = tp + (totalNeg - fp);
            if (correct > best)
            {
                best = correct;
                float next = k + 1 < n ? scores[order[k + 1]] : scores[order[k]] - 1e-4f;
                bestT = (scores[order[k]] + next) / 2;
            }
        }

        return new ThresholdAccuracy(bestT, (double)best / n);
    }

    /// <summary>
    /// LFW protocol: split the pairs into <paramref name="folds"/> folds, pick the best threshold on the other folds,
    /// measure on the held-out fold; returns the mean and standard deviation of the fold accuracies and the mean threshold.
    /// </summary>
    public static (double Mean, double Std, float MeanThreshold) CrossValidatedAccuracy(IReadOnlyList<float> scores, IReadOnlyList<bool> same, int folds = 10, int seed = 12345)
    {
        int n = scores.Count;
        if (n < folds)
        {
            return (double.NaN, double.NaN, float.NaN);
        }

        var rng = new Random(seed);
        var fold = Enumerable.Range(0, n).Select(i => i % folds).OrderBy(_ => rng.Next()).ToArray();
        var accs = new List<double>();
        double thrSum = 0;
        for (int f = 0; f < folds; f++)
        {
            var trainS = new List<float>();
            var trainL = new List<bool>();
            int correct = 0, count = 0;
            for (int i = 0; i < n; i++)
            {
                if (fold[i] != f)
                {
                    trainS.Add(scores[i]);
                    trainL.Add(same[i]);
                }
            }

            var t = BestThreshold(trainS, trainL).Threshold;
            thrSum += t;
            for (int i = 0; i < n; i++)
            {
                if (fold[i] == f)
                {
                    count++;
                    if ((scores[i] >= t) == same[i])
                    {
                        correct++;
                    }
                }
            }

            accs.Add((double)correct / count);
        }

        double mean = accs.Average();
        double std = Math.Sqrt(accs.Sum(a => (a - mean) * (a - mean)) / accs.Count);
        return (mean, std, (float)(thrSum / folds));
    }

    /// <summary>
    /// TAR at the smallest threshold whose false-accept rate on impostor pairs is ≤ <paramref name="far"/>.
    /// With fewer than 1/far impostor pairs the figure is not measurable and Tar is NaN.
    /// </summary>
    public static TarAtFar TarAt(IReadOnlyList<float> genuine, IReadOnlyList<float> impostor, double far)
    {
        if (impostor.Count == 0 || genuine.Count == 0 || impostor.Count * far < 1)
        {
            return new TarAtFar(far, double.NaN, float.NaN);
        }

        var imp = impostor.OrderByDescending(x => x).ToArray();
        int allowed = (int)Math.Floor(far * imp.Length);
        // Accept scores strictly above the (allowed)-th highest impostor score.
        float threshold = MathF.BitIncrement(imp[allowed]);
        double tar = genuine.Count(g => g >= threshold) / (double)genuine.Count;
        return new TarAtFar(far, tar, threshold);
    }

    /// <summary>
    /// Leave-one-out rank-1 identification: each probe's nearest other sample must share its label. Probes whose
    /// label has no other sample are skipped. Returns (correct, probes).
    /// </summary>
    public static (int Correct, int Probes) Rank1(float[,] similarity, IReadOnlyList<int> labels)
    {
        int n = labels.Count, correct = 0, probes = 0;
        var perLabel = labels.GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
        for (int i = 0; i < n; i++)
        {
            if (perLabel[labels[i]] < 2)
            {
                continue;
            }

            probes++;
            int best = -1;
            float bestS = float.NegativeInfinity;
            for (int j = 0; j < n; j++)
            {
                if (j != i && similarity[i, j] > bestS)
                {
                    bestS = similarity[i, j];
                    best = j;
                }
            }

            if (best >= 0 && labels[best] == labels[i])
            {
                correct++;
            }
        }

        return (correct, probes);
    }
}
