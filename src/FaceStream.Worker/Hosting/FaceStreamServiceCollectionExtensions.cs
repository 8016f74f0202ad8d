using FaceStream.Application.Enrollment;
using FaceStream.Core.Matching;
using FaceStream.Inference;
using FaceStream.Inference.Attributes;
using FaceStream.Inference.Models;
using FaceStream.Watchlist.Cache;
using FaceStream.Watchlist.Store;
using FaceStream.Worker.Api;
using FaceStream.Worker.Cluster;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Events;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Prometheus;

namespace FaceStream.Worker.Hosting;

/// <summary>
/// What a host other than the worker changes in the one composition root: <c>facestream watch</c> (sources and
/// sinks from the command line, a gallery folder) and the pipeline benches (a shared engine, their own sinks and
/// registry). The worker itself uses none of them.
/// </summary>
public sealed class FaceStreamOverrides
{
    /// <summary>The configuration file, when there is one: a relative Inference:ThresholdsFile resolves against its folder.</summary>
    public string? ConfigPath { get; set; }

    /// <summary>Applied after binding and before validation (command-line sources, global options).</summary>
    public Action<WorkerSettings>? Settings { get; set; }

    /// <summary>An engine built already (kept alive and disposed by its owner), instead of one built from the settings.</summary>
    public FaceEngine? Engine { get; set; }

    /// <summary>These sinks instead of the configured ones (no snapshots); disposed with the host.</summary>
    public IReadOnlyList<IEventSink>? Sinks { get; set; }

    /// <summary>A fixed gallery (a folder, a bench's photos) instead of the watchlist store and its cache.</summary>
    public Func<IServiceProvider, CancellationToken, Task<GalleryIndex>>? Gallery { get; set; }

    /// <summary>Another watchlist address than Watchlist:Uri (watch --watchlist).</summary>
    public string? WatchlistUri { get; set; }

    /// <summary>Where the metrics go; null = prometheus-net's default registry (what /metrics serves).</summary>
    public CollectorRegistry? Registry { get; set; }
}

