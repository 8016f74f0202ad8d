using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using FaceStream.Core.Security;
using FaceStream.Media.Video;
using FaceStream.Worker.Cluster;
using FaceStream.Worker.Configuration;
using FaceStream.Worker.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FaceStream.Worker.Api;

/// <summary>
/// The cluster's camera list over HTTP (cluster mode only, same bearer token as the watchlist API): /api/cameras[/{id}].
/// A body holds one camera with the config's keys (Id, Url, Loop, AnalysisFps, …), validated as the config is; URLs are
/// answered with their password masked. A change reaches its owner through the registry's change channel. A probe
/// (<c>POST /api/cameras/{id}/probe</c>) is run by the worker that received it, whoever owns the camera.
/// </summary>
public static class CameraApi
{
    private const int MaxJsonBytes = 64 * 1024;
    private const int RetryAfterSeconds = 5;

    public static void Map(IEndpointRouteBuilder app, CameraOwnership cluster, FramePipeline pipeline, ApiOptions options)
    {
        // Every call here talks to the cluster's Redis: unreachable is a 503 for each of them.
        var api = WatchlistApi.Group(app, options).ProducesAccessProblems().AddEndpointFilter(RedisUnreachable);
        var registry = cluster.Registry;
        api.MapGet("/cameras", async Task<Ok<List<CameraAnswer>>> () =>
        {
            var cameras = await registry.ListAsync();
            var holders = await cluster.HoldersAsync(cameras.Select(c => c.Id).ToList());
            var local = pipeline.Cameras.ToDictionary(c => c.Id, StringComparer.Ordinal);
            return TypedResults.Ok(cameras.Select(c => CameraAnswer.Of(c, Held(holders, c.Id), local.GetValueOrDefault(c.Id))).ToList());
        });

        api.MapGet("/cameras/{id}", async Task<Results<Ok<CameraAnswer>, ApiProblem>> (string id) =>
            await registry.GetAsync(id) is { } camera
                ? TypedResults.Ok(CameraAnswer.Of(camera, Held(await cluster.HoldersAsync([id]), id), pipeline.Cameras.FirstOrDefault(c => c.Id == id)))
                : ApiProblems.NotFound($"no camera '{id}'")).ProducesProblem(404);

        api.MapPost("/cameras", async Task<Results<Created<CameraAnswer>, ApiProblem>> (HttpRequest request) =>
        {
            var (camera, refusal) = await ReadCameraAsync(request, null);
            if (camera is null)
            {
                return refusal!;
            }

            if (await registry.GetAsync(camera.Id) is not null)
            {
                return ApiProblems.Of(409, $"camera '{camera.Id}' exists; PUT /api/cameras/{camera.Id} changes it");
            }

            await registry.PutAsync(camera);
            return TypedResults.Created((string?)null, CameraAnswer.Of(camera, null, null));
        }).ProducesProblem(400).ProducesProblem(409).ProducesProblem(413);

        api.MapPut("/cameras/{id}", async Task<Results<Ok<CameraAnswer>, Created<CameraAnswer>, ApiProblem>> (string id, HttpRequest request) =>
        {
            var (camera, refusal) = await ReadCameraAsync(request, id);
            if (camera is null)
            {
                return refusal!;
            }

            bool created = await registry.PutAsync(camera);
            var answer = CameraAnswer.Of(camera, null, null);
            return created ? TypedResults.Created((string?)null, answer) : TypedResults.Ok(answer);
        }).ProducesProblem(400).ProducesProblem(413);

        api.MapDelete("/cameras/{id}", async Task<Results<NoContent, ApiProblem>> (string id) =>
            await registry.DeleteAsync(id) ? TypedResults.NoContent() : ApiProblems.NotFound($"no camera '{id}'")).ProducesProblem(404);

        var prober = new CameraProber();
        var log = app.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("FaceStream.Api");
        api.MapPost("/cameras/{id}/probe", async Task<Results<ContentHttpResult, ApiProblem>> (string id, double? timeout, HttpContext context) =>
        {
            var limit = TimeSpan.FromSeconds(timeout ?? CameraProber.DefaultTimeout.TotalSeconds);
            if (!(limit >= TimeSpan.FromSeconds(0.1) && limit <= CameraProber.MaxTimeout))
            {
                return ApiProblems.BadRequest($"timeout = {timeout} must be between 0.1 and {CameraProber.MaxTimeout.TotalSeconds:0} seconds");
            }

            if (await registry.GetAsync(id) is not { } camera)
            {
                return ApiProblems.NotFound($"no camera '{id}'");
            }

            if (await prober.TryProbeAsync(camera, limit, context.RequestAborted) is not { } outcome)
            {
                return ApiProblems.Of(429, $"{CameraProber.Slots} probes are running on this worker; try again shortly", RetryAfterSeconds);
            }

            log.LogInformation("camera {Camera} probed for {Caller} by worker {Worker}: {Outcome}", id, ApiRoles.Caller(context).Who, cluster.WorkerId,
                outcome.Result is { } r ? $"{r.Codec} {r.Width}x{r.Height}, first frame after {r.TimeToFirstFrame.TotalMilliseconds:0} ms" : outcome.Error);
            return TypedResults.Text(ProbeJson(id, cluster.WorkerId, outcome), "application/json; charset=utf-8");
        })
        .ProducesProblem(400).ProducesProblem(404).ProducesProblem(429)
        .WithSummary("Probe a camera: open its URL, decode one frame, report codec, size and fps")
        .WithDescription("Runs `facestream probe` on the camera's URL (with its Transport) on the worker that received the call, not necessarily "
            + "the camera's owner: `timeout` seconds (0.1 to 60, default 10) to open it and as many for the first frame. 200 with {camera_id, worker_id, "
            + "url (password masked), ok: true, live, codec, width, height, fps, pixel_format, open_ms, first_frame_ms, ffmpeg} when a frame came, "
            + "{camera_id, worker_id, url, ok: false, error} when none did; 404 unknown camera; 429 when two probes are running on this worker. "
            + "Needs an operator or admin token: a probe makes the worker connect to the camera.");
    }

