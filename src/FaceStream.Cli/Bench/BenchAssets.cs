using FaceStream.Cli.Demo;
using FaceStream.Core.Matching;
using FaceStream.Inference;
using FaceStream.Inference.Models;
using FaceStream.Application.Gallery;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceStream.Cli.Bench;

/// <summary>What the live-camera benches feed the pipeline: a clip of the sample photos, looped, and the demo gallery.</summary>
public static class BenchAssets
{
    public static string Folder => Path.Combine(Path.GetTempPath(), "facestream-bench");

    /// <summary>
    /// A clip of the six sample photos at <paramref name="height"/>p, looped (stream copy) to last at least
    /// <paramref name="length"/>: the RTSP test server plays it once per client (<see cref="RtspLoopServer"/>), so one
    /// session must outlast whatever is measured on it. Made once and kept in <see cref="Folder"/>.
    /// </summary>
    public static string LoopedClip(ModelStore store, int width, int height, TimeSpan length)
    {
        var clip = Path.Combine(Folder, $"faces{height}.mp4");
        if (!File.Exists(clip))
        {
            Console.Error.WriteLine($"making a {height}p clip of the sample photos → {clip}");
            DemoAssets.MakeVideo(store, clip, width, height);
        }

        int repeats = (int)Math.Ceiling(length.TotalSeconds / (DemoAssets.SecondsPerPhoto * store.Manifest.Samples.Count));
        var looped = Path.Combine(Folder, $"faces{height}-x{repeats}.mp4");
        if (!File.Exists(looped))
        {
            FfmpegCli.Loop(clip, repeats, looped);
        }

        return looped;
    }

    /// <summary>
    /// An H.264 clip repeated (stream copy) until it is at least <paramref name="length"/> long, assuming clips of 4 s or
    /// more, for an RTSP server that plays it once per client. Made once and kept in <see cref="Folder"/>.
    /// </summary>
    public static string LoopedCopy(string clip, TimeSpan length)
    {
        int repeats = (int)Math.Ceiling(length.TotalSeconds / 4);
        var looped = Path.Combine(Folder, $"{Path.GetFileNameWithoutExtension(clip)}-x{repeats}.mp4");
        if (!File.Exists(looped))
        {
            Directory.CreateDirectory(Folder);
            FfmpegCli.Loop(Path.GetFullPath(clip), repeats, looped);
        }

        return looped;
    }

    /// <summary>The demo gallery (`facestream demo`'s enrolled people), enrolled with this engine.</summary>
    public static Task<GalleryIndex> DemoGalleryAsync(FaceEngine engine, ModelStore store)
    {
        var galleryDir = Path.Combine(Folder, "gallery");
        DemoAssets.MakeGallery(engine, store, galleryDir);
        return GalleryLoader.LoadIndexAsync(galleryDir, engine, new Application.Enrollment.EnrollmentOptions(), NullLogger.Instance);
    }
}
