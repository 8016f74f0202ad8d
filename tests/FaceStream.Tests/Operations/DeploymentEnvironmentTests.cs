using System.Text.RegularExpressions;
using Xunit;

namespace FaceStream.Tests.Operations;

/// <summary>
/// Every way the worker is deployed runs it with two glibc malloc arenas. With glibc's default (8 per core), the soak
/// grew RSS by ≈ 0.9 GiB/h while the managed heap stayed flat: decoder and pool threads spread frame-sized allocations
/// over up to 16 arenas that fragment (docs/benchmarks.md, "Soak"). The chart's rendered Deployment is checked by
/// scripts/check-charts.sh; the image's environment also by `scripts/image.sh --smoke`.
/// </summary>
public class DeploymentEnvironmentTests
{
    [Fact]
    public void The_image_sets_MALLOC_ARENA_MAX_2_in_its_environment()
    {
        var script = File.ReadAllText(Path.Combine(Repository.Root, "scripts", "image.sh"));
        var env = Regex.Match(script, @"^ENV ((?:.*\\\\\n)*.*)$", RegexOptions.Multiline);
        Assert.True(env.Success, "scripts/image.sh writes no ENV instruction");
        Assert.Matches(@"(^|\s)MALLOC_ARENA_MAX=2(\s|$)", env.Groups[1].Value.Replace("\\\\\n", " ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("operations.md")]
    [InlineData("worker.md")]
    public void Every_systemd_unit_in_the_docs_sets_MALLOC_ARENA_MAX_2(string page)
    {
        var text = File.ReadAllText(Path.Combine(Repository.Root, "docs", page));
        var units = Regex.Matches(text, @"```ini\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value)
            .Where(u => u.Contains("[Service]", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(units);
        Assert.All(units, u => Assert.Contains("\nEnvironment=MALLOC_ARENA_MAX=2\n", u, StringComparison.Ordinal));
    }
}
