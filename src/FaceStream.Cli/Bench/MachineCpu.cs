using System.Globalization;

namespace FaceStream.Cli.Bench;

/// <summary>
/// The whole machine's CPU counters from Linux's /proc/stat (jiffies summed over all cores): what every process used
/// (the pipeline, the bench's RTSP servers, anything else running) and what the hypervisor took (steal). A session
/// that looks slow with the cores not full, or with steal, was slowed by the machine, not by the pipeline.
/// </summary>
public sealed record MachineCpu(long Busy, long Steal, long Total)
{
    /// <summary>The counters now, or null where /proc/stat cannot be read (not Linux).</summary>
    public static MachineCpu? Read(string path = "/proc/stat")
    {
        try
        {
            using var reader = new StreamReader(path);
            return reader.ReadLine() is { } first ? Parse(first) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The aggregate line: "cpu user nice system idle iowait irq softirq steal guest guest_nice" (guest time is already in user).</summary>
    public static MachineCpu? Parse(string line)
    {
        var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (f.Length < 9 || f[0] != "cpu")
        {
            return null;
        }

        var v = new long[8];
        for (int i = 0; i < v.Length; i++)
        {
            if (!long.TryParse(f[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out v[i]))
            {
                return null;
            }
        }

        long idle = v[3] + v[4];
        long steal = v[7];
        long total = v.Sum();
        return new MachineCpu(total - idle - steal, steal, total);
    }

    /// <summary>Shares of all cores' time between <paramref name="before"/> and this reading: busy (every process), stolen.</summary>
    public (double Busy, double Steal) Since(MachineCpu before)
    {
        double total = Math.Max(1, Total - before.Total);
        return ((Busy - before.Busy) / total, (Steal - before.Steal) / total);
    }
}
