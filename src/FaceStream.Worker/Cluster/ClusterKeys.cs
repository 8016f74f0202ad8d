namespace FaceStream.Worker.Cluster;

/// <summary>Every Redis key and channel of the cluster, in one place (the db number of Cluster:Redis separates deployments).</summary>
internal static class ClusterKeys
{
    private const string Prefix = "facestream:cluster:";

    /// <summary>Hash: camera id → the camera's settings as JSON.</summary>
    public const string Cameras = Prefix + "cameras";

    /// <summary>Counter bumped by every registry change; missing = the registry was never seeded, or Redis lost its data.</summary>
    public const string CamerasVersion = Prefix + "cameras:version";

    /// <summary>Pub/sub: registry changes and hand-overs, so that every worker looks again at once.</summary>
    public const string Changes = Prefix + "changes";

    /// <summary>Set for one lease TTL after a re-seed: nobody takes a lease while workers that ran cameras before the data loss stop them.</summary>
    public const string ClaimsPaused = Prefix + "claims-paused";

    /// <summary>Sorted set: worker id → when its heartbeat expires (Redis server time, ms).</summary>
    public const string Workers = Prefix + "workers";

    /// <summary>Hash: worker id → cameras it owns (its last heartbeat).</summary>
    public const string WorkerLoad = Prefix + "workers:load";

    /// <summary>Hash: worker id → its Cluster:Capacity (its last heartbeat).</summary>
    public const string WorkerCapacity = Prefix + "workers:capacity";

    /// <summary>Hash: camera id → when its lease was last granted or renewed (Redis server time, ms); deleted by a release.</summary>
    public const string Renewals = Prefix + "lease-renewals";

    /// <summary>String "owner|epoch", with the lease TTL.</summary>
    public static string Lease(string camera) => Prefix + "lease:" + camera;

    /// <summary>The camera's fencing counter: every lease grant increments it.</summary>
    public static string Epoch(string camera) => Prefix + "epoch:" + camera;
}
