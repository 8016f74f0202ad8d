namespace FaceStream.Core.Detection;

/// <summary>A face window inside the MTCNN cascade: box, score and the regression offsets the net proposed.</summary>
/// <remarks>A mutable struct on purpose: the cascade keeps thousands of these in pooled arrays per frame.</remarks>
public struct Candidate
{
    public float X1, Y1, X2, Y2, Score;
    public float Dx1, Dy1, Dx2, Dy2;
    /// <summary>Which frame of a batch the window belongs to.</summary>
    public int Frame;
    /// <summary>Caller-defined index (e.g. into a landmark array) that survives sorting and suppression.</summary>
    public int Tag;

    public Candidate(float x1, float y1, float x2, float y2, float score)
    {
        X1 = x1; Y1 = y1; X2 = x2; Y2 = y2; Score = score;
        Dx1 = Dy1 = Dx2 = Dy2 = 0;
        Frame = 0;
        Tag = 0;
    }
}

/// <summary>How overlap is measured in non-maximum suppression.</summary>
public enum NmsMode
{
    /// <summary>Intersection over union.</summary>
    Union,
    /// <summary>Intersection over the smaller box (MTCNN's final stage: removes boxes nested inside others).</summary>
    Min,
}
