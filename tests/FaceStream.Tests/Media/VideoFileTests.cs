using System.Threading.Channels;
using FaceStream.Core.Imaging;
using FaceStream.Media.Video;
using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Media;

/// <summary>File decoding through the in-process FFmpeg layer, checked against the ffmpeg CLI.</summary>
[Trait("Category", "Live")]
public sealed class VideoFileTests
{
    private static VideoClips Clips => VideoClips.Instance;

    internal static async Task<(List<(long Seq, long Decoded, TimeSpan Media, DateTimeOffset Ts, int W, int H)> Frames, VideoSource Source, VideoFramePool Pool)> ReadAll(
        VideoSourceOptions options, Action<VideoFrame>? inspect = null)
    {
        var pool = new VideoFramePool();
        var source = new VideoSource(options, pool);
        var channel = Channel.CreateBounded<VideoFrame>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
        var frames = new List<(long, long, TimeSpan, DateTimeOffset, int, int)>();
        var consumer = Task.Run(async () =>
        {
            await foreach (var f in channel.Reader.ReadAllAsync())
            {
                using (f)
                {
                    frames.Add((f.Sequence, f.DecodedIndex, f.MediaTime, f.Timestamp, f.Width, f.Height));
                    inspect?.Invoke(f);
                }
            }
        });
        try
        {
            await source.RunAsync(channel.Writer, CancellationToken.None);
        }
        finally
        {
            channel.Writer.Complete();
            await consumer;
        }

        return (frames, source, pool);
    }