/// <summary>
/// The composition root (eShop's <c>AddApplicationServices</c>): every service of the stream processor, registered
/// once, used by <c>facestream run</c> / <c>facestream-worker</c> (<see cref="WorkerHost"/>, which adds the HTTP
/// endpoints), <c>facestream watch</c> and <c>facestream bench pipeline</c> / <c>bench soak</c> (with
/// <see cref="FaceStreamOverrides"/>). Further background work joins as another hosted service below.
/// </summary>
public static class FaceStreamServiceCollectionExtensions
{
    public static IServiceCollection AddFaceStream(this IServiceCollection services, IConfiguration configuration, FaceStreamOverrides? overrides = null)
    {
        overrides ??= new FaceStreamOverrides();
        services.AddSingleton(overrides);

        // Options: strict binding (unknown keys named with the allowed ones), every problem in one message, checked at start.
        services.AddOptions<WorkerSettings>()
            .Configure(s => s.BindStrictly(configuration))
            .PostConfigure(s =>
            {
                overrides.Settings?.Invoke(s);
                s.Inference.ThresholdsFile = ThresholdFile.Resolve(s.Inference.ThresholdsFile, overrides.ConfigPath);
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<WorkerSettings>, WorkerSettingsValidation>();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<WorkerSettings>>().Value);

        services.AddSingleton(_ => new PipelineMetrics(overrides.Registry));
        if (overrides.Engine is { } engine)
        {
            services.AddSingleton(engine);
        }
        else
        {
            services.AddSingleton(sp =>
            {
                var settings = sp.GetRequiredService<WorkerSettings>();
                return new FaceEngine(settings.Inference, settings.Mtcnn, sp.GetRequiredService<ILoggerFactory>().CreateLogger("FaceStream.Engine"));
            });
        }

        // The watchlist: the store (Redis connects in the background when down), enrollment, and the cache the pipeline searches.
        services.AddSingleton(sp => sp.GetRequiredService<WorkerSettings>().Watchlist.Open(overrides.WatchlistUri));
        services.AddSingleton(sp => new ConsensusEyeState(sp.GetRequiredService<FaceEngine>().Models, sp.GetRequiredService<FaceEngine>().Sessions));
        services.AddSingleton(sp => new Enroller(sp.GetRequiredService<FaceEngine>(), sp.GetRequiredService<IWatchlistStore>(), sp.GetRequiredService<WorkerSettings>().Enrollment,
            sp.GetRequiredService<WorkerSettings>().Enrollment.RefuseClosedEyes ? sp.GetRequiredService<ConsensusEyeState>() : null));
        // One gate for every endpoint that decodes an uploaded image, so the upload memory bound holds for the worker.
        services.AddSingleton(sp =>
        {
            var api = sp.GetRequiredService<WorkerSettings>().Api;
            return new UploadGate(api.MaxConcurrentUploads, api.MaxUploadPixelsInFlight, api.UploadQueueTimeout);
        });
        // ... and one set of lower-priority threads that analyse them, so they take the CPU the cameras leave.
        services.AddSingleton(sp => new UploadScheduler(sp.GetRequiredService<WorkerSettings>().Api.UploadNice, Environment.ProcessorCount,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("FaceStream.Api")));
        services.AddSingleton(sp =>
        {
            var embedder = sp.GetRequiredService<FaceEngine>().Embedder;
            return new WatchlistCache(sp.GetRequiredService<IWatchlistStore>(), embedder.ModelId, embedder.Dimension,
                sp.GetRequiredService<WorkerSettings>().Watchlist.ResyncInterval, sp.GetRequiredService<ILoggerFactory>().CreateLogger("FaceStream.Watchlist"));
        });

        // Events: the configured sinks (the webhook's client from IHttpClientFactory) or the host's own.
        services.AddHttpClient(WebhookSink.HttpClientName);
        services.AddSingleton(sp => overrides.Sinks is { } sinks ? new EventSinks(sinks, null) : EventSinks.FromSettings(sp));

        // The pipeline (FramePipeline links the stages); its gallery is set by WatchlistService before it runs.
        services.AddSingleton(sp =>
        {
            var engine = sp.GetRequiredService<FaceEngine>();
            var sinks = sp.GetRequiredService<EventSinks>();
            return new FramePipeline(sp.GetRequiredService<WorkerSettings>(), engine, GalleryIndex.Empty(engine.Embedder.ModelId, engine.Embedder.Dimension),
                sinks.Sinks, sp.GetRequiredService<PipelineMetrics>(), sp.GetRequiredService<ILoggerFactory>(), sinks.Snapshots);
        });

        // Hosted services start one after another in this order (and before the HTTP server): the watchlist is loaded
        // before the first camera opens. Add further background work (leases, consoles) after these.
        services.AddSingleton<WatchlistService>();
        services.AddHostedService(sp => sp.GetRequiredService<WatchlistService>());
        services.AddSingleton<PipelineService>();
        services.AddHostedService(sp => sp.GetRequiredService<PipelineService>());
        // Cluster mode (Cluster:Redis): after the pipeline, so that on stop it hands its cameras over first.
        services.AddFaceStreamCluster();
        services.Configure<HostOptions>(o => o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.StopHost);
        return services;
    }

    /// <summary>
    /// The settings, bound and validated now: a bad configuration is reported before any model loads, as a
    /// <see cref="WorkerConfigurationException"/> with today's message.
    /// </summary>
    public static WorkerSettings ValidatedSettings(this IServiceProvider services)
    {
        try
        {
            return services.GetRequiredService<WorkerSettings>();
        }
        catch (OptionsValidationException e)
        {
            throw new WorkerConfigurationException(e.Message);
        }
    }
}

/// <summary>Every problem of the settings as one failure (the message names each bad key, as before).</summary>
internal sealed class WorkerSettingsValidation : IValidateOptions<WorkerSettings>
{
    public ValidateOptionsResult Validate(string? name, WorkerSettings options) =>
        options.Problems() is { } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
}
