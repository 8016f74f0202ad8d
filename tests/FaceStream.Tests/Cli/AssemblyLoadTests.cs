using System.Diagnostics;
using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Cli;

/// <summary>The CLI's image commands do not load the worker's web stack (ASP.NET Core): only run, demo and the worker need it.</summary>
[Trait("Category", "Live")]
public class AssemblyLoadTests
{
    [Fact]
    public void Detect_does_not_load_aspnet_core()
    {
        var loaded = LoadedAssemblies("detect", TestAssets.Sample(1), "--json");
        // The hook saw the command's own work, so an empty or partial list cannot pass.
        Assert.Contains("FaceStream.Inference", loaded);
        Assert.Contains("FaceStream.Worker", loaded);
        Assert.DoesNotContain(loaded, a => a.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
    }

    /// <summary>Runs facestream with <see cref="StartupHook"/> and returns the assemblies the process had loaded when it exited.</summary>
    private static List<string> LoadedAssemblies(params string[] args)
    {
        string list = Path.Combine(TestAssets.TempDirectory(), "assemblies.txt");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestAssets.RepositoryRoot };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "facestream.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOTNET_STARTUP_HOOKS"] = typeof(AssemblyLoadTests).Assembly.Location;
        psi.Environment[StartupHook.FileVariable] = list;
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(5)), "facestream did not finish within 5 minutes");
        Assert.True(p.ExitCode == 0, stdout.Result + stderr.Result);
        return File.ReadAllLines(list).ToList();
    }
}
