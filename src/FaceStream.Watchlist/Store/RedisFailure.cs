using StackExchange.Redis;

namespace FaceStream.Watchlist.Store;

/// <summary>A Redis failure in words: a wrong password or user reads "authentication failed", not the same as Redis being down.</summary>
public static class RedisFailure
{
    public static string Describe(Exception e) => IsAuthentication(e)
        ? "authentication failed (wrong password or user: check the URI's user:password or FACESTREAM_REDIS_PASSWORD)"
        : e.GetType().Name;

    public static bool IsAuthentication(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is RedisConnectionException { FailureType: ConnectionFailureType.AuthenticationFailure }
                || e.Message.Contains("AuthenticationFailure", StringComparison.Ordinal) || e.Message.Contains("WRONGPASS", StringComparison.Ordinal)
                || e.Message.Contains("NOAUTH", StringComparison.Ordinal) || e.Message.Contains("authentication failure", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
