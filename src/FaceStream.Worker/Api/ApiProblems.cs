using Microsoft.AspNetCore.Http;

namespace FaceStream.Worker.Api;

/// <summary>
/// Every /api refusal as an RFC 7807 problem (application/problem+json): a status, a title and a detail that says
/// what to change. The old <c>error</c> member is kept as an extension for clients that read it.
/// </summary>
internal static class ApiProblems
{
    public static IResult Of(int status, string detail, int? retryAfterSeconds = null, IReadOnlyDictionary<string, object?>? extensions = null) =>
        new Problem(status, detail, retryAfterSeconds, extensions);

    public static IResult BadRequest(string detail) => Of(StatusCodes.Status400BadRequest, detail);

    public static IResult NotFound(string detail) => Of(StatusCodes.Status404NotFound, detail);

    /// <summary>Maps the expected failures of a watchlist call to their answer; null for a real bug (left to the host's 500).</summary>
    public static IResult? FromException(Exception e, int retryAfterSeconds) => e switch
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

    private sealed class Problem(int status, string detail, int? retryAfterSeconds, IReadOnlyDictionary<string, object?>? more) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            if (retryAfterSeconds is { } seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            var extensions = new Dictionary<string, object?>(more ?? new Dictionary<string, object?>()) { ["error"] = detail };
            return Results.Problem(detail: detail, statusCode: status, title: Title(status), extensions: extensions).ExecuteAsync(context);
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
}
