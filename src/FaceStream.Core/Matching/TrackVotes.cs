namespace FaceStream.Core.Matching;

/// <summary>A track's recent votes and whether a decision has been published (one per track, owned by whoever decides).</summary>
public sealed class TrackVotes
{
    private readonly List<Vote> _votes = [];

    public Verdict Published { get; private set; } = Verdict.Undecided;

    /// <summary>Votes added since the track began (the window keeps only the last n).</summary>
    public int Added { get; private set; }

    /// <summary>Whether the window is full and every vote in it scored below <paramref name="similarity"/> (a clear stranger).</summary>
    public bool AllBelow(float similarity, DecisionOptions o) => _votes.Count >= o.VoteWindow && _votes.All(v => v.Similarity < similarity);

    /// <summary>Adds a vote and returns a new verdict when k of the last n votes agree (known), or n votes name nobody (unknown).</summary>
    public (Verdict Verdict, Vote Evidence) Add(Vote vote, DecisionOptions o)
    {
        _votes.Add(vote);
        Added++;
        if (_votes.Count > o.VoteWindow)
        {
            _votes.RemoveAt(0);
        }

        if (Published == Verdict.Known)
        {
            return (Verdict.Undecided, default);
        }

        var leader = _votes.Where(v => v.Identity is not null).GroupBy(v => v.Identity!.Id).MaxBy(g => g.Count());
        if (leader is not null && leader.Count() >= o.VotesNeeded)
        {
            Published = Verdict.Known;
            return (Verdict.Known, leader.MaxBy(v => v.Similarity));
        }

        if (Published == Verdict.Undecided && _votes.Count >= o.VoteWindow && _votes.All(v => v.Identity is null))
        {
            Published = Verdict.Unknown;
            return (Verdict.Unknown, _votes.MaxBy(v => v.Quality));
        }

        return (Verdict.Undecided, default);
    }
}
