using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace FaceStream.Worker.Api;

/// <summary>
/// Every /api refusal as an RFC 7807 problem (application/problem+json): a status, a title and a detail that says
/// what to change. The old <c>error</c> member is kept as an extension for clients that read it.
/// </summary>
internal static class ApiProblems
{
    public static ApiProblem Of(int status, string detail, int? retryAfterSeconds = null, IReadOnlyDictionary<string, object?>? extensions = null) =>
        new(status, detail, retryAfterSeconds, extensions);

    public static ApiProblem BadRequest(string detail) => Of(StatusCodes.Status400BadRequest, detail);

    public static ApiProblem NotFound(string detail) => Of(StatusCodes.Status404NotFound, detail);

    /// <summary>Maps the expected failures of a watchlist call to their answer; null for a real bug (left to the host's 500).</summary>
    public static ApiProblem? FromException(Exception e, int retryAfterSeconds) => e switch
    {
        FaceStream.Watchlist.Store.WatchlistUnavailableException => Of(StatusCodes.Status503ServiceUnavailable, e.Message, retryAfterSeconds),
        // An identity deleted while its photo was being analysed: the template has nowhere to go.
        KeyNotFoundException => NotFound(e.Message),
        BadHttpRequestException bad => Of(bad.StatusCode, bad.Message),
        // Malformed multipart bodies (bad boundary, truncated section, over the form limits).
        InvalidDataException => BadRequest($"malformed request body: {e.Message}"),
        System.Text.Json.JsonException => BadRequest($"malformed JSON: {e.Message}"),
        _ => null,
    };

    /// <summary>
    /// Declares, for OpenAPI, the refusals every call of a typed /api group can get: 401 (no or wrong token), 403 (a
    /// viewer's change) and 503 (no token configured, or the store unreachable).
    /// </summary>
    public static RouteGroupBuilder ProducesAccessProblems(this RouteGroupBuilder group) =>
        group.ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
}

/// <summary>
/// The typed result of an /api refusal: a <see cref="ProblemDetails"/> written by the host's problem-details service
/// (as <c>Results.Problem</c> writes it), with <c>Retry-After</c> when the client should try again later. An endpoint
/// returns it in its <c>Results&lt;…, ApiProblem&gt;</c>; the statuses it can answer are declared with
/// <c>ProducesProblem</c> on the endpoint (or, for the token checks, on the /api group) so OpenAPI lists them.
/// </summary>
public sealed class ApiProblem : IResult, IStatusCodeHttpResult, IValueHttpResult, IValueHttpResult<ProblemDetails>
{
    private readonly int? _retryAfterSeconds;

    internal ApiProblem(int status, string detail, int? retryAfterSeconds, IReadOnlyDictionary<string, object?>? extensions)
    {
        _retryAfterSeconds = retryAfterSeconds;
        Value = new ProblemDetails { Status = status, Title = Title(status), Detail = detail };
        foreach (var (key, value) in extensions ?? new Dictionary<string, object?>())
        {
            Value.Extensions[key] = value;
        }

        Value.Extensions["error"] = detail;
    }

    public ProblemDetails Value { get; }

    object? IValueHttpResult.Value => Value;

    public int StatusCode => Value.Status!.Value;

    /// <summary>The Retry-After header's seconds, if the answer sends one.</summary>
    internal int? RetryAfterSeconds => _retryAfterSeconds;

    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        if (_retryAfterSeconds is { } seconds)
        {
            httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        return TypedResults.Problem(Value).ExecuteAsync(httpContext);
    }

    private static string Title(int status) => status switch
    {
        400 => "Bad request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not found",
        409 => "Conflict",
        413 => "Too large",
        422 => "Photo refused",
        429 => "Too many requests",
        503 => "Service unavailable",
        _ => "Error",
    };
}
