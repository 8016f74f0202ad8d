using System.Text.Json;
using FaceStream.Cli;
using FaceStream.Cli.Commands;
using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Cli;

/// <summary>`facestream bench soak`'s machinery on a short run: the schedule, a measured reconnect, exact event accounting.</summary>
[Trait("Category", "Live")]
public class SoakBenchTests
{
    [Fact]
    public void Schedule_restarts_every_camera_staggered_and_brings_everything_back_before_the_quiet_tail()
    {
        var plan = SoakBenchCommand.SoakPlan.From(FaceStream.Cli.Cli.Root().Parse(["bench", "soak", "--cameras", "2", "--minutes", "20", "--warm-up", "60"]));
        var schedule = plan.Schedule();
        var rtsp = schedule.Where(d => d.Kind == SoakBenchCommand.DisruptionKind.Rtsp).ToList();
        Assert.Equal(4, rtsp.Count(d => d.Target == 0));
        Assert.Equal(4, rtsp.Count(d => d.Target == 1));
        // Staggered: never two cameras down at once.
        Assert.All(rtsp.Zip(rtsp.Skip(1)), p => Assert.True(p.Second.At >= p.First.At + p.First.Down, $"{p.First.At} and {p.Second.At} overlap"));
        Assert.Single(schedule, d => d.Kind == SoakBenchCommand.DisruptionKind.Redis);
        Assert.Single(schedule, d => d.Kind == SoakBenchCommand.DisruptionKind.Webhook);
        Assert.All(schedule, d => Assert.True(d.At >= plan.WarmUp && d.At + d.Down <= plan.QuietFrom, $"{d.What} at {d.At}"));
    }

    [Fact]
    public void The_default_warm_up_is_a_sixth_of_the_run_up_to_ten_minutes()
    {
        // The hour-long soak's RSS ramped for its first ~10 minutes, then grew 5 MiB (docs/benchmarks.md).
        TimeSpan WarmUp(string minutes) => SoakBenchCommand.SoakPlan.From(FaceStream.Cli.Cli.Root().Parse(["bench", "soak", "--minutes", minutes])).WarmUp;
        Assert.Equal(TimeSpan.FromSeconds(20), WarmUp("2"));
        Assert.Equal(TimeSpan.FromMinutes(10), WarmUp("60"));
        Assert.Equal(TimeSpan.FromMinutes(10), WarmUp("240"));
    }

    [Fact]
    public void A_short_soak_measures_the_camera_reconnect_and_every_sink_accounts_for_every_event()
    {
        var r = CliRunner.Run("bench", "soak", "--cameras", "1", "--seconds", "45", "--warm-up", "10", "--interval", "10", "--rtsp-down", "5",
            "--rss-bound", "4096", "--json");
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        var report = JsonDocument.Parse(r.Stdout).RootElement;
        var restarts = report.GetProperty("disruptions").EnumerateArray().Where(d => d.GetProperty("kind").GetString() == "rtsp").ToList();
        var restart = Assert.Single(restarts);
        double reconnect = restart.GetProperty("recovered_seconds").GetDouble();
        Assert.InRange(reconnect, 0, 30);
        Assert.Equal(reconnect, report.GetProperty("reconnect_max_seconds").GetDouble());
        long published = report.GetProperty("published").GetInt64();
        Assert.True(published > 0, r.Stderr);
        var sinks = report.GetProperty("sinks").EnumerateArray().ToList();
        Assert.Equal(3, sinks.Count);
        foreach (var s in sinks)
        {
            Assert.Equal(published, s.GetProperty("delivered").GetInt64() + s.GetProperty("lost").GetInt64());
            Assert.True(s.GetProperty("observed").GetInt64() >= s.GetProperty("delivered").GetInt64(), s.ToString());
        }

        // The webhook receiver went down during the run and the sink came back (events are sparse: whether one fell into the
        // outage is chance, so failed attempts are not asserted).
        var outage = Assert.Single(report.GetProperty("disruptions").EnumerateArray(), d => d.GetProperty("kind").GetString() == "webhook");
        Assert.Equal(JsonValueKind.Number, outage.GetProperty("recovered_seconds").ValueKind);
        Assert.Empty(report.GetProperty("failures").EnumerateArray());
    }
}
