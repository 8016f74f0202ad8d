using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Core.Matching;
using FaceStream.Inference;
using FaceStream.Inference.Detection;
using FaceStream.Tests.Support;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Events;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace FaceStream.Tests.Worker;

/// <summary>One engine at the worker's usual 40 px minimum face, shared by a test class.</summary>
public sealed class WorkerEngineFixture : IDisposable
{
    public FaceEngine Engine { get; } = TestAssets.Engine(minFace: 40);

    public void Dispose() => Engine.Dispose();
}

/// <summary>A pipeline with its own metrics registry and an in-memory event sink.</summary>
internal sealed class Harness : IAsyncDisposable
{
    public Harness(WorkerSettings settings, FaceEngine engine, GalleryIndex? gallery = null, IFaceDetector? detector = null, ISnapshotStore? snapshots = null)
    {
        Settings = settings;
        Metrics = new PipelineMetrics(Prometheus.Metrics.NewCustomRegistry());
        Pipeline = new FramePipeline(settings, detector ?? engine.Detector, engine.Embedder, "cpu",
            gallery ?? GalleryIndex.Empty(engine.Embedder.ModelId, engine.Embedder.Dimension), [Events], Metrics, NullLoggerFactory.Instance, snapshots);
    }

    public WorkerSettings Settings { get; }

    public PipelineMetrics Metrics { get; }

    public FramePipeline Pipeline { get; }

    public MemorySink Events { get; } = new();

    public double Analysed(string camera) => Metrics.FramesAnalysed.WithLabels(camera).Value;

    public ValueTask DisposeAsync() => Pipeline.DisposeAsync();
}

/// <summary>The real detector, made deliberately slow: the "slow downstream stage" of the backpressure test.</summary>
internal sealed class SlowDetector(IFaceDetector inner, TimeSpan delay) : IFaceDetector
{
    public string Name => "slow " + inner.Name;

    public IReadOnlyList<DetectedFace> Detect(ImageFrame frame)
    {
        Thread.Sleep(delay);
        return inner.Detect(frame);
    }

    public IReadOnlyList<IReadOnlyList<DetectedFace>> DetectBatch(IReadOnlyList<ImageFrame> frames)
    {
        Thread.Sleep(delay);
        return inner.DetectBatch(frames);
    }

    public IReadOnlyList<IReadOnlyList<DetectedFace>> DetectBatch(IReadOnlyList<ImageFrame> frames, IReadOnlyList<FaceSizeRange> sizes)
    {
        Thread.Sleep(delay);
        return inner.DetectBatch(frames, sizes);
    }

    public void Dispose()
    {
    }
}

internal static class Wait
{
    public static async Task Until(Func<bool> condition, string what, TimeSpan? within = null, Func<string>? diagnose = null)
    {
        var limit = within ?? TimeSpan.FromSeconds(30);
        var deadline = DateTime.UtcNow + limit;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"not within {limit.TotalSeconds} s: {what}{(diagnose is null ? "" : " (" + diagnose() + ")")}");
            }

            await Task.Delay(50);
        }
    }
}

/// <summary>Runs a live test's body on the thread pool, off xUnit's synchronization context, and fails it (naming what hangs) instead of hanging.</summary>
internal static class Bounded
{
    public static async Task Run(Func<Task> body, int minutes = 3)
    {
        var work = Task.Run(body);
        var limit = TimeSpan.FromMinutes(minutes);
        if (await Task.WhenAny(work, Task.Delay(limit)) != work)
        {
            throw new Xunit.Sdk.XunitException($"the test did not finish within {limit.TotalMinutes} minutes");
        }

        await work;
    }
}

/// <summary>Keeps every formatted log line (level and message), to assert that a failure was not silent.</summary>
internal sealed class CapturingLogger : Microsoft.Extensions.Logging.ILogger
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => _lines.ToList();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

    public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Enqueue($"{logLevel}: {formatter(state, exception)}");
}
