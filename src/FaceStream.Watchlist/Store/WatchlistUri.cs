using System.Globalization;
using FaceStream.Core.Security;
using StackExchange.Redis;

namespace FaceStream.Watchlist.Store;

/// <summary>
/// Where a command or the worker finds the watchlist: <c>memory:</c>, or <c>redis://[user[:password]@]host:port[/db]</c>
/// (<c>rediss://</c> for TLS). A password can also come from the environment (FACESTREAM_REDIS_PASSWORD) so it never
/// has to sit in a config file or a command line.
/// </summary>
public sealed record WatchlistUri
{
    public const string PasswordVariable = "FACESTREAM_REDIS_PASSWORD";
    private const int DefaultRedisPort = 6379;

    private WatchlistUri(bool isMemory, string safe, ConfigurationOptions? redis)
    {
        IsMemory = isMemory;
        Safe = safe;
        Redis = redis;
    }

    public bool IsMemory { get; }

    /// <summary>The address with the password shown as ***.</summary>
    public string Safe { get; }

    /// <summary>Client settings for Redis (null for memory).</summary>
    internal ConfigurationOptions? Redis { get; }

    public static WatchlistUri Parse(string text, TimeSpan? connectTimeout = null)
    {
        if (text is "memory" or "memory:")
        {
            return new WatchlistUri(true, "memory:", null);
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("redis" or "rediss"))
        {
            throw new ArgumentException($"watchlist '{UrlCredentials.Redact(text)}' is not memory: or redis://[user[:password]@]host:port[/db] (rediss:// for TLS)");
        }

        var options = new ConfigurationOptions
        {
            AbortOnConnectFail = false,
            ConnectTimeout = (int)(connectTimeout ?? TimeSpan.FromSeconds(2)).TotalMilliseconds,
            SyncTimeout = 5000,
            AsyncTimeout = 5000,
            Ssl = uri.Scheme == "rediss",
            ClientName = "facestream",
            // Fail at once while disconnected: the cache then reports "unreachable" and event sinks fall back to their
            // own bounded, counted buffer instead of the client's silent backlog.
            BacklogPolicy = BacklogPolicy.FailFast,
        };
        options.EndPoints.Add(uri.Host, uri.Port > 0 ? uri.Port : DefaultRedisPort);
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            var user = Uri.UnescapeDataString(parts[0]);
            if (user.Length > 0)
            {
                options.User = user;
            }

            if (parts.Length == 2)
            {
                options.Password = Uri.UnescapeDataString(parts[1]);
            }
        }

        if (options.Password is null && Environment.GetEnvironmentVariable(PasswordVariable) is { Length: > 0 } fromEnv)
        {
            options.Password = fromEnv;
        }

        var path = uri.AbsolutePath.Trim('/');
        if (path.Length > 0)
        {
            if (!int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out var db) || db > 15)
            {
                throw new ArgumentException($"watchlist {UrlCredentials.Redact(text)}: database '{path}' is not a number from 0 to 15");
            }

            options.DefaultDatabase = db;
        }

        return new WatchlistUri(false, UrlCredentials.Redact(text), options);
    }

    /// <summary>A Redis connection (the watchlist store, the event stream, the cluster); keeps retrying in the background when down.</summary>
    public async Task<IConnectionMultiplexer> ConnectRedisAsync()
    {
        var options = RedisOptions();
        try
        {
            return await ConnectionMultiplexer.ConnectAsync(options, TextWriter.Null);
        }
        catch (RedisException e)
        {
            throw Unavailable(e);
        }
    }

    /// <summary><see cref="ConnectRedisAsync"/> for a dependency-injection factory, which cannot await (see <see cref="RedisWatchlistStore.Connect"/>).</summary>
    public IConnectionMultiplexer ConnectRedis()
    {
        var options = RedisOptions();
        try
        {
            return ConnectionMultiplexer.Connect(options, TextWriter.Null);
        }
        catch (RedisException e)
        {
            throw Unavailable(e);
        }
    }

    private ConfigurationOptions RedisOptions() => Redis?.Clone() ?? throw new ArgumentException($"{Safe} is not a Redis address");

    private WatchlistUnavailableException Unavailable(RedisException e) => new($"cannot connect to {Safe}: {RedisFailure.Describe(e)}", e);

    public override string ToString() => Safe;
}