    /// <summary>The probe's members as <c>facestream probe --json</c> writes them, after the camera and the worker that probed it.</summary>
    private static string ProbeJson(string camera, string worker, ProbeOutcome outcome)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("camera_id", camera);
            w.WriteString("worker_id", worker);
            outcome.WriteMembers(w);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A camera from a JSON body, checked key by key like the config's Cameras entries; else the 400 naming every bad key.</summary>
    private static async Task<(CameraOptions? Camera, ApiProblem? Refusal)> ReadCameraAsync(HttpRequest request, string? pathId)
    {
        if (request.ContentLength > MaxJsonBytes)
        {
            return (null, ApiProblems.Of(413, $"request body larger than {MaxJsonBytes} bytes"));
        }

        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        if (buffer.Length > MaxJsonBytes)
        {
            return (null, ApiProblems.Of(413, $"request body larger than {MaxJsonBytes} bytes"));
        }

        string json = Encoding.UTF8.GetString(buffer.ToArray()).Trim();
        if (!json.StartsWith('{'))
        {
            return (null, ApiProblems.BadRequest("expected a JSON object with the keys of a camera in the config (Id, Url, Loop, AnalysisFps, …)"));
        }

        // The body becomes the "Camera" section of a configuration, so the config's own checks name each key.
        IConfiguration config;
        try
        {
            config = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes($$"""{ "Camera": {{json}} }"""))).Build();
        }
        catch (FormatException e)
        {
            return (null, ApiProblems.BadRequest($"malformed JSON: {e.InnerException?.Message ?? e.Message}"));
        }

        var problems = ConfigKeys.Unknown(config, new Dictionary<string, Type> { ["Camera"] = typeof(CameraOptions) }, []).ToList();
        var camera = new CameraOptions();
        if (problems.Count == 0)
        {
            try
            {
                config.GetSection("Camera").Bind(camera, o => o.ErrorOnUnknownConfiguration = true);
            }
            catch (InvalidOperationException e)
            {
                problems.Add(UrlCredentials.Redact(e.Message));
            }
        }

        if (problems.Count == 0)
        {
            if (pathId is not null && camera.Id.Length == 0)
            {
                camera.Id = pathId;
            }

            if (pathId is not null && camera.Id != pathId)
            {
                problems.Add($"Camera:Id = '{camera.Id}' differs from the id in the path ('{pathId}')");
            }
            else if (string.IsNullOrWhiteSpace(camera.Id))
            {
                problems.Add("Camera:Id is empty: every camera needs a unique id");
            }

            problems.AddRange(camera.Validate("Camera:"));
        }

        return problems.Count == 0 ? (camera, null) : (null, ApiProblems.BadRequest("invalid camera: " + string.Join("; ", problems)));
    }

    private static (string Owner, long Epoch)? Held(IReadOnlyDictionary<string, (string Owner, long Epoch)> holders, string id) =>
        holders.TryGetValue(id, out var holder) ? holder : null;

    private static async ValueTask<object?> RedisUnreachable(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        // RedisTimeoutException is a TimeoutException, not a RedisException.
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return ApiProblems.Of(503, $"the cluster's Redis is unreachable: {e.GetType().Name}", RetryAfterSeconds);
        }
    }
}

/// <summary>A camera of the cluster's list as /api/cameras answers it (its URL's password masked).</summary>
public sealed record CameraAnswer(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("enabled")] bool Enabled,
    [property: JsonPropertyName("owner")] string? Owner,
    [property: JsonPropertyName("lease_epoch")] long? LeaseEpoch,
    [property: JsonPropertyName("state")] string? State,
    [property: JsonPropertyName("loop")] bool Loop,
    [property: JsonPropertyName("realtime")] bool Realtime,
    [property: JsonPropertyName("analysis_fps")] double AnalysisFps)
{
    public static CameraAnswer Of(CameraOptions c, (string Owner, long Epoch)? lease, CameraStatus? local) => new(
        c.Id, UrlCredentials.Redact(c.Url), c.Enabled, lease?.Owner, lease?.Epoch,
        // Known only on the worker that runs the camera (ask the owner's /status otherwise).
        local?.State.ToString().ToLowerInvariant(), c.Loop, c.Realtime, c.AnalysisFps);
}
