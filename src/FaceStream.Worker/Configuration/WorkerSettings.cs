using System.Text.Json;
using FaceStream.Core.Configuration;
using FaceStream.Core.Matching;
using FaceStream.Core.Quality;
using FaceStream.Core.Tracking;
using FaceStream.Inference.Detection;
using FaceStream.Inference.Runtime;
using FaceStream.Watchlist;
using FaceStream.Application.Enrollment;
using Microsoft.Extensions.Configuration;

namespace FaceStream.Worker.Configuration;

/// <summary>A configuration the worker refuses to start (or reload) with; the message names every bad key.</summary>
public sealed class WorkerConfigurationException(string message) : Exception(message);

/// <summary>Every section the worker reads, bound strictly (unknown keys are errors) and validated together.</summary>
public sealed class WorkerSettings
{
    public const string CamerasSection = "Cameras";

    public InferenceOptions Inference { get; } = new();

    public DetectorOptions Detector { get; } = new();

    /// <summary>Section "Detector:Mtcnn" (part of <see cref="Detector"/>).</summary>
    public MtcnnOptions Mtcnn => Detector.Mtcnn;

    public List<CameraOptions> Cameras { get; } = [];

    public PipelineOptions Pipeline { get; } = new();

    public TrackerOptions Tracking { get; } = new();

    public QualityOptions Quality { get; } = new();

    /// <summary>
    /// The smallest face cameras search for: the larger of <c>Detector:Mtcnn:MinFaceSize</c> and <c>Quality:MinFaceSize</c>.
    /// A face the quality gate refuses is never embedded, and searching below it doubled the detector's CPU at the default
    /// 20 px against 40 while finding as many faces the gate passes (docs/benchmarks.md, "Cameras search from the quality
    /// gate's face size"). Uploads (enrollment, analysis) still search from <c>Detector:Mtcnn:MinFaceSize</c>.
    /// </summary>
    public float CameraMinFaceSize() => Math.Max(Mtcnn.MinFaceSize, Quality.MinFaceSize);

    public DecisionOptions Decision { get; } = new();

    public MetricsOptions Metrics { get; } = new();

    public GalleryOptions Gallery { get; } = new();

    public EventsOptions Events { get; } = new();

    public WatchlistOptions Watchlist { get; } = new();

    public EnrollmentOptions Enrollment { get; } = new();

    public Api.ApiOptions Api { get; } = new();

    public Cluster.ClusterOptions Cluster { get; } = new();

    public Review.ConsoleOptions Console { get; } = new();

    /// <summary>Binds and validates; throws <see cref="WorkerConfigurationException"/> listing every problem.</summary>
    public static WorkerSettings Load(IConfiguration config)
    {
        var s = new WorkerSettings();
        s.BindStrictly(config);
        if (s.Problems() is { } problems)
        {
            throw new WorkerConfigurationException(problems);
        }

        return s;
    }

    /// <summary>Binds every section; an unknown key or a value that does not convert throws <see cref="WorkerConfigurationException"/> naming it.</summary>
    public void BindStrictly(IConfiguration config)
    {
        var unknown = ConfigKeys.Unknown(config, SectionTypes, ["Logging"]).ToList();
        if (unknown.Count > 0)
        {
            throw new WorkerConfigurationException("unknown configuration: " + string.Join("; ", unknown));
        }

        try
        {
            Bind(config, InferenceOptions.Section, Inference);
            Bind(config, DetectorOptions.Section, Detector);
            Bind(config, CamerasSection, Cameras);
            Bind(config, PipelineOptions.Section, Pipeline);
            Bind(config, TrackerOptions.Section, Tracking);
            Bind(config, QualityOptions.Section, Quality);
            Bind(config, DecisionOptions.Section, Decision);
            Bind(config, MetricsOptions.Section, Metrics);
            Bind(config, GalleryOptions.Section, Gallery);
            Bind(config, EventsOptions.Section, Events);
            Bind(config, WatchlistOptions.Section, Watchlist);
            Bind(config, EnrollmentOptions.Section, Enrollment);
            Bind(config, FaceStream.Worker.Api.ApiOptions.Section, Api);
            Bind(config, Worker.Cluster.ClusterOptions.Section, Cluster);
            Bind(config, Review.ConsoleOptions.Section, Console);
        }
        catch (InvalidOperationException e)
        {
            // The binder names the key and the value it could not convert or did not expect.
            throw new WorkerConfigurationException($"configuration: {e.Message}");
        }
    }

