using FaceStream.Application.Gallery;
using FaceStream.Cli.Demo;
using FaceStream.Tests.Support;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Events;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace FaceStream.Tests.Worker;

/// <summary>Events:Attributes on the demo video (the six sample photos, women only): match and unknown events describe their face; switched off they do not.</summary>
[Trait("Category", "Live")]
public class EventAttributesTests(WorkerEngineFixture fixture) : IClassFixture<WorkerEngineFixture>
{
    private async Task<IReadOnlyList<FaceEvent>> RunDemoVideo(bool attributes, PipelineMetrics? metrics = null)
    {
        var engine = fixture.Engine;
        var galleryDir = TestAssets.TempDirectory();
        DemoAssets.MakeGallery(engine, TestAssets.Store, galleryDir);
        var gallery = await GalleryLoader.LoadIndexAsync(galleryDir, engine, new FaceStream.Application.Enrollment.EnrollmentOptions(), NullLogger.Instance);
        var settings = new WorkerSettings();
        settings.Pipeline.StopWhenSourcesEnd = true;
        // A file run that must decide every view: on a loaded machine the attributes outlast the default 10 s drain.
        settings.Pipeline.DrainTimeout = TimeSpan.FromMinutes(3);
        settings.Decision.ReportUnknown = true;
        settings.Events.Cooldown = TimeSpan.Zero;
        settings.Events.Attributes = attributes;
        settings.Cameras.Add(new CameraOptions { Id = "lobby", Url = VideoClips.Instance.Faces, AnalysisFps = 2 });
        var sink = new MemorySink();
        // The engine's constructor: it reads the switch, as the worker, watch and the benches do.
        var pipeline = new FramePipeline(settings, engine, gallery, [sink], metrics ?? new PipelineMetrics(Prometheus.Metrics.NewCustomRegistry()), NullLoggerFactory.Instance);
        await using (pipeline)
        {
            await pipeline.SyncCamerasAsync(settings.Cameras);
            await pipeline.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(4));
        }

        return sink.Events;
    }

    [Fact]
    public async Task By_default_match_and_unknown_events_carry_their_views_attributes_as_the_schema_documents()
    {
        Assert.True(new WorkerSettings().Events.Attributes);
        var events = await RunDemoVideo(attributes: true);

        var tracks = events.OfType<TrackEvent>().ToList();
        Assert.Contains(tracks, e => e is MatchEvent);
        Assert.Contains(tracks, e => e is UnknownEvent);
        var models = fixture.Engine.Attributes.Sources;
        foreach (var e in tracks)
        {
            var a = Assert.IsType<EventAttributes>(e.Attributes);
            Assert.Equal(models, a.Sources);
            Assert.NotNull(a.Values.Pose);
            Assert.InRange(a.Values.Age!.Years, 10, 90);
        }

        // Both enrolled people are women; gender is the attribute measured to work (docs/attributes.md).
        Assert.All(tracks.OfType<MatchEvent>(), m => Assert.Equal(FaceStream.Core.Attributes.Gender.Female, m.Attributes!.Values.Gender!.Gender));
        foreach (var json in events.Select(EventJson.Serialize))
        {
            Assert.True(EventSchema.Violations(json) is [], $"{json}\n{string.Join("\n", EventSchema.Violations(json))}");
        }
    }

    [Fact]
    public async Task Switched_off_the_events_carry_no_attributes()
    {
        var events = await RunDemoVideo(attributes: false);

        var tracks = events.OfType<TrackEvent>().ToList();
        Assert.Contains(tracks, e => e is MatchEvent);
        Assert.All(tracks, e => Assert.Null(e.Attributes));
        Assert.All(tracks, e => Assert.Contains("\"attributes\":null", EventJson.Serialize(e), StringComparison.Ordinal));
        Assert.All(events.Select(EventJson.Serialize), json => Assert.Empty(EventSchema.Violations(json)));
    }

    [Fact]
    public async Task Attributes_are_read_once_per_event_for_the_view_it_shows_not_for_every_embedded_view()
    {
        var metrics = new PipelineMetrics(Prometheus.Metrics.NewCustomRegistry());
        var events = await RunDemoVideo(attributes: true, metrics);

        var tracks = events.OfType<TrackEvent>().ToList();
        Assert.All(tracks, e => Assert.NotNull(e.Attributes));
        double analysed = metrics.AttributesAnalysed.WithLabels("lobby").Value;
        double embedded = metrics.Embeddings.WithLabels("lobby").Value + metrics.ViewsPreScreened.WithLabels("lobby").Value;
        Assert.Equal(tracks.Count, analysed);
        // The demo's tracks are embedded several times each before (and after) they decide: reading every view would cost more.
        Assert.True(embedded > analysed, $"{embedded} views embedded, {analysed} faces analysed");
    }
}
