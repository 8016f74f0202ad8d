namespace FaceStream.Watchlist.Store;

/// <summary>Identifier format shared by the stores: 16 hex digits, random (ids never reveal order or count).</summary>
public static class WatchlistIds
{
    public const int MaxLength = 64;

    public const string Grammar = "1 to 64 of the characters A-Z a-z 0-9 _ - . not starting with '.'";

    public static string NewId() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));

    /// <summary>
    /// Ids given by users (folder names, API) must be safe as Redis key parts, file names and URL segments:
    /// [A-Za-z0-9_-][A-Za-z0-9._-]{0,63}. A leading dot is refused because "." and ".." are removed from URLs by
    /// clients and routers, so such an identity could be created but never read or deleted over HTTP.
    /// </summary>
    public static bool IsValid(string id) =>
        id.Length is > 0 and <= MaxLength && id[0] != '.' && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');
}

/// <summary>Bounds on an identity's free-text fields: every worker keeps every identity in memory, so size is a cost.</summary>
public static class IdentityFields
{
    public const int MaxNameLength = 200;
    public const int MaxMetadataEntries = 32;
    public const int MaxMetadataKeyLength = 64;
    public const int MaxMetadataValueLength = 1024;

    /// <summary>Why the fields are refused, or null when they are acceptable.</summary>
    public static string? Check(string? name, IReadOnlyDictionary<string, string>? metadata)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "name is required";
        }

        if (name.Length > MaxNameLength)
        {
            return $"name is {name.Length} characters, over the limit of {MaxNameLength}";
        }

        if (metadata is null)
        {
            return null;
        }

        if (metadata.Count > MaxMetadataEntries)
        {
            return $"metadata has {metadata.Count} entries, over the limit of {MaxMetadataEntries}";
        }

        foreach (var (key, value) in metadata)
        {
            if (key.Length is 0 or > MaxMetadataKeyLength)
            {
                return $"metadata key '{key[..Math.Min(key.Length, 20)]}' must be 1 to {MaxMetadataKeyLength} characters";
            }

            if ((value?.Length ?? 0) > MaxMetadataValueLength)
            {
                return $"metadata value of '{key}' is {value!.Length} characters, over the limit of {MaxMetadataValueLength}";
            }
        }

        return null;
    }
}
