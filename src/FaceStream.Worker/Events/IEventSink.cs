namespace FaceStream.Worker.Events;

/// <summary>Where events go (console, file; Redis Streams, webhook and MQTT come with the watchlist issue).</summary>
public interface IEventSink : IAsyncDisposable
{
    string Name { get; }

    ValueTask PublishAsync(FaceEvent e, CancellationToken cancel);
}

/// <summary>JSON lines to a text writer (standard output, or a file opened for appending).</summary>
/// <remarks>No lock: the publisher delivers to each sink from one lane, one event at a time.</remarks>
public sealed class JsonLinesSink(string name, TextWriter writer, bool ownsWriter) : IEventSink
{
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
        await writer.WriteLineAsync(EventJson.Serialize(e).AsMemory(), cancel);
        await writer.FlushAsync(cancel);
    }

    public async ValueTask DisposeAsync()
    {
        await writer.FlushAsync();
        if (ownsWriter)
        {
            await writer.DisposeAsync();
        }
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
