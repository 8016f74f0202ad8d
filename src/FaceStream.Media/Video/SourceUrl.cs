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

    /// <summary>Query parameter names (compared case-insensitively, ignoring '-' and '_') whose values are secrets.</summary>
    private static readonly string[] SecretWords = ["pass", "pwd", "token", "key", "secret", "auth", "sig", "credential", "session"];

    /// <summary>
    /// The text with every credential of a URL in it replaced by ***: the password of <c>scheme://user:password@host</c>,
    /// and the value of each query parameter whose name contains pass, pwd, token, key, secret, auth, sig, credential or
    /// session (case-insensitive, '-' and '_' ignored: password, passwd, api_key, X-Amz-Signature…). A query item without
    /// a name (<c>?s3cr3t</c> or <c>?=x</c>) is replaced whole, since nothing says what it is. Text without "://" is
    /// returned unchanged.
    /// </summary>
    public static string Redact(string text)
    {
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0)
        {
            return text;
        }

        var authorityStart = schemeEnd + 3;
        var authorityEnd = text.IndexOfAny(['/', '?', '#'], authorityStart);
        if (authorityEnd < 0)
        {
            authorityEnd = text.Length;
        }

        // The last '@' of the authority ends the user info: passwords may contain '@' unescaped.
        var at = authorityEnd > authorityStart ? text.LastIndexOf('@', authorityEnd - 1, authorityEnd - authorityStart) : -1;
        var colon = at < 0 ? -1 : text.IndexOf(':', authorityStart, at - authorityStart);
        var head = colon < 0 ? text[..authorityEnd] : string.Concat(text.AsSpan(0, colon + 1), "***", text.AsSpan(at, authorityEnd - at));
        var rest = text[authorityEnd..];
        var query = rest.IndexOf('?', StringComparison.Ordinal);
        if (query < 0)
        {
            return head + rest;
        }

        var fragment = rest.IndexOf('#', query);
        var queryEnd = fragment < 0 ? rest.Length : fragment;
        var items = rest[(query + 1)..queryEnd].Split('&');
        for (int i = 0; i < items.Length; i++)
        {
            var eq = items[i].IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                items[i] = items[i].Length == 0 ? "" : "***";
            }
            else if (IsSecretName(items[i][..eq]))
            {
                items[i] = items[i][..(eq + 1)] + "***";
            }
        }

        return string.Concat(head, rest.AsSpan(0, query + 1), string.Join('&', items), rest.AsSpan(queryEnd));
    }

    private static bool IsSecretName(string name)
    {
        string n;
        try
        {
            n = Uri.UnescapeDataString(name);
        }
        catch (UriFormatException)
        {
            return true;
        }

        n = n.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
        return SecretWords.Any(w => n.Contains(w, StringComparison.OrdinalIgnoreCase));
    }

    /// <inheritdoc />
    public override string ToString() => Safe;
}
