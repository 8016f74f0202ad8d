using System.Text.Json;
using FaceStream.Media.Images;
using FaceStream.Application.Enrollment;
using FaceStream.Watchlist.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace FaceStream.Worker.Api;

/// <summary>Watchlist CRUD and enrollment over HTTP: /api/identities[/{id}[/faces|/templates/{tid}]].</summary>
public static class WatchlistApi
{
    private sealed record CreateIdentity(string? Id, string? Name, Dictionary<string, string>? Metadata);

    /// <summary>Largest JSON body of a create call: a name and metadata within <see cref="IdentityFields"/> fit many times over.</summary>
    private const int MaxJsonBytes = 64 * 1024;

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    public static void Map(IEndpointRouteBuilder app, IWatchlistStore store, Enroller enroller, ApiOptions options, UploadGate gate, UploadScheduler cpu)
    {
        var limits = ImageLimits.Default with { MaxPixels = options.MaxImagePixels };
        // Every successful change is written to the audit log (who, what, when).
        var api = Group(app, options).ProducesAccessProblems().AddEndpointFilter(Review.AuditLog.Filter);
        api.MapGet("/identities", async Task<Ok<IdentityAnswer[]>> () =>
        {
            var list = await store.ListIdentitiesAsync();
            return TypedResults.Ok(await Task.WhenAll(list.Select(async i => IdentityAnswer.Of(i, await store.ListTemplatesAsync(i.Id)))));
        });

        api.MapPost("/identities", async Task<Results<Created<IdentityAnswer>, ApiProblem>> (HttpRequest request) =>
        {
            if (request.ContentLength > MaxJsonBytes)
            {
                return ApiProblems.Of(413, $"request body larger than {MaxJsonBytes} bytes");
            }

            var json = await ReadLimited(request.Body, MaxJsonBytes);
            if (json is null)
            {
                return ApiProblems.Of(413, $"request body larger than {MaxJsonBytes} bytes");
            }

            var body = json.Length == 0 ? null : JsonSerializer.Deserialize<CreateIdentity>(json, Web);
            if (body is null)
            {
                return ApiProblems.BadRequest("expected a JSON object {\"name\", \"id\"?, \"metadata\"?}");
            }

            if (IdentityFields.Check(body.Name, body.Metadata) is { } refusal)
            {
                return ApiProblems.BadRequest(refusal);
            }

            if (body.Id is not null && !WatchlistIds.IsValid(body.Id))
            {
                return ApiProblems.BadRequest($"id must be {WatchlistIds.Grammar}");
            }

            try
            {
                var created = await store.CreateIdentityAsync(body.Name!, body.Metadata, body.Id);
                return TypedResults.Created((string?)null, IdentityAnswer.Of(created, []));
            }
            catch (ArgumentException e)
            {
                return ApiProblems.Of(409, e.Message);
            }
        }).ProducesProblem(400).ProducesProblem(409).ProducesProblem(413);

        api.MapGet("/identities/{id}", async Task<Results<Ok<IdentityAnswer>, ApiProblem>> (string id) =>
            await store.GetIdentityAsync(id) is { } identity
                ? TypedResults.Ok(IdentityAnswer.Of(identity, await store.ListTemplatesAsync(id)))
                : NotFound(id)).ProducesProblem(404);

        api.MapDelete("/identities/{id}", async Task<Results<NoContent, ApiProblem>> (string id) =>
            await store.DeleteIdentityAsync(id) ? TypedResults.NoContent() : NotFound(id)).ProducesProblem(404);

        api.MapDelete("/identities/{id}/templates/{templateId}", async Task<Results<NoContent, ApiProblem>> (string id, string templateId) =>
            await store.DeleteTemplateAsync(id, templateId) ? TypedResults.NoContent() : ApiProblems.NotFound($"no template '{templateId}' on identity '{id}'"))
            .ProducesProblem(404);

        api.MapPost("/identities/{id}/faces", async Task<Results<Created<EnrolledAnswer>, ApiProblem>> (string id, HttpRequest request, CancellationToken cancel) =>
        {
            if (await store.GetIdentityAsync(id, cancel) is null)
            {
                return NotFound(id);
            }

            if (request.ContentLength > options.MaxUploadBytes)
            {
                return TooLarge(options);
            }

            var image = await ReadUpload(request, options.MaxUploadBytes);
            if (image is null)
            {
                return TooLarge(options);
            }

            if (image.Length == 0)
            {
                return ApiProblems.BadRequest("no image: send the image as the body, or a multipart form with one file");
            }

            FacePick pick;
            try
            {
                pick = FacePick.Parse(Field(request, "face"), Field(request, "box"));
            }
            catch (FormatException e)
            {
                return ApiProblems.BadRequest(e.Message);
            }

            if (AllowClosedEyes(Field(request, "allowClosedEyes")) is not { } allowClosedEyes)
            {
                return ApiProblems.BadRequest("allowClosedEyes must be true or false");
            }

            var (refusal, slot) = await Admit(image, options, gate, cancel);
            using var held = slot;
            if (refusal is not null)
            {
                return refusal;
            }

            // Detection is CPU-bound: on the upload threads (below the cameras' priority), so Kestrel keeps answering meanwhile.
            var result = await cpu.Run(() => enroller.EnrollAsync(id, image, "upload", pick, cancel, limits, allowClosedEyes), cancel);
            var faces = result.Faces.Select(FaceSeenAnswer.Of).ToList();
            return result.Accepted
                ? TypedResults.Created((string?)null, new EnrolledAnswer(result.TemplateId, Math.Round(result.Quality, 3), result.Face, result.Note, faces))
                : ApiProblems.Of(422, result.Reason ?? "photo refused", extensions: new Dictionary<string, object?> { ["faces"] = faces });
        }).ProducesProblem(400).ProducesProblem(404).ProducesProblem(413).ProducesProblem(422).ProducesProblem(429);
    }

