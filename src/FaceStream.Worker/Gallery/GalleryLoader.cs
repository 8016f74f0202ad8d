using FaceStream.Core.Matching;
using FaceStream.Inference;
using FaceStream.Media.Images;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Gallery;

/// <summary>Enrols a folder of folders (one per person, folder name = identity) into an in-memory gallery.</summary>
public static class GalleryLoader
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".webp", ".bmp", ".pgm", ".ppm"];

    /// <summary>Each photo must hold exactly one face; others are skipped with a warning naming the file and the reason.</summary>
    public static GalleryIndex Load(string directory, FaceEngine engine, ILogger logger)
    {
        var templates = new List<(Identity, float[])>();
        foreach (var person in Directory.GetDirectories(directory).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(person);
            var identity = new Identity(name, name.Replace('_', ' '));
            int enrolled = 0;
            foreach (var file in Directory.GetFiles(person).Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal))
            {
                try
                {
                    var image = StillImageDecoder.DecodeFile(file);
                    var faces = engine.DetectAndEmbed(image);
                    if (faces.Count != 1)
                    {
                        logger.LogWarning("gallery: {File} skipped: {Count} faces found, need exactly one", file, faces.Count);
                        continue;
                    }

                    templates.Add((identity, faces[0].Embedding.Vector));
                    enrolled++;
                }
                catch (Exception e) when (e is ImageDecodeException or IOException or ArgumentException)
                {
                    logger.LogWarning("gallery: {File} skipped: {Reason}", file, e.Message);
                }
            }

            if (enrolled == 0)
            {
                logger.LogWarning("gallery: {Person} has no usable photo and is not on the watchlist", name);
            }
        }

        var index = new GalleryIndex(engine.Embedder.ModelId, engine.Embedder.Dimension, templates);
        logger.LogInformation("gallery: {Identities} identities, {Templates} templates from {Directory} ({Model})", index.Identities, index.Templates, directory, index.ModelId);
        return index;
    }
}
