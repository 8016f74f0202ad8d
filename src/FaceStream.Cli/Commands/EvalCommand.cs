namespace FaceStream.Cli.Commands;

/// <summary>facestream eval identities|detection ...</summary>
public static class EvalCommand
{
    public static int Run(IEnumerable<string> argv)
    {
        var list = argv.ToList();
        if (list.Count == 0)
        {
            throw new UsageException($"eval needs a subcommand.\n  {EvalIdentitiesCommand.Usage}\n  {EvalDetectionCommand.Usage}\n  {EvalAttributesCommand.Usage}");
        }

        return list[0] switch
        {
            "identities" => EvalIdentitiesCommand.Run(list.Skip(1)),
            "detection" => EvalDetectionCommand.Run(list.Skip(1)),
            "attributes" => EvalAttributesCommand.Run(list.Skip(1)),
            _ => throw new UsageException($"unknown eval subcommand '{list[0]}'"),
        };
    }
}
