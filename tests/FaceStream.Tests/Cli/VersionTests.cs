using FaceStream.Tests.Operations;
using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Cli;

/// <summary>One product version: Directory.Build.props, `facestream --version`, facestream_info{version} and the chart.</summary>
[Trait("Category", "Live")]
public class VersionTests
{
    [Fact]
    public void Version_prints_the_product_version_from_Directory_Build_props_and_the_chart_carries_it()
    {
        Assert.Matches(@"^\d+\.\d+\.\d+", Repository.ProductVersion);
        var r = CliRunner.Run("--version");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal($"facestream {Repository.ProductVersion}", r.Stdout.Trim());
        var chart = File.ReadAllLines(Path.Combine(Repository.Root, "charts", "facestream", "Chart.yaml"));
        Assert.Contains($"version: {Repository.ProductVersion}", chart);
        Assert.Contains($"appVersion: \"{Repository.ProductVersion}\"", chart);
    }
}
