namespace FaceStream.Media.Video;

/// <summary>Why a source could not be opened or read.</summary>
public enum SourceFailure
{
    /// <summary>Could not connect or read the container (refused, not found, bad data).</summary>
    OpenFailed,

    /// <summary>No answer within the open or read deadline.</summary>
    Timeout,

    /// <summary>The input has no video stream, or no decoder for it.</summary>
    NoVideo,

    /// <summary>The address itself is not acceptable (scheme, syntax).</summary>
    BadAddress,
}

/// <summary>A source failure whose message is safe to log: it names the camera's redacted address, never a password.</summary>
public sealed class VideoSourceException(SourceFailure failure, string message) : Exception(message)
{
    public SourceFailure Failure { get; } = failure;
}