    /// <summary>"invalid configuration: " and every problem <see cref="Validate"/> finds, or null when there is none.</summary>
    public string? Problems()
    {
        var problems = Validate().ToList();
        return problems.Count > 0 ? "invalid configuration: " + string.Join("; ", problems) : null;
    }

    public IEnumerable<string> Validate()
    {
        var problems = Inference.Validate().Concat(Detector.Validate()).Concat(Pipeline.Validate()).Concat(Tracking.Validate())
            .Concat(Quality.Validate()).Concat(Decision.Validate()).Concat(Metrics.Validate()).Concat(Watchlist.Validate()).Concat(Enrollment.Validate()).Concat(Api.Validate()).Concat(Events.Validate()).Concat(Cluster.Validate()).Concat(Console.Validate()).ToList();
        // Every float and double, here and in every camera (VideoSourceOptions.Validate): finite, and in its [Range].
        foreach (var (section, options) in Sections())
        {
            problems.AddRange(NumberChecks.Problems(options, section + ":"));
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < Cameras.Count; i++)
        {
            var c = Cameras[i];
            string prefix = $"{CamerasSection}:{i}:";
            if (string.IsNullOrWhiteSpace(c.Id))
            {
                problems.Add($"{prefix}Id is empty: every camera needs a unique id");
            }
            else if (!seen.Add(c.Id))
            {
                problems.Add($"{prefix}Id = '{c.Id}' is used by another camera");
            }

            if (c.MinFaceSize is not 0 and (< 12 or > 4096))
            {
                problems.Add($"{prefix}MinFaceSize = {c.MinFaceSize} must be 0 (the worker's, {CameraMinFaceSize()} px) or between 12 and 4096");
            }

            problems.AddRange(c.Validate(prefix));
        }

        if (!string.IsNullOrWhiteSpace(Gallery.Directory) && !System.IO.Directory.Exists(Gallery.Directory))
        {
            problems.Add($"{GalleryOptions.Section}:Directory = '{Gallery.Directory}' does not exist");
        }

        return problems;
    }

    /// <summary>Each section's path in the configuration and the type it binds to.</summary>
    private static readonly Dictionary<string, Type> SectionTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [InferenceOptions.Section] = typeof(InferenceOptions), [DetectorOptions.Section] = typeof(DetectorOptions), [CamerasSection] = typeof(List<CameraOptions>),
        [PipelineOptions.Section] = typeof(PipelineOptions), [TrackerOptions.Section] = typeof(TrackerOptions), [QualityOptions.Section] = typeof(QualityOptions),
        [DecisionOptions.Section] = typeof(DecisionOptions), [MetricsOptions.Section] = typeof(MetricsOptions), [GalleryOptions.Section] = typeof(GalleryOptions),
        [EventsOptions.Section] = typeof(EventsOptions), [WatchlistOptions.Section] = typeof(WatchlistOptions), [EnrollmentOptions.Section] = typeof(EnrollmentOptions),
        [Worker.Api.ApiOptions.Section] = typeof(Api.ApiOptions), [Worker.Cluster.ClusterOptions.Section] = typeof(Cluster.ClusterOptions),
        [Review.ConsoleOptions.Section] = typeof(Review.ConsoleOptions),
    };

    /// <summary>Each section's name and options object, except Cameras (a list, validated camera by camera).</summary>
    private IEnumerable<(string Section, object Options)> Sections() =>
    [
        (InferenceOptions.Section, Inference), (DetectorOptions.Section, Detector), (PipelineOptions.Section, Pipeline), (TrackerOptions.Section, Tracking),
        (QualityOptions.Section, Quality), (DecisionOptions.Section, Decision), (MetricsOptions.Section, Metrics), (GalleryOptions.Section, Gallery),
        (EventsOptions.Section, Events), (WatchlistOptions.Section, Watchlist), (EnrollmentOptions.Section, Enrollment), (Worker.Api.ApiOptions.Section, Api),
        (Worker.Cluster.ClusterOptions.Section, Cluster), (Review.ConsoleOptions.Section, Console),
    ];

    /// <summary>A camera's settings as text, to tell whether a reload changed it.</summary>
    internal static string Fingerprint(CameraOptions c) => JsonSerializer.Serialize(c);

    private static void Bind(IConfiguration config, string section, object target) =>
        config.GetSection(section).Bind(target, o => o.ErrorOnUnknownConfiguration = true);
}
