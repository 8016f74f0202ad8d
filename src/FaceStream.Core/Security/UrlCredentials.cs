namespace FaceStream.Core.Security;

/// <summary>Credentials in URLs (cameras, Redis, webhooks) kept out of logs, errors, metrics and events.</summary>
public static class UrlCredentials
{
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
}
