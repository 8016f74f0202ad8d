using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FaceStream.Watchlist.Store;

/// <summary>
/// One change as the store announces it: the version it produced, the identity it touched and what happened to it.
/// Caches reload just that identity when the version follows theirs; anything else (a gap, a bare version from an
/// older writer, a message they cannot read) makes them reload everything.
/// </summary>
/// <remarks>On the wire (Redis <c>:changes</c>): <c>{"version":42,"identity":"ab12","change":"template-added"}</c>.
/// Workers before this format read only a bare version and ignore this message; their version check every
/// <c>Watchlist:ResyncInterval</c> still brings them up to date.</remarks>
public sealed record WatchlistChange(
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("identity")] string? IdentityId,
    [property: JsonPropertyName("change")] string Kind)
{
    public const string IdentityCreated = "identity-created";
    public const string IdentityDeleted = "identity-deleted";
    public const string TemplateAdded = "template-added";
    public const string TemplateReplaced = "template-replaced";
    public const string TemplateDeleted = "template-deleted";

    /// <summary>The kind of a bare version (older writers): what changed is unknown.</summary>
    public const string VersionOnly = "version";

    /// <summary>The kind of a message that could not be read.</summary>
    public const string Unreadable = "unreadable";

    private static readonly HashSet<string> IdentityKinds = [IdentityCreated, IdentityDeleted, TemplateAdded, TemplateReplaced, TemplateDeleted];

    /// <summary>Whether a cache can apply it by reloading <see cref="IdentityId"/> alone.</summary>
    [JsonIgnore]
    public bool NamesIdentity => IdentityId is not null && Version > 0 && IdentityKinds.Contains(Kind);

    public string ToMessage() => JsonSerializer.Serialize(this);

    /// <summary>Reads a message; never throws (an unreadable one comes back as <see cref="Unreadable"/>, version −1).</summary>
    public static WatchlistChange Parse(string? message)
    {
        if (long.TryParse(message, NumberStyles.None, CultureInfo.InvariantCulture, out long version))
        {
            return new WatchlistChange(version, null, VersionOnly);
        }

        try
        {
            var change = message is null ? null : JsonSerializer.Deserialize<WatchlistChange>(message);
            if (change is { Kind: not null })
            {
                return change;
            }
        }
        catch (JsonException)
        {
        }

        return new WatchlistChange(-1, null, Unreadable);
    }
}

/// <summary>One identity as the store holds it now (null when it does not exist), with its templates without crops.</summary>
public sealed record IdentitySnapshot(string Id, IdentityRecord? Identity, IReadOnlyList<TemplateRecord> Templates);
