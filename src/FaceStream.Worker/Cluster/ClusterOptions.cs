using System.Text.RegularExpressions;
using FaceStream.Watchlist.Store;

namespace FaceStream.Worker.Cluster;

/// <summary>
/// Config section "Cluster": N identical workers share the cameras through leases in one Redis. Empty
/// <see cref="Redis"/> = single-node mode (the cameras of the config file, as before), the default.
/// </summary>
public sealed partial class ClusterOptions
{
    public const string Section = "Cluster";

    private const double MaxCapacity = 1000;

    /// <summary><c>redis://[user[:password]@]host:port[/db]</c> (<c>rediss://</c> for TLS) holding the camera registry and the leases; empty = single node.</summary>
    public string Redis { get; set; } = "";

    /// <summary>This worker's name in leases, events and /status; empty = host name + process id.</summary>
    public string WorkerId { get; set; } = "";

    /// <summary>How long a lease outlives its last renewal (renewed every quarter of it): the longest a dead worker's cameras wait for a new owner.</summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>This worker's weight in the fair share: it takes ⌈cameras × Capacity ÷ the live workers' total⌉ (2 = twice the cameras of a worker with 1).</summary>
    public double Capacity { get; set; } = 1;

    public bool Enabled => Redis.Length > 0;

    /// <summary><see cref="WorkerId"/>, else host name + process id (unique per process, stable while it runs).</summary>
    public string EffectiveWorkerId => WorkerId.Length > 0 ? WorkerId : $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>How often leases and the heartbeat are renewed.</summary>
    public TimeSpan RenewInterval => LeaseTtl / 4;

    public IEnumerable<string> Validate()
    {
        if (Redis.Length > 0)
        {
            string? problem = null;
            try
            {
                if (WatchlistUri.Parse(Redis).IsMemory)
                {
                    problem = "must be a redis:// or rediss:// address (empty = single-node mode)";
                }
            }
            catch (ArgumentException e)
            {
                problem = e.Message;
            }

            if (problem is not null)
            {
                yield return $"{Section}:Redis: {problem}";
            }
        }

        if (WorkerId.Length > 0 && !WorkerIdGrammar().IsMatch(WorkerId))
        {
            yield return $"{Section}:WorkerId = '{WorkerId}' must be 1 to 100 of A-Z a-z 0-9 . _ : -";
        }

        if (LeaseTtl < TimeSpan.FromSeconds(1) || LeaseTtl > TimeSpan.FromMinutes(5))
        {
            yield return $"{Section}:LeaseTtl = {LeaseTtl} must be between 00:00:01 and 00:05:00";
        }

        // Written as a negation so that NaN is refused too.
        if (!(Capacity > 0 && Capacity <= MaxCapacity))
        {
            yield return $"{Section}:Capacity = {Capacity} must be above 0 and at most {MaxCapacity}";
        }
    }

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,100}$")]
    private static partial Regex WorkerIdGrammar();
}
