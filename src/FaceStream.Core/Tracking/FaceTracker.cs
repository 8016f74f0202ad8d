using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;

namespace FaceStream.Core.Tracking;

/// <summary>One face followed across frames of one camera. Mutable, owned by its camera's tracker (and so by the one stage that runs it).</summary>
public sealed class Track(long id, DetectedFace face, DateTimeOffset at)
{
    public long Id { get; } = id;

    public DetectedFace Face { get; internal set; } = face;

    public BoxF Box => Face.Box;

    public DateTimeOffset LastSeen { get; internal set; } = at;

    /// <summary>Consecutive analysed frames without a detection.</summary>
    public int Missed { get; internal set; }

    /// <summary>Box-centre and size velocity in pixels per second.</summary>
    internal (float Cx, float Cy, float W, float H) Velocity { get; set; }

    /// <summary>Box where the face should be at <paramref name="at"/> if it keeps moving as it did.</summary>
    public BoxF Predict(DateTimeOffset at) => Motion.Predict(at);

    /// <summary>An immutable copy of where the face was and how it moved, for another stage to predict from.</summary>
    public TrackMotion Motion => new(Box, LastSeen, Velocity.Cx, Velocity.Cy, Velocity.W, Velocity.H);
}

/// <summary>A track's last box, when it was seen, and its box-centre and size velocity in pixels per second.</summary>
public readonly record struct TrackMotion(BoxF Box, DateTimeOffset LastSeen, float Vcx, float Vcy, float Vw, float Vh)
{
    /// <summary>Box where the face should be at <paramref name="at"/> if it keeps moving as it did.</summary>
    public BoxF Predict(DateTimeOffset at)
    {
        float dt = (float)(at - LastSeen).TotalSeconds;
        var c = Box.Center;
        float w = Math.Max(1, Box.Width + (Vw * dt)), h = Math.Max(1, Box.Height + (Vh * dt));
        float cx = c.X + (Vcx * dt), cy = c.Y + (Vcy * dt);
        return new BoxF(cx - (w / 2), cy - (h / 2), cx + (w / 2), cy + (h / 2));
    }
}

/// <summary>What one frame did to the tracks: each detection's track (new or continued) and the tracks that ended.</summary>
public sealed record TrackUpdate(IReadOnlyList<(DetectedFace Face, Track Track, bool IsNew)> Assigned, IReadOnlyList<Track> Ended);

/// <summary>SORT-style tracker for one camera: greedy highest-IoU association between motion-predicted tracks and detections.</summary>
public sealed class FaceTracker(TrackerOptions options)
{
    private readonly List<Track> _tracks = [];
    private long _nextId = 1;

    public IReadOnlyList<Track> Active => _tracks;

    /// <summary>Associates one frame's detections; call once per analysed frame, in time order.</summary>
    public TrackUpdate Update(IReadOnlyList<DetectedFace> faces, DateTimeOffset at)
    {
        var predicted = _tracks.Select(t => t.Predict(at)).ToArray();
        var pairs = new List<(float Iou, int Track, int Face)>();
        for (int t = 0; t < _tracks.Count; t++)
        {
            for (int f = 0; f < faces.Count; f++)
            {
                float iou = predicted[t].IoU(faces[f].Box);
                if (iou >= options.IouThreshold)
                {
                    pairs.Add((iou, t, f));
                }
            }
        }

        pairs.Sort((a, b) => b.Iou.CompareTo(a.Iou));
        var trackTaken = new bool[_tracks.Count];
        var faceTrack = new Track?[faces.Count];
        foreach (var (_, t, f) in pairs)
        {
            if (trackTaken[t] || faceTrack[f] is not null)
            {
                continue;
            }

            trackTaken[t] = true;
            faceTrack[f] = _tracks[t];
            Continue(_tracks[t], faces[f], at);
        }

        var assigned = new List<(DetectedFace, Track, bool)>(faces.Count);
        for (int f = 0; f < faces.Count; f++)
        {
            if (faceTrack[f] is { } existing)
            {
                assigned.Add((faces[f], existing, false));
            }
            else
            {
                var born = new Track(_nextId++, faces[f], at);
                _tracks.Add(born);
                assigned.Add((faces[f], born, true));
            }
        }

        var ended = new List<Track>();
        for (int t = 0; t < trackTaken.Length; t++)
        {
            if (!trackTaken[t] && ++_tracks[t].Missed > options.MaxMissedFrames)
            {
                ended.Add(_tracks[t]);
            }
        }

        _tracks.RemoveAll(ended.Contains);
        return new TrackUpdate(assigned, ended);
    }

    /// <summary>Ends every track (camera removed or stream over).</summary>
    public IReadOnlyList<Track> EndAll()
    {
        var all = _tracks.ToList();
        _tracks.Clear();
        return all;
    }

    private void Continue(Track track, DetectedFace face, DateTimeOffset at)
    {
        float dt = (float)(at - track.LastSeen).TotalSeconds;
        if (dt > 0)
        {
            var (oc, nc) = (track.Box.Center, face.Box.Center);
            var step = ((nc.X - oc.X) / dt, (nc.Y - oc.Y) / dt, (face.Box.Width - track.Box.Width) / dt, (face.Box.Height - track.Box.Height) / dt);
            float a = options.VelocitySmoothing;
            var v = track.Velocity;
            track.Velocity = (v.Cx + (a * (step.Item1 - v.Cx)), v.Cy + (a * (step.Item2 - v.Cy)), v.W + (a * (step.Item3 - v.W)), v.H + (a * (step.Item4 - v.H)));
        }

        track.Face = face;
        track.LastSeen = at;
        track.Missed = 0;
    }
}
