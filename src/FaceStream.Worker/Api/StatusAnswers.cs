using System.Text.Json.Serialization;
using FaceStream.Worker.Cluster;
using FaceStream.Worker.Pipeline;

namespace FaceStream.Worker.Api;

// The bodies of GET /status. Member names are the wire names, fixed here whatever the host's naming policy.

/// <summary>One camera this worker runs, as /status lists it.</summary>
public sealed record CameraStatusAnswer(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("codec")] string? Codec,
    [property: JsonPropertyName("width")] int? Width,
    [property: JsonPropertyName("height")] int? Height,
    [property: JsonPropertyName("frames_decoded")] long FramesDecoded,
    [property: JsonPropertyName("frames_delivered")] long FramesDelivered,
    [property: JsonPropertyName("reconnects")] long Reconnects,
    [property: JsonPropertyName("last_error")] string? LastError)
{
    public static CameraStatusAnswer Of(CameraStatus c) => new(
        c.Id, c.Url, c.State.ToString().ToLowerInvariant(), c.Info?.Codec, c.Info?.Width, c.Info?.Height,
        c.Stats.FramesDecoded, c.Stats.FramesDelivered, c.Stats.Reconnects, c.LastError);
}

/// <summary>/status in cluster mode: this worker's id, why it cannot take part (or null), its cameras and their lease epochs.</summary>
public sealed record ClusterStatusAnswer(
    [property: JsonPropertyName("worker_id")] string WorkerId,
    [property: JsonPropertyName("problem")] string? Problem,
    [property: JsonPropertyName("cameras")] IReadOnlyList<CameraStatusAnswer> Cameras,
    [property: JsonPropertyName("leases")] IReadOnlyDictionary<string, long> Leases)
{
    public static ClusterStatusAnswer Of(CameraOwnership o, IReadOnlyList<CameraStatusAnswer> cameras) => new(o.WorkerId, o.Problem, cameras, o.Owned);
}
