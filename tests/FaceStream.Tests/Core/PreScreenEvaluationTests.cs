using FaceStream.Core.Evaluation;
using Xunit;

namespace FaceStream.Tests.Core;

/// <summary>The pre-screen's measurement on labelled embeddings: strangers spared, known faces and genuine pairs it would drop.</summary>
public class PreScreenEvaluationTests
{
    private static float[] Axis(int i)
    {
        var v = new float[4];
        v[i] = 1;
        return v;
    }

    [Fact]
    public void Counts_the_strangers_screened_out_and_the_known_faces_the_screen_would_drop()
    {
        // Four people, two photos each, one enrolled per person; everyone is told apart perfectly by the full model.
        var data = Enumerable.Range(0, 4).SelectMany(label => Enumerable.Range(0, 2).Select(_ => new LabelledFace(label, Axis(label), Axis(label), Axis(label)))).ToList();
        // The screen sees person 0's second photo as person 1: dropped while 0 is enrolled, kept as a stranger while 1 is.
        // It sees person 3's first photo as person 0: kept as a stranger while 0 is enrolled, and a lost genuine pair
        // against 3's other photo.
        data[1] = data[1] with { ScreenProbe = Axis(1) };
        data[6] = data[6] with { ScreenProbe = Axis(0) };
        var op = new OpenSetEvaluation.OperatingPoint(0.5f, 0.05f, 1e-3);

        var r = Assert.Single(PreScreenEvaluation.Run(data, 1, "m", op, offset: 0, scale: 1, memberThreshold: 0.6f, margins: [0.1f]));

        Assert.Equal(0.5f, r.Cut, 5);
        Assert.Equal((8, 2), (r.GenuinePairsAccepted, r.GenuinePairsLost));
        Assert.Equal((4, 1), (r.KnownNamed, r.KnownNamedLost));
        Assert.Equal((8, 6), (r.Strangers, r.StrangersScreened));
    }
}
