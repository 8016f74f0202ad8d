namespace FaceStream.Worker.Events;

/// <summary>Where events go (console, file; Redis Streams, webhook and MQTT come with the watchlist issue).</summary>
public interface IEventSink : IAsyncDisposable
{
    string Name { get; }

    ValueTask PublishAsync(FaceEvent e, CancellationToken cancel);
}

/// <summary>JSON lines to a text writer (standard output, or a file opened for appending).</summary>
public sealed class JsonLinesSink(string name, TextWriter writer, bool ownsWriter) : IEventSink
{
    private readonly SemaphoreSlim _lock = new(1, 1);

    public string Name { get; } = name;

    public static JsonLinesSink Console() => new("console", System.Console.Out, ownsWriter: false);

    public static JsonLinesSink File(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }

        return new JsonLinesSink($"file:{path}", new StreamWriter(path, append: true) { AutoFlush = true }, ownsWriter: true);
    }

    public async ValueTask PublishAsync(FaceEvent e, CancellationToken cancel)
    {
        var line = EventJson.Serialize(e);
        await _lock.WaitAsync(cancel);
        try
        {
            await writer.WriteLineAsync(line.AsMemory(), cancel);
            await writer.FlushAsync(cancel);
        }
        finally
        {
            _lock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await writer.FlushAsync();
        if (ownsWriter)
        {
            await writer.DisposeAsync();
        }

        _lock.Dispose();
    }
}

/// <summary>Keeps events in memory (tests, and the summary of `facestream watch`).</summary>
public sealed class MemorySink : IEventSink
{
    private readonly List<FaceEvent> _events = [];

    public string Name => "memory";

    public IReadOnlyList<FaceEvent> Events
    {
        get
        {
            lock (_events)
            {
                return _events.ToList();
            }
        }
    }

    public ValueTask PublishAsync(FaceEvent e, CancellationToken cancel)
    {
        lock (_events)
        {
            _events.Add(e);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
