using FaceStream.Inference.Models;

namespace FaceStream.Cli.Commands;

/// <summary>facestream models install [--force] | models verify</summary>
public static class ModelsCommand
{
    public const string Usage = "facestream models install [--force] | facestream models verify   (both take --models DIR)";

    public static int Run(IEnumerable<string> argv)
    {
        var args = CliArgs.Parse(argv, [], ["--force"]);
        if (args.Positionals.Count != 1)
        {
            throw new UsageException($"Usage: {Usage}");
        }

        var store = ModelStore.Locate(args.Value("--models"));
        switch (args.Positionals[0])
        {
            case "install":
                new ModelInstaller(store, Console.Out).InstallAll(args.Flag("--force"));
                return Verify(store);
            case "verify":
                return Verify(store);
            default:
                throw new UsageException($"unknown models subcommand '{args.Positionals[0]}'. Usage: {Usage}");
        }
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
