namespace FaceStream.Watchlist.Store;

/// <summary>A person on the watchlist.</summary>
public sealed record IdentityRecord(
    string Id,
    string Name,
    IReadOnlyDictionary<string, string> Metadata,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>One enrolled face of an identity: its embedding, which model made it, and (optionally) the enrollment crop.</summary>
/// <param name="Crop">JPEG of the aligned-enough face region, kept so templates can be recomputed for another model; null when not kept.</param>
public sealed record TemplateRecord(
    string Id,
    string IdentityId,
    string ModelId,
    float[] Vector,
    float Quality,
    DateTimeOffset CreatedAt,
    byte[]? Crop)
{
    public int Dimension => Vector.Length;
}

/// <summary>Everything in a store at one version.</summary>
public sealed record WatchlistSnapshot(long Version, IReadOnlyList<IdentityRecord> Identities, IReadOnlyList<TemplateRecord> Templates);

/// <summary>The store could not be reached or answered wrongly; the message is safe to log (no password).</summary>
public sealed class WatchlistUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Where the watchlist lives: the shared source of truth (Redis) or this process's memory.</summary>
public interface IWatchlistStore : IAsyncDisposable
{
    /// <summary>The store's address without secrets, for logs and health.</summary>
    string Describe { get; }

    Task<IdentityRecord> CreateIdentityAsync(string name, IReadOnlyDictionary<string, string>? metadata = null, string? id = null, CancellationToken cancel = default);

    Task<IdentityRecord?> GetIdentityAsync(string id, CancellationToken cancel = default);

    Task<IReadOnlyList<IdentityRecord>> ListIdentitiesAsync(CancellationToken cancel = default);

    /// <summary>Deletes the identity and all its templates (and their crops). False when it did not exist.</summary>
    Task<bool> DeleteIdentityAsync(string id, CancellationToken cancel = default);

    /// <summary>Adds a template; throws <see cref="KeyNotFoundException"/> for an unknown identity.</summary>
    Task<TemplateRecord> AddTemplateAsync(string identityId, string modelId, float[] vector, float quality, byte[]? crop, CancellationToken cancel = default);

    Task<IReadOnlyList<TemplateRecord>> ListTemplatesAsync(string identityId, CancellationToken cancel = default);

    /// <summary>Replaces a template's vector and model (re-embedding); keeps id and crop.</summary>
    Task ReplaceTemplateAsync(TemplateRecord template, CancellationToken cancel = default);

    Task<bool> DeleteTemplateAsync(string identityId, string templateId, CancellationToken cancel = default);

    /// <summary>A counter that grows with every change; caches compare it to know whether they are current.</summary>
    Task<long> GetVersionAsync(CancellationToken cancel = default);

    Task<WatchlistSnapshot> LoadAllAsync(CancellationToken cancel = default);

    /// <summary>One identity and its templates (without crops) as they are now: what a cache reloads for one change.</summary>
    Task<IdentitySnapshot> LoadIdentityAsync(string id, CancellationToken cancel = default);

    /// <summary>Calls <paramref name="onChange"/> after every change by any writer (Redis pub/sub), in the order received.</summary>
    Task SubscribeAsync(Action<WatchlistChange> onChange, CancellationToken cancel = default);
}
