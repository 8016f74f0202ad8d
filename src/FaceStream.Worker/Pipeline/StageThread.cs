using System.Collections.Concurrent;

namespace FaceStream.Worker.Pipeline;

/// <summary>
/// A thread of its own for a CPU-bound stage's network runs. The stage's loop stays async (it awaits channels and
/// hands each batch here); the long inference calls run on this thread instead of holding thread-pool threads for
/// good, which would starve everything else that runs there (timers, I/O, the HTTP host).
/// </summary>
internal sealed class StageThread : IDisposable
{
    private readonly BlockingCollection<Action> _work = [];

    public StageThread(string name)
    {
        var thread = new Thread(Run) { IsBackground = true, Name = name };
        thread.Start();
    }

    /// <summary>Runs <paramref name="work"/> on this thread; the task completes (or faults) with it.</summary>
    public Task<T> RunAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _work.Add(() =>
            {
                try
                {
                    done.SetResult(work());
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            });
        }
        catch (InvalidOperationException)
        {
            // Disposed: the stage outlived its drain time and the pipeline has moved on.
            done.SetException(new ObjectDisposedException(nameof(StageThread)));
        }

        return done.Task;
    }

    /// <summary>The thread ends after the work already handed to it.</summary>
    public void Dispose() => _work.CompleteAdding();

    private void Run()
    {
        foreach (var work in _work.GetConsumingEnumerable())
        {
            work();
        }
    }
}
