using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Api;

/// <summary>
/// Where uploaded images are analysed (enrollment, /api/analyse, feedback): threads of their own, one per core, that run
/// at a lower CPU priority than the cameras (<c>Api:UploadNice</c>, Linux nice). A node at its cameras' capacity then
/// gives an upload the CPU the cameras leave instead of sharing the cores with them equally, so an enrollment at a busy
/// moment takes longer rather than making the cameras shed frames (docs/benchmarks.md, issue 12).
/// </summary>
/// <remarks>
/// The detector's parallel loops run on <see cref="TaskScheduler.Current"/> (MtcnnDetector.Parallelism) and ONNX
/// Runtime runs each network on the calling thread (one intra-op thread), so all of an upload's work stays on these
/// threads; awaits inside it come back here too. .NET's <see cref="Thread.Priority"/> does nothing for normal threads
/// on Linux and no task scheduler with dedicated threads ships with .NET, hence this one.
/// </remarks>
public sealed class UploadScheduler : TaskScheduler, IDisposable
{
    private readonly BlockingCollection<Task> _queue = [];
    private readonly Thread[] _threads;
    private readonly ILogger _log;
    private int _lowered;
    private int _warned;
    private long _queued;

    [ThreadStatic]
    private static UploadScheduler? s_current;

    /// <param name="nice">Linux nice value of the threads, 0 (as the cameras) to 19 (only what the cameras leave).</param>
    public UploadScheduler(int nice, int threads, ILogger log)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nice);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nice, 19);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Nice = nice;
        _log = log;
        UploadLog.Started(log, threads, nice);
        _threads = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"upload-{i}" };
            _threads[i].Start();
        }
    }

    public int Nice { get; }

    /// <summary>Threads whose priority was lowered as asked (all of them, unless the OS refused or is not Linux).</summary>
    public int LoweredThreads => Volatile.Read(ref _lowered);

    public override int MaximumConcurrencyLevel => _threads.Length;

    /// <summary>Tasks queued here so far: the uploads' own and their parallel loops' parts (tests read it).</summary>
    internal long QueuedTasks => Interlocked.Read(ref _queued);

    /// <summary>Runs CPU-bound upload work on these threads; the caller goes on on the thread pool.</summary>
    public Task<T> Run<T>(Func<T> work, CancellationToken cancel) =>
        Leave(Task.Factory.StartNew(work, cancel, TaskCreationOptions.DenyChildAttach, this));

    /// <summary>Runs upload work that also awaits (enrollment writes to the watchlist) on these threads; the caller goes on on the thread pool.</summary>
    public Task<T> Run<T>(Func<Task<T>> work, CancellationToken cancel) =>
        Leave(Task.Factory.StartNew(work, cancel, TaskCreationOptions.DenyChildAttach, this).Unwrap());

    // An await on the work would otherwise go on inline on the upload thread that finished it: the rest of the HTTP
    // request (the answer's JSON, the response) at the lower priority, holding a thread meant for uploads.
    private static async Task<T> Leave<T>(Task<T> upload) => await upload.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);

    protected override void QueueTask(Task task)
    {
        Interlocked.Increment(ref _queued);
        _queue.Add(task);
    }

    // Only on our own threads: a waiting upload runs a queued part of itself instead of blocking (no deadlock when all
    // threads wait), and no upload work runs at the cameras' priority on a thread that is not ours.
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => s_current == this && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => _queue.ToArray();

    private void Work()
    {
        s_current = this;
        Lower();
        try
        {
            foreach (var task in _queue.GetConsumingEnumerable())
            {
                TryExecuteTask(task);
            }
        }
        catch (ObjectDisposedException)
        {
            // Disposed while waiting: the worker is stopping.
        }
    }

    private void Lower()
    {
        if (Nice == 0)
        {
            return;
        }

        if (!OperatingSystem.IsLinux())
        {
            WarnOnce("not Linux");
            return;
        }

        // setpriority(PRIO_PROCESS, tid) sets one thread's nice value on Linux; raising it needs no privilege.
        if (SetPriority(0, GetTid(), Nice) != 0)
        {
            WarnOnce($"setpriority failed (errno {Marshal.GetLastPInvokeError()})");
            return;
        }

        Interlocked.Increment(ref _lowered);
    }

    // Every thread would fail the same way: one line for the operator, not one per core.
    private void WarnOnce(string reason)
    {
        if (Interlocked.Exchange(ref _warned, 1) == 0)
        {
            UploadLog.NotLowered(_log, Nice, reason);
        }
    }

    [DllImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static extern int SetPriority(int which, int who, int priority);

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetTid();

    public void Dispose()
    {
        _queue.CompleteAdding();
        foreach (var t in _threads)
        {
            t.Join(TimeSpan.FromSeconds(5));
        }

        _queue.Dispose();
    }
}

internal static partial class UploadLog
{
    [LoggerMessage(EventId = 41, Level = LogLevel.Information, Message = "uploads are analysed on {Threads} threads of their own at nice {Nice} (Api:UploadNice; the cameras run at 0)")]
    public static partial void Started(ILogger log, int threads, int nice);

    [LoggerMessage(EventId = 40, Level = LogLevel.Warning, Message = "uploads run at the cameras' CPU priority, not at nice {Nice} (Api:UploadNice): {Reason}")]
    public static partial void NotLowered(ILogger log, int nice, string reason);
}