    /// <summary>The /api route group: every call needs a token (503 while none is configured, 401 for a wrong one, 403 for a viewer's change; <see cref="ApiRoles"/>), and the expected failures become problem answers.</summary>
    internal static RouteGroupBuilder Group(IEndpointRouteBuilder app, ApiOptions options) =>
        app.MapGroup("/api").AddEndpointFilter(async (context, next) =>
        {
            if (ApiRoles.Check(context.HttpContext, options) is { } refusal)
            {
                return refusal;
            }

            try
            {
                return await next(context);
            }
            catch (Exception e) when (ApiProblems.FromException(e, RetryAfterSeconds) is { } answer)
            {
                return answer;
            }
        });

    /// <summary>
    /// Admits an uploaded image for analysis: refused at once when its header says it is over the pixel budget (no
    /// queueing for that), else a place in the worker's upload gate (by count and by pixels), or a 429 when none frees
    /// up in time.
    /// </summary>
    internal static async Task<(ApiProblem? Refusal, IDisposable? Slot)> Admit(byte[] image, ApiOptions options, UploadGate gate, CancellationToken cancel)
    {
        long? pixels = StillImageDecoder.PixelCount(image);
        if (pixels > options.MaxImagePixels)
        {
            return (ApiProblems.Of(422, $"image has {pixels / 1_000_000.0:F0} MP, over the {options.MaxImagePixels / 1_000_000.0:F0} MP limit (Api:MaxImagePixels)"), null);
        }

        var slot = await gate.EnterAsync(pixels, cancel);
        return slot is null
            ? (ApiProblems.Of(429, $"other uploads are being analysed (at most {options.MaxConcurrentUploads} at once, {options.MaxUploadPixelsInFlight / 1_000_000.0:0.#} MP together: Api:MaxConcurrentUploads, Api:MaxUploadPixelsInFlight); try again later", gate.RetryAfterSeconds), null)
            : (null, slot);
    }

    /// <summary>Seconds a client is asked to wait when the watchlist store is unreachable (its cache resyncs on this order).</summary>
    private const int RetryAfterSeconds = 5;

    private static ApiProblem NotFound(string id) => ApiProblems.NotFound($"no identity '{id}'");

    private static ApiProblem TooLarge(ApiOptions o) => ApiProblems.Of(413, $"upload larger than {o.MaxUploadBytes} bytes");

    /// <summary>The allowClosedEyes field (form or query): absent = false; null when it is neither true nor false.</summary>
    internal static bool? AllowClosedEyes(string? value) => value is null ? false : bool.TryParse(value, out bool b) ? b : null;

    /// <summary>A form field of a multipart upload, else the query string's (a raw-image upload has no form).</summary>
    private static string? Field(HttpRequest request, string name)
    {
        string? value = request.HasFormContentType ? request.Form[name].FirstOrDefault() : null;
        return string.IsNullOrEmpty(value) ? request.Query[name].FirstOrDefault() : value;
    }

    /// <summary>The body (raw image, or the first file of a multipart form), or null when over the limit.</summary>
    internal static async Task<byte[]?> ReadUpload(HttpRequest request, int limit)
    {
        if (!request.HasFormContentType)
        {
            return await ReadLimited(request.Body, limit);
        }

        // The form reader's own limits (128 MB by default) would buffer far more than an upload may be.
        request.HttpContext.Features.Set<IFormFeature>(new FormFeature(request, new FormOptions
        {
            MultipartBodyLengthLimit = limit + (64 * 1024),
            ValueCountLimit = 16,
            BufferBodyLengthLimit = limit + (64 * 1024),
        }));
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync();
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
            // A multipart Content-Type without a boundary, or a body that ends inside a section, is the client's
            // mistake (a client that went away never reads the answer anyway): reported like any malformed body.
            throw new InvalidDataException(e.Message, e);
        }

        if (form.Files.Count == 0)
        {
            return [];
        }

        if (form.Files[0].Length > limit)
        {
            return null;
        }

        await using var file = form.Files[0].OpenReadStream();
        return await ReadLimited(file, limit);
    }

    /// <summary>A stream's bytes, or null as soon as there are more than <paramref name="limit"/>.</summary>
    private static async Task<byte[]?> ReadLimited(Stream body, int limit)
    {
        using var copy = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            copy.Write(buffer, 0, read);
            if (copy.Length > limit)
            {
                return null;
            }
        }

        return copy.ToArray();
    }
}
