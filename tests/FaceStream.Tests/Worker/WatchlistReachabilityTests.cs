using System.Globalization;
using System.Text.RegularExpressions;
using FaceStream.Tests.Support;
using FaceStream.Worker.Hosting;
using Xunit;

namespace FaceStream.Tests.Worker;

/// <summary>The watchlist store's reachability on /metrics (facestream_watchlist_reachable), the FaceStreamWatchlistUnreachable alert's input.</summary>
[Trait("Category", "Live")]
public class WatchlistReachabilityTests
{
    [Fact]
    public Task The_reachable_gauge_drops_to_0_while_redis_is_down_and_returns_to_1_when_it_is_back() => Bounded.Run(async () =>
    {
        using var redis = new RedisServer();
        var config = Path.Combine(TestAssets.TempDirectory(), "facestream.json");
        await File.WriteAllTextAsync(config, $$"""
            { "Metrics": { "Port": 0 }, "Events": { "Console": false },
              "Watchlist": { "Uri": "{{redis.Uri}}", "ResyncInterval": "00:00:00.2" } }
            """);
        await using var app = await WorkerHost.BuildAsync(["--config", config], Prometheus.Metrics.NewCustomRegistry());
        await app.StartAsync(CancellationToken.None);
        using var http = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };

        Assert.Equal(1, await Gauge(http, "facestream_watchlist_reachable"));
        Assert.Equal(app.Watchlist.Version, await Gauge(http, "facestream_watchlist_version"));
        Assert.Equal(1, await Gauge(http, "facestream_watchlist_resyncs_total{kind=\"full\"}"));
        Assert.Equal(0, await Gauge(http, "facestream_watchlist_resyncs_total{kind=\"incremental\"}"));

        redis.Kill();
        await Wait.Until(() => Gauge(http, "facestream_watchlist_reachable").GetAwaiter().GetResult() == 0, "reachable 0 after Redis stopped");
        Assert.False(app.Watchlist.Reachable);

        redis.Start();
        await Wait.Until(() => Gauge(http, "facestream_watchlist_reachable").GetAwaiter().GetResult() == 1, "reachable 1 after Redis is back", TimeSpan.FromSeconds(60));
        await app.StopAsync();
    });

    private static async Task<double> Gauge(HttpClient http, string name)
    {
        var m = Regex.Match(await http.GetStringAsync("/metrics"), $@"^{name} (\S+)$", RegexOptions.Multiline);
        Assert.True(m.Success, $"{name} is not on /metrics");
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}
