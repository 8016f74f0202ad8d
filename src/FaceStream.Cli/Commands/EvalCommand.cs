using System.CommandLine;

namespace FaceStream.Cli.Commands;

/// <summary>facestream eval identities|detection|attributes|feedback ...</summary>
public static class EvalCommand
{
    public static Command Create() =>
        new("eval", "Measure accuracy on labelled data") { EvalIdentitiesCommand.Create(), EvalDetectionCommand.Create(), EvalAttributesCommand.Create(), EvalEyesCommand.Create(), EvalFeedbackCommand.Create() };
}
