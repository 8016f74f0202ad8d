using System.Collections.Concurrent;
using System.Globalization;
using FaceStream.Media.Images;
using FaceStream.Tests.Support;
using FaceStream.Worker.Api;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace FaceStream.Tests.Worker;

/// <summary>
/// The upload threads (Api:UploadNice): upload work, the parallel loops it starts (as the detector's) and the awaits
/// inside it run on threads whose Linux nice value is the one asked for, read back from /proc.
/// </summary>
public class UploadSchedulerTests(WorkerEngineFixture fixture) : IClassFixture<WorkerEngineFixture>
{
    /// <summary>The calling thread's nice value: field 19 of /proc/thread-self/stat (the 17th after the command name).</summary>
    private static int ThreadNice()
    {
        string stat = File.ReadAllText("/proc/thread-self/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Upload_work_and_its_parallel_loops_run_below_the_cameras_priority()
    {
        using var cpu = new UploadScheduler(nice: 10, threads: 2, NullLogger.Instance);
        var seen = new ConcurrentBag<(int Nice, string? Thread)>();
        int outer = await cpu.Run(() =>
        {
            // As the detector's loops: on the current scheduler (ParallelOptions default to the thread pool's).
            Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 4, TaskScheduler = TaskScheduler.Current }, _ =>
            {
                Thread.SpinWait(20_000);
                seen.Add((ThreadNice(), Thread.CurrentThread.Name));
            });
            return ThreadNice();
        }, CancellationToken.None);

        Assert.Equal(10, outer);
        Assert.Equal(64, seen.Count);
        Assert.All(seen, s => Assert.True(s.Nice == 10 && s.Thread?.StartsWith("upload-", StringComparison.Ordinal) == true, $"ran on {s.Thread} at nice {s.Nice}"));
        Assert.Equal(2, cpu.LoweredThreads);
        Assert.NotEqual(10, ThreadNice());
    }

    [Fact]
    public async Task Awaits_inside_upload_work_come_back_to_the_upload_threads_and_failures_reach_the_caller()
    {
        using var cpu = new UploadScheduler(nice: 7, threads: 1, NullLogger.Instance);
        int nice = await cpu.Run(async () =>
        {
            await Task.Delay(20);
            await Task.Yield();
            return ThreadNice();
        }, CancellationToken.None);
        Assert.Equal(7, nice);

        Func<int> failing = () => throw new InvalidOperationException("bad photo");
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => cpu.Run(failing, CancellationToken.None));
        Assert.Equal("bad photo", e.Message);
        // The thread survives a failed upload.
        Assert.Equal(7, await cpu.Run(ThreadNice, CancellationToken.None));
    }

    [Fact]
    public async Task The_detectors_parallel_loops_run_on_the_upload_threads_of_an_upload()
    {
        // Without it, MtcnnDetector's loops would go to the thread pool at the cameras' priority: only the upload's own
        // task would be queued here.
        using var cpu = new UploadScheduler(nice: 10, threads: 2, NullLogger.Instance);
        var photo = StillImageDecoder.DecodeFile(TestAssets.Sample(1));
        int faces = await cpu.Run(() => fixture.Engine.Detector.Detect(photo).Count, CancellationToken.None);
        Assert.True(faces > 0);
        Assert.True(cpu.QueuedTasks > 1, $"{cpu.QueuedTasks} task(s) queued on the upload threads");
    }
}
