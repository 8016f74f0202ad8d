using FaceStream.Cli.Bench;
using Xunit;

namespace FaceStream.Tests.Cli;

/// <summary>The bench's reading of /proc/stat: busy and stolen shares of all cores between two readings.</summary>
public class MachineCpuTests
{
    [Fact]
    public void Busy_leaves_out_idle_iowait_and_steal_and_steal_is_its_own_share()
    {
        //                               user nice system idle iowait irq softirq steal guest guest_nice
        var before = MachineCpu.Parse("cpu  100 0 50 800 20 0 10 20 5 0")!;
        var after = MachineCpu.Parse("cpu  400 10 150 1100 30 0 30 80 40 0")!;

        var (busy, steal) = after.Since(before);

        // Deltas: user 300, nice 10, system 100, idle 300, iowait 10, softirq 20, steal 60 (guest 35 is inside user).
        Assert.Equal(430.0 / 800, busy, 6);
        Assert.Equal(60.0 / 800, steal, 6);
    }

    [Theory]
    [InlineData("")]
    [InlineData("cpu0 1 2 3 4 5 6 7 8 9 10")]
    [InlineData("cpu  1 2 3")]
    [InlineData("cpu  1 2 x 4 5 6 7 8")]
    public void A_line_that_is_not_the_aggregate_is_not_read(string line) => Assert.Null(MachineCpu.Parse(line));

    [Fact]
    public void This_machines_counters_are_read_where_there_is_a_proc_stat()
    {
        if (!File.Exists("/proc/stat"))
        {
            return;   // not Linux: the bench prints n/a
        }

        var now = MachineCpu.Read()!;
        Assert.True(now.Total > 0 && now.Busy >= 0 && now.Busy <= now.Total);
    }
}
