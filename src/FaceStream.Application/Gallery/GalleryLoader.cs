using FaceStream.Application.Enrollment;
using FaceStream.Core.Embeddings;
using FaceStream.Core.Matching;
using FaceStream.Watchlist.Cache;
using FaceStream.Watchlist.Store;
using Microsoft.Extensions.Logging;

namespace FaceStream.Application.Gallery;

/// <summary>Enrols a folder of folders (one per person, folder name = identity id) into a watchlist, with the enrollment checks.</summary>
public static class GalleryLoader
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".webp", ".bmp", ".pgm", ".ppm"];

    /// <summary>Each photo must pass enrollment (exactly one usable face); refused photos are logged with the reason and skipped.</summary>
    public static async Task<(int Enrolled, int Refused)> EnrollFoldersAsync(string directory, Enroller enroller, IWatchlistStore store, ILogger logger, CancellationToken cancel = default)
    {
        int enrolled = 0, refused = 0;
        foreach (var person in Directory.GetDirectories(directory).Order(StringComparer.Ordinal))
        {
            var id = Path.GetFileName(person);
            if (!WatchlistIds.IsValid(id))
            {
                logger.LogWarning("gallery: folder '{Folder}' skipped: not usable as an identity id ({Grammar})", id, WatchlistIds.Grammar);
                continue;
            }

            var identity = await store.GetIdentityAsync(id, cancel);
            foreach (var file in Directory.GetFiles(person).Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal))
            {
                var (result, template) = enroller.Prepare(await File.ReadAllBytesAsync(file, cancel), file);
                if (template is null)
                {
                    refused++;
                    logger.LogWarning("gallery: {File} refused: {Reason}", file, result.Reason);
                    continue;
                }

                identity ??= await store.CreateIdentityAsync(id.Replace('_', ' '), id: id, cancel: cancel);
                await enroller.StoreAsync(identity.Id, template, cancel);
                enrolled++;
            }
        }

        logger.LogInformation("gallery: {Enrolled} photos enrolled from {Directory} into {Store}, {Refused} refused", enrolled, directory, store.Describe, refused);
        return (enrolled, refused);
    }

    /// <summary>A folder gallery as a search index (an in-memory watchlist built and searched once).</summary>
    public static async Task<GalleryIndex> LoadIndexAsync(string directory, IFaceEncoder encoder, EnrollmentOptions options, ILogger logger)
    {
        await using var store = new MemoryWatchlistStore();
        await EnrollFoldersAsync(directory, new Enroller(encoder, store, options), store, logger);
        await using var cache = new WatchlistCache(store, encoder.ModelId, encoder.Dimension, TimeSpan.FromMinutes(1), logger);
        await cache.SyncAsync(force: true);
        return cache.Index;
    }
}
