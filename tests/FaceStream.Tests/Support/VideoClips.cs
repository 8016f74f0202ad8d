
namespace FaceStream.Tests.Support;

/// <summary>Test clips made once per run with the real ffmpeg CLI: H.264 1080p/720p with a short GOP, HEVC, a clip of the
/// real sample face photos, and broken inputs.</summary>
public sealed class VideoClips
{
    private static readonly Lazy<VideoClips> Shared = new(() => new VideoClips());

    private VideoClips()
    {
        Directory = TestAssets.TempDirectory();
        H264_720 = Make("h264-720p.mp4", "-f lavfi -i testsrc2=size=1280x720:rate=25 -t 4 -c:v libx264 -preset veryfast -g 25 -bf 2 -pix_fmt yuv420p");
        H264_1080 = Make("h264-1080p.mp4", "-f lavfi -i testsrc2=size=1920x1080:rate=25 -t 2 -c:v libx264 -preset veryfast -profile:v high -bf 0 -g 25 -pix_fmt yuv420p");
        Hevc = Make("hevc-720p.mp4", "-f lavfi -i testsrc2=size=1280x720:rate=25 -t 1 -c:v libx265 -preset ultrafast -x265-params log-level=error -g 25 -pix_fmt yuv420p");
        AudioOnly = Make("audio-only.m4a", "-f lavfi -i sine=frequency=440:duration=1 -c:a aac");
        Truncated = Path.Combine(Directory, "truncated.mp4");
        var whole = File.ReadAllBytes(H264_720);
        File.WriteAllBytes(Truncated, whole[..(whole.Length / 3)]);
        RandomBytes = Path.Combine(Directory, "random.mp4");
        var noise = new byte[200_000];
        new Random(7).NextBytes(noise);
        File.WriteAllBytes(RandomBytes, noise);
        Faces = MakeFaceClip();
    }

    public static VideoClips Instance => Shared.Value;

    public string Directory { get; }

    /// <summary>4 s, 25 fps, 100 frames, GOP 25 with B-frames.</summary>
    public string H264_720 { get; }

    /// <summary>2 s, 25 fps, 50 frames, camera-like (High profile, no B-frames).</summary>
    public string H264_1080 { get; }

    /// <summary>1 s HEVC 720p.</summary>
    public string Hevc { get; }

    public string AudioOnly { get; }

    public string Truncated { get; }

    public string RandomBytes { get; }

    /// <summary>1280x720 25 fps: the six sample photos, 2 s each, each slowly panning; real faces in real H.264.</summary>
    public string Faces { get; }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<string>> LoopedClips = new(StringComparer.Ordinal);

    /// <summary>The clip repeated for 3 minutes (the longest a live test may run), stream-copied: timestamps keep growing.</summary>
    public static string Looped(string clip) => LoopedClips.GetOrAdd(clip, c => new Lazy<string>(() =>
    {
        var looped = Path.Combine(Path.GetDirectoryName(c)!, Path.GetFileNameWithoutExtension(c) + "-looped.mp4");
        var seconds = DurationSeconds(c);
        int repeats = (int)Math.Ceiling(TimeSpan.FromMinutes(3).TotalSeconds / seconds);
        FaceStream.Cli.Demo.FfmpegCli.Loop(c, repeats, looped);
        return looped;
    })).Value;

    private static double DurationSeconds(string clip)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("ffprobe") { RedirectStandardOutput = true };
        foreach (var a in new[] { "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", clip })
        {
            psi.ArgumentList.Add(a);
        }

        using var p = System.Diagnostics.Process.Start(psi)!;
        string text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return double.Parse(text.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static void Ffmpeg(string arguments) => FaceStream.Cli.Demo.FfmpegCli.Run(arguments, "make a test clip");

    /// <summary>Raw BGR24 bytes of frame <paramref name="index"/> as the ffmpeg CLI decodes it.</summary>
    public static byte[] CliFrameBgr24(string clip, int index, string swsFlags = "bilinear")
    {
        var raw = Path.Combine(Path.GetDirectoryName(clip)!, $"frame-{index}-{Guid.NewGuid():N}.bgr");
        Ffmpeg($"-i \"{clip}\" -vf \"select=eq(n\\,{index})\" -frames:v 1 -sws_flags {swsFlags} -pix_fmt bgr24 -f rawvideo \"{raw}\"");
        return File.ReadAllBytes(raw);
    }

    private string Make(string name, string arguments)
    {
        var path = Path.Combine(Directory, name);
        Ffmpeg($"{arguments} \"{path}\"");
        return path;
    }

    private string MakeFaceClip()
    {
        var path = Path.Combine(Directory, "faces-720p.mp4");
        FaceStream.Cli.Demo.DemoAssets.MakeVideo(TestAssets.Store, path);
        return path;
    }
}