    [Fact]
    public async Task Decodes_every_frame_with_monotonic_timestamps_and_returns_every_buffer()
    {
        var (frames, source, pool) = await ReadAll(new VideoSourceOptions { Id = "f", Url = Clips.H264_720, AnalysisFps = 0 });

        Assert.Equal(100, frames.Count);
        Assert.All(frames, f => Assert.Equal((1280, 720), (f.W, f.H)));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), frames.Select(f => f.Seq));
        for (int i = 1; i < frames.Count; i++)
        {
            Assert.True(frames[i].Media > frames[i - 1].Media, $"media time not increasing at {i}");
            Assert.True(frames[i].Ts > frames[i - 1].Ts);
        }

        Assert.Equal(3.96, frames[^1].Media.TotalSeconds, 2);
        Assert.Equal(SourceState.Completed, source.State);
        Assert.Equal(0, pool.Outstanding);
        // Bounded by the channel capacity + frames in flight, not by the frame count.
        Assert.InRange(pool.Allocated, 1, 8);
        Assert.Equal(100, source.Stats.FramesDecoded);
    }

    [Fact]
    public async Task Frame_30_matches_the_ffmpeg_cli_pixel_for_pixel()
    {
        var expected = VideoClips.CliFrameBgr24(Clips.H264_720, 30);
        byte[]? actual = null;
        await ReadAll(new VideoSourceOptions { Id = "f", Url = Clips.H264_720, AnalysisFps = 0, PixelFormat = PixelFormat.Bgr24 }, f =>
        {
            if (f.Sequence == 30)
            {
                actual = new byte[1280 * 720 * 3];
                var src = f.Pixels.Span;
                for (int y = 0; y < 720; y++)
                {
                    src.Slice(y * f.Stride, 1280 * 3).CopyTo(actual.AsSpan(y * 1280 * 3));
                }
            }
        });

        Assert.NotNull(actual);
        Assert.Equal(expected.Length, actual.Length);
        int maxDiff = 0;
        long sum = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            int d = Math.Abs(expected[i] - actual[i]);
            maxDiff = Math.Max(maxDiff, d);
            sum += d;
        }

        // Same decoder and same swscale flags as the CLI: identical (a wrong frame or channel order differs by far more).
        Assert.True(maxDiff <= 1, $"max |diff| {maxDiff}, mean {(double)sum / expected.Length:F3}");
    }

    [Fact]
    public async Task Analysis_rate_converts_one_frame_in_five_at_evenly_spaced_times()
    {
        var (frames, source, _) = await ReadAll(new VideoSourceOptions { Id = "f", Url = Clips.H264_720, AnalysisFps = 5, SkipNonReferenceFrames = false });

        Assert.Equal(20, frames.Count);
        Assert.Equal(100, source.Stats.FramesDecoded);
        Assert.Equal(0, source.Stats.FramesLeftOut);
        Assert.Equal(20, source.Stats.FramesDelivered);
        for (int i = 1; i < frames.Count; i++)
        {
            Assert.Equal(0.2, (frames[i].Media - frames[i - 1].Media).TotalSeconds, 3);
            Assert.Equal(5, frames[i].Decoded - frames[i - 1].Decoded);
        }
    }

    [Fact]
    public async Task Frames_not_due_that_no_frame_refers_to_are_left_out_and_the_analysed_frames_are_unchanged()
    {
        // The 720p clip has B-frames (some of which nothing refers to); the same 20 frames must come out, to the byte.
        var all = new List<byte[]>();
        var (expected, full, _) = await ReadAll(
            new VideoSourceOptions { Id = "f", Url = Clips.H264_720, AnalysisFps = 5, SkipNonReferenceFrames = false, PixelFormat = PixelFormat.Bgr24 },
            f => all.Add(f.Pixels.ToArray()));
        var some = new List<byte[]>();
        var (frames, skipping, pool) = await ReadAll(
            new VideoSourceOptions { Id = "f", Url = Clips.H264_720, AnalysisFps = 5, PixelFormat = PixelFormat.Bgr24 },
            f => some.Add(f.Pixels.ToArray()));

        Assert.Equal(100, full.Stats.FramesDecoded);
        Assert.InRange(skipping.Stats.FramesLeftOut, 20, 60);
        Assert.Equal(100, skipping.Stats.FramesDecoded + skipping.Stats.FramesLeftOut);
        Assert.Equal(expected.Select(f => (f.Seq, f.Decoded, f.Media)), frames.Select(f => (f.Seq, f.Decoded, f.Media)));
        Assert.Equal(20, some.Count);
        for (int i = 0; i < some.Count; i++)
        {
            Assert.True(all[i].AsSpan().SequenceEqual(some[i]), $"analysed frame {i} differs");
        }

        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task A_clip_without_b_frames_has_no_frame_to_leave_out()
    {
        var (frames, source, _) = await ReadAll(new VideoSourceOptions { Id = "f", Url = Clips.H264_1080, AnalysisFps = 5 });

        Assert.Equal(10, frames.Count);
        Assert.Equal(50, source.Stats.FramesDecoded);
        Assert.Equal(0, source.Stats.FramesLeftOut);
    }

    [Fact]
    public async Task Frames_above_the_size_limit_are_scaled_down_keeping_the_aspect_ratio()
    {
        var (frames, _, _) = await ReadAll(new VideoSourceOptions { Id = "f", Url = Clips.H264_1080, AnalysisFps = 0, MaxWidth = 960, MaxHeight = 960 });

        Assert.Equal(50, frames.Count);
        Assert.All(frames, f => Assert.Equal((960, 540), (f.W, f.H)));
    }

    [Fact]
    public async Task Decodes_hevc()
    {
        var (frames, source, _) = await ReadAll(new VideoSourceOptions { Id = "f", Url = Clips.Hevc, AnalysisFps = 0 });

        Assert.Equal(25, frames.Count);
        Assert.Equal("hevc", source.Info!.Codec);
    }

    [Fact]
    public async Task A_looping_file_starts_again_with_timestamps_still_increasing()
    {
        using var cancel = new CancellationTokenSource();
        var pool = new VideoFramePool();
        var source = new VideoSource(new VideoSourceOptions { Id = "loop", Url = Clips.Hevc, AnalysisFps = 0, Loop = true }, pool);
        var states = new System.Collections.Concurrent.ConcurrentQueue<SourceState>();
        source.StateChanged += c => states.Enqueue(c.To);
        var channel = Channel.CreateBounded<VideoFrame>(4);
        var run = source.RunAsync(channel.Writer, cancel.Token);
        var media = new List<TimeSpan>();
        await foreach (var f in channel.Reader.ReadAllAsync())
        {
            using (f)
            {
                media.Add(f.MediaTime);
            }

            if (media.Count == 60)
            {
                break;
            }
        }

        await cancel.CancelAsync();
        await run;
        while (channel.Reader.TryRead(out var left))
        {
            left.Dispose();
        }

        Assert.Equal(60, media.Count);
        for (int i = 1; i < media.Count; i++)
        {
            Assert.True(media[i] > media[i - 1], $"media time went back at frame {i}: {media[i - 1]} → {media[i]}");
        }

        Assert.Equal(SourceState.Stopped, source.State);
        // Two passes and more, yet one streaming state change (each used to go connecting → streaming again).
        Assert.Equal([SourceState.Connecting, SourceState.Streaming, SourceState.Stopped], states.ToArray());
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task The_face_clip_holds_real_faces_the_engine_finds()
    {
        using var engine = TestAssets.Engine(minFace: 40);
        int framesWithFaces = 0, frames = 0;
        await ReadAll(new VideoSourceOptions { Id = "faces", Url = Clips.Faces, AnalysisFps = 1 }, f =>
        {
            frames++;
            if (engine.Detector.Detect(f.Image).Count >= 2)
            {
                framesWithFaces++;
            }
        });

        Assert.Equal(12, frames);
        Assert.True(framesWithFaces >= 10, $"{framesWithFaces} of {frames} frames had two or more faces");
    }
}
