using FaceStream.Watchlist.Store;

namespace FaceStream.Watchlist;

/// <summary>Config section "Watchlist": which store, and how the local cache follows it.</summary>
public sealed class WatchlistOptions
{
    public const string Section = "Watchlist";

    /// <summary><c>memory:</c> (this process only) or <c>redis://[user[:password]@]host:port[/db]</c> (<c>rediss://</c> for TLS).
    /// Prefer FACESTREAM_REDIS_PASSWORD or FACESTREAM__Watchlist__Uri over a password in the file.</summary>
    public string Uri { get; set; } = "memory:";

    /// <summary>Prefix of every Redis key, so several deployments can share one Redis.</summary>
    public string KeyPrefix { get; set; } = RedisWatchlistStore.DefaultPrefix;

    /// <summary>How often the cache compares versions with the store (catches missed change messages).</summary>
    public TimeSpan ResyncInterval { get; set; } = TimeSpan.FromSeconds(5);

    public IEnumerable<string> Validate()
    {
        string? problem = null;
        try
        {
            WatchlistUri.Parse(Uri);
        }
        catch (ArgumentException e)
        {
            problem = e.Message;
        }

        if (problem is not null)
        {
            yield return $"{Section}:Uri: {problem}";
        }

        if (string.IsNullOrWhiteSpace(KeyPrefix))
        {
            yield return $"{Section}:KeyPrefix is empty";
        }

        if (ResyncInterval < TimeSpan.FromMilliseconds(100) || ResyncInterval > TimeSpan.FromHours(1))
        {
            yield return $"{Section}:ResyncInterval = {ResyncInterval} must be between 0.1 s and 1 h";
        }
    }

    /// <summary>Opens the configured store (Redis connects in the background when down).</summary>
    public async Task<IWatchlistStore> OpenAsync(string? overrideUri = null)
    {
        var uri = WatchlistUri.Parse(overrideUri ?? Uri);
        return uri.IsMemory ? new MemoryWatchlistStore() : await RedisWatchlistStore.ConnectAsync(uri, KeyPrefix);
    }

    /// <summary><see cref="OpenAsync"/> for a dependency-injection factory (see <see cref="RedisWatchlistStore.Connect"/>).</summary>
    public IWatchlistStore Open(string? overrideUri = null)
    {
        var uri = WatchlistUri.Parse(overrideUri ?? Uri);
        return uri.IsMemory ? new MemoryWatchlistStore() : RedisWatchlistStore.Connect(uri, KeyPrefix);
    }
}
