using System.Diagnostics;
using FaceStream.Inference;
using FaceStream.Inference.Detection;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;

namespace FaceStream.Tests.Support;

/// <summary>The repository's installed models and sample photos (put there by `facestream models install`).</summary>
public static class TestAssets
{
    private static readonly Lazy<ModelStore> LazyStore = new(() =>
    {
        var store = ModelStore.Locate();
        var missing = store.Manifest.Models.Select(m => (m.Id, Problem: store.Check(m))).Where(x => x.Problem.Length > 0).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException($"models are not installed ({string.Join("; ", missing.Select(m => $"{m.Id} {m.Problem}"))}): run `{ModelStore.FixCommand}` (the README's test command does)");
        }

        return store;
    });

    public static ModelStore Store => LazyStore.Value;

    public static string Sample(int i) => Store.Sample($"sample{i}.jpg");

    /// <summary>A model's source file and weight shards, read from its cached package tarball (path in the tarball → bytes).</summary>
    public static Dictionary<string, byte[]> PackageFiles(ModelEntry entry)
    {
        string tgz = Path.Combine(Store.CacheDirectory, Store.Manifest.Package(entry.Package).TarballName);
        var files = new Dictionary<string, byte[]>();
        using var gz = new System.IO.Compression.GZipStream(File.OpenRead(tgz), System.IO.Compression.CompressionMode.Decompress);
        using var tar = new System.Formats.Tar.TarReader(gz);
        while (tar.GetNextEntry() is { } e)
        {
            if (e.Name == entry.File || (entry.Weights?.Any(x => x.File == e.Name) ?? false))
            {
                using var ms = new MemoryStream();
                e.DataStream!.CopyTo(ms);
                files[e.Name] = ms.ToArray();
            }
        }

        return files;
    }

    public static string RepositoryRoot => Path.GetDirectoryName(Store.Directory)!;

    /// <summary>An engine with the product's defaults (the default embedder, flip fusion, antialiased chips, refined landmarks) unless told otherwise.</summary>
    public static FaceEngine Engine(string embedder = InferenceOptions.DefaultEmbedder, int minFace = 20) =>
        new(new InferenceOptions { ModelsDirectory = Store.Directory, Embedder = embedder }, new MtcnnOptions { MinFaceSize = minFace });

    public static string TempDirectory()
    {
        string d = Path.Combine(Path.GetTempPath(), "facestream-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }
}

/// <summary>Shares one engine between the tests of a class (sessions are thread-safe, loading them is not free).</summary>
public sealed class EngineFixture : IDisposable
{
    public FaceEngine Engine { get; } = TestAssets.Engine();

    public void Dispose() => Engine.Dispose();
}

/// <summary>Runs the real `facestream` executable (built next to the tests) as a separate process.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "facestream.dll");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = TestAssets.RepositoryRoot,
        };
        psi.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(true);
            throw new TimeoutException($"facestream {string.Join(' ', args)} did not finish within 5 minutes");
        }

        return new Result(p.ExitCode, stdout.Result, err.Result);
    }

    /// <summary>Runs the real CLI and samples its peak working set (VmHWM, a high-water mark) until it exits.</summary>
    public static (int Exit, string Stdout, long PeakBytes) RunMeasured(TimeSpan limit, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestAssets.RepositoryRoot };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "facestream.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        long peak = 0;
        var deadline = Stopwatch.StartNew();
        while (!p.WaitForExit(50))
        {
            try
            {
                p.Refresh();
                peak = Math.Max(peak, p.PeakWorkingSet64);
            }
            catch (InvalidOperationException)
            {
                // Exited between the wait and the read.
            }

            if (deadline.Elapsed > limit)
            {
                p.Kill(true);
                throw new TimeoutException($"facestream {string.Join(' ', args)} did not finish within {limit.TotalSeconds} s");
            }
        }

        return (p.ExitCode, stdout.Result, peak);
    }
}
