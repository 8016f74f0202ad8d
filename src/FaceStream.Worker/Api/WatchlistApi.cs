using System.Security.Cryptography;
using System.Text;
using FaceStream.Watchlist.Enrollment;
using FaceStream.Watchlist.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FaceStream.Worker.Api;

/// <summary>Config section "Api": the watchlist HTTP API on the worker's HTTP listener (Metrics:Host/Port).</summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>Bearer token every /api call must present. Empty = the API answers 503 (set it through FACESTREAM__Api__Token, not in a file).</summary>
    public string Token { get; set; } = "";

    /// <summary>Largest image upload accepted.</summary>
    public int MaxUploadBytes { get; set; } = 10 * 1024 * 1024;

    public IEnumerable<string> Validate()
    {
        if (Token.Length is > 0 and < 16)
        {
            yield return $"{Section}:Token is too short (at least 16 characters)";
        }

        if (MaxUploadBytes is < 1024 or > 100 * 1024 * 1024)
        {
            yield return $"{Section}:MaxUploadBytes = {MaxUploadBytes} must be between 1 KiB and 100 MiB";
        }
    }
}

/// <summary>Watchlist CRUD and enrollment over HTTP: /api/identities[/{id}[/faces|/templates/{tid}]].</summary>
public static class WatchlistApi
{
    private sealed record CreateIdentity(string? Id, string? Name, Dictionary<string, string>? Metadata);

    public static void Map(IEndpointRouteBuilder app, IWatchlistStore store, Enroller enroller, ApiOptions options)
    {
        var api = app.MapGroup("/api").AddEndpointFilter(async (context, next) =>
        {
            if (options.Token.Length == 0)
            {
                return Results.Json(new { error = "the API is disabled: set Api:Token (e.g. FACESTREAM__Api__Token)" }, statusCode: 503);
            }

            return Authorized(context.HttpContext.Request, options.Token)
                ? await next(context)
                : Results.Json(new { error = "missing or wrong bearer token" }, statusCode: 401);
        });

        api.MapGet("/identities", async () =>
        {
            var list = await store.ListIdentitiesAsync();
            var counted = await Task.WhenAll(list.Select(async i => Identity(i, await store.ListTemplatesAsync(i.Id))));
            return Results.Json(counted);
        });

        api.MapPost("/identities", async (CreateIdentity body) =>
        {
            if (string.IsNullOrWhiteSpace(body.Name))
            {
                return Results.Json(new { error = "name is required" }, statusCode: 400);
            }

            if (body.Id is not null && !WatchlistIds.IsValid(body.Id))
            {
                return Results.Json(new { error = "id may only hold letters, digits, _ - . (at most 64)" }, statusCode: 400);
            }

            try
            {
                var created = await store.CreateIdentityAsync(body.Name, body.Metadata, body.Id);
                return Results.Json(Identity(created, []), statusCode: 201);
            }
            catch (ArgumentException e)
            {
                return Results.Json(new { error = e.Message }, statusCode: 409);
            }
        });

        api.MapGet("/identities/{id}", async (string id) =>
            await store.GetIdentityAsync(id) is { } identity
                ? Results.Json(Identity(identity, await store.ListTemplatesAsync(id)))
                : NotFound(id));

        api.MapDelete("/identities/{id}", async (string id) => await store.DeleteIdentityAsync(id) ? Results.NoContent() : NotFound(id));

        api.MapDelete("/identities/{id}/templates/{templateId}", async (string id, string templateId) =>
            await store.DeleteTemplateAsync(id, templateId) ? Results.NoContent() : Results.Json(new { error = $"no template '{templateId}' on identity '{id}'" }, statusCode: 404));

        api.MapPost("/identities/{id}/faces", async (string id, HttpRequest request) =>
        {
            if (await store.GetIdentityAsync(id) is null)
            {
                return NotFound(id);
            }

            if (request.ContentLength > options.MaxUploadBytes)
            {
                return TooLarge(options);
            }

            var image = await ReadLimited(request, options.MaxUploadBytes);
            if (image is null)
            {
                return TooLarge(options);
            }

            FacePick pick;
            try
            {
                pick = FacePick.Parse(Field(request, "face"), Field(request, "box"));
            }
            catch (FormatException e)
            {
                return Results.Json(new { error = e.Message }, statusCode: 400);
            }

            var result = await enroller.EnrollAsync(id, image, "upload", pick);
            var faces = result.Faces.Select(f => new { face = f.Number, box = new[] { f.Box.X1, f.Box.Y1, f.Box.X2, f.Box.Y2 }.Select(v => Math.Round(v, 1)), score = Math.Round(f.Score, 4) });
            return result.Accepted
                ? Results.Json(new { template_id = result.TemplateId, quality = Math.Round(result.Quality, 3), face = result.Face, note = result.Note, faces }, statusCode: 201)
                : Results.Json(new { error = result.Reason, faces }, statusCode: 422);
        });
    }

    private static object Identity(IdentityRecord i, IReadOnlyList<TemplateRecord> templates) => new
    {
        id = i.Id,
        name = i.Name,
        metadata = i.Metadata,
        created = i.CreatedAt,
        updated = i.UpdatedAt,
        templates = templates.Select(t => new { id = t.Id, model_id = t.ModelId, dimension = t.Dimension, quality = Math.Round(t.Quality, 3), created = t.CreatedAt, has_crop = t.Crop is not null }),
    };

    private static IResult NotFound(string id) => Results.Json(new { error = $"no identity '{id}'" }, statusCode: 404);

    private static IResult TooLarge(ApiOptions o) => Results.Json(new { error = $"upload larger than {o.MaxUploadBytes} bytes" }, statusCode: 413);

    private static bool Authorized(HttpRequest request, string token)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Constant-time comparison: response timing must not reveal how much of a guess was right.
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()), Encoding.UTF8.GetBytes(token));
    }

    /// <summary>A form field of a multipart upload, else the query string's (a raw-image upload has no form).</summary>
    private static string? Field(HttpRequest request, string name)
    {
        string? value = request.HasFormContentType ? request.Form[name].FirstOrDefault() : null;
        return string.IsNullOrEmpty(value) ? request.Query[name].FirstOrDefault() : value;
    }

    /// <summary>The body (raw image, or the first file of a multipart form), or null when over the limit.</summary>
    private static async Task<byte[]?> ReadLimited(HttpRequest request, int limit)
    {
        Stream body = request.Body;
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync();
            if (form.Files.Count == 0)
            {
                return [];
            }

            if (form.Files[0].Length > limit)
            {
                return null;
            }

            body = form.Files[0].OpenReadStream();
        }

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
