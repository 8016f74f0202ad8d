using Prometheus;

namespace FaceStream.Worker.Cluster;

/// <summary>The cluster's metrics (only exported when Cluster:Redis is set).</summary>
public sealed class ClusterMetrics
{
    public ClusterMetrics(CollectorRegistry registry)
    {
        var f = Prometheus.Metrics.WithCustomRegistry(registry);
        CamerasOwned = f.CreateGauge("facestream_cluster_cameras_owned", "Cameras whose lease this worker holds.");
        WorkersLive = f.CreateGauge("facestream_cluster_workers_live", "Workers with a live heartbeat, this one included (at its last heartbeat).");
        RedisUp = f.CreateGauge("facestream_cluster_redis_up", "1 while the last lease round reached Redis, else 0.");
        Acquisitions = f.CreateCounter("facestream_cluster_lease_acquisitions_total", "Camera leases taken (each with a new fencing epoch).");
        Renewals = f.CreateCounter("facestream_cluster_lease_renewals_total", "Camera leases renewed.");
        Losses = f.CreateCounter("facestream_cluster_lease_losses_total", "Camera leases lost: found expired or taken over at renewal, or given up because Redis stayed unreachable.");
        TakeoverSeconds = f.CreateHistogram("facestream_cluster_takeover_seconds",
            "Cameras taken over from a lease that expired unreleased (its worker died, hung or lost Redis): seconds from that lease's last renewal to the first frame on this worker.",
            new HistogramConfiguration { Buckets = [1, 2, 5, 10, 15, 20, 30, 45, 60, 120, 300] });
        HandOvers = f.CreateCounter("facestream_cluster_handovers_total", "Camera leases released for another worker, by reason (rebalance, shutdown, removed).", "reason");
        foreach (var reason in new[] { "rebalance", "shutdown", "removed" })
        {
            HandOvers.WithLabels(reason);
        }
    }

    public Gauge CamerasOwned { get; }

    public Gauge WorkersLive { get; }

    public Gauge RedisUp { get; }

    public Counter Acquisitions { get; }

    public Counter Renewals { get; }

    public Counter Losses { get; }

    public Counter HandOvers { get; }

    public Histogram TakeoverSeconds { get; }
}
