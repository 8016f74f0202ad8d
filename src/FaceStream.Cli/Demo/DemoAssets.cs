using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;
using FaceStream.Inference;
using FaceStream.Inference.Models;
using FaceStream.Media.Images;

namespace FaceStream.Cli.Demo;

/// <summary>The bundled demo's material, made from the pinned npm sample photos: a video with real faces and a small gallery.</summary>
public static class DemoAssets
{
    /// <summary>Seconds each photo is shown in the demo video.</summary>
    public const int SecondsPerPhoto = 2;

    /// <summary>People enrolled in the demo gallery: who, and where their face centre is in which sample photo.</summary>
    public static readonly (string Person, string Photo, PointF Face)[] Enrolled =
    [
        // The blonde woman appears in sample1 (right) and sample3 (middle): enrolled from sample3, recognised in both.
        ("Blonde_Woman", "sample3.jpg", new PointF(1171, 354)),
        ("Woman_In_Green", "sample6.jpg", new PointF(1583, 407)),
    ];

    /// <summary>
    /// 25 fps H.264 (1280×720 unless asked otherwise): each sample photo for two seconds, slowly panning, so that trackers and detectors see
    /// real faces move in real compressed video. Needs the ffmpeg CLI.
    /// </summary>
    public static void MakeVideo(ModelStore store, string path, int width = 1280, int height = 720)
    {
        // Scaled to cover 110 % of the frame, then a crop window pans across the extra 10 %.
        int coverW = width * 11 / 10 / 2 * 2, coverH = height * 11 / 10 / 2 * 2;
        int panX = coverW - width, panY = coverH - height;
        var photos = store.Manifest.Samples.Select(s => store.Sample(s.SaveAs)).ToList();
        var inputs = string.Join(" ", photos.Select(p => $"-loop 1 -t {SecondsPerPhoto} -framerate 25 -i \"{p}\""));
        var chains = string.Join(";", photos.Select((_, i) =>
            $"[{i}:v]scale={coverW}:{coverH}:force_original_aspect_ratio=increase,crop={width}:{height}:'min({panX},t*{panX * 3 / 8})':'min({panY},t*{panY / 3})',setsar=1,format=yuv420p[v{i}]"));
        var concat = string.Concat(photos.Select((_, i) => $"[v{i}]")) + $"concat=n={photos.Count}:v=1:a=0[out]";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var tmp = path + ".tmp.mp4";
        FfmpegCli.Run($"{inputs} -filter_complex \"{chains};{concat}\" -map \"[out]\" -c:v libx264 -preset veryfast -g 25 -pix_fmt yuv420p -r 25 \"{tmp}\"", "make the demo video");
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Writes one face crop per enrolled person into <c>dir/PERSON/PHOTO</c> (a gallery folder of folders).</summary>
    public static void MakeGallery(FaceEngine engine, ModelStore store, string dir)
    {
        foreach (var (person, photo, centre) in Enrolled)
        {
            var image = StillImageDecoder.DecodeFile(store.Sample(photo));
            var face = engine.Detector.Detect(image).Where(f => f.Box.Contains(centre)).MaxBy(f => f.Score)
                ?? throw new InvalidDataException($"demo gallery: no face at ({centre.X}, {centre.Y}) in {photo}");
            var personDir = Path.Combine(dir, person);
            Directory.CreateDirectory(personDir);
            File.WriteAllBytes(Path.Combine(personDir, Path.ChangeExtension(photo, ".jpg")), FaceAnnotator.EncodeJpeg(ImageCrop.Around(image, face.Box, 0.8f), 92));
        }
    }
}
