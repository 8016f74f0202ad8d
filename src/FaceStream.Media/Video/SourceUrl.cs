using FaceStream.Core.Security;

namespace FaceStream.Media.Video;

/// <summary>A camera or file address: what FFmpeg opens, what logs may show (never a password), and whether it is live.</summary>
public sealed record SourceUrl
{
    /// <summary>Schemes FaceStream opens; anything else is refused before FFmpeg sees it.</summary>
    public static readonly string[] LiveSchemes = ["rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "tcp", "srt"];

    private SourceUrl(string address, string safe, string scheme, bool isLive)
    {
        Address = address;
        Safe = safe;
        Scheme = scheme;
        IsLive = isLive;
    }

    /// <summary>The full address handed to FFmpeg (may contain credentials).</summary>
    internal string Address { get; }

    /// <summary>The address with any password replaced by ***; the only form that reaches logs, errors and metrics.</summary>
    public string Safe { get; }

    /// <summary>"file" for local paths, otherwise the URL scheme.</summary>
    public string Scheme { get; }

    /// <summary>Live sources reconnect at end of stream; files end.</summary>
    public bool IsLive { get; }

    /// <summary>Parses a path or URL; throws <see cref="ArgumentException"/> with a safe message for unsupported schemes.</summary>
    public static SourceUrl Parse(string address)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        var schemeEnd = address.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            return new SourceUrl(address, address, "file", isLive: false);
        }

        var scheme = address[..schemeEnd].ToLowerInvariant();
        var safe = Redact(address);
        if (scheme == "file")
        {
            var path = address[(schemeEnd + 3)..];
            return new SourceUrl(path, path, "file", isLive: false);
        }

        if (!LiveSchemes.Contains(scheme))
        {
            throw new ArgumentException($"unsupported URL scheme '{scheme}' in {safe}; supported: a file path, file://, {string.Join("://, ", LiveSchemes)}://");
        }

        return new SourceUrl(address, safe, scheme, isLive: true);
    }

    /// <inheritdoc cref="UrlCredentials.Redact(string)"/>
    public static string Redact(string text) => UrlCredentials.Redact(text);

    /// <inheritdoc />
    public override string ToString() => Safe;
}
