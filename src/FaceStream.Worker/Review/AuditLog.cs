using FaceStream.Worker.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;

namespace FaceStream.Worker.Review;

/// <summary>Writes every successful change made through the API (watchlist changes, feedback) to the review store's audit log.</summary>
public static class AuditLog
{
    /// <summary>An endpoint filter: after a non-GET call answered 2xx, records the caller, the method, the path and the answer.</summary>
    public static async ValueTask<object?> Filter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var result = await next(context);
        var http = context.HttpContext;
        // A typed endpoint answers Results<…>, which carries its status only on the result it wraps.
        var outcome = result is INestedHttpResult nested ? nested.Result : result;
        if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method)
            && outcome is IStatusCodeHttpResult { StatusCode: >= 200 and < 300 } answered)
        {
            await RecordAsync(http, $"{http.Request.Method} {http.Request.Path} ({answered.StatusCode})");
        }

        return result;
    }

    /// <summary>Records <paramref name="what"/> as done by the request's caller, now (a no-op in hosts without a review store).</summary>
    public static Task RecordAsync(HttpContext http, string what) =>
        http.RequestServices.GetService<ReviewServices>() is { } review
            ? review.Store.AuditAsync(new AuditEntry(DateTimeOffset.UtcNow, ApiRoles.Caller(http).Who, what))
            : Task.CompletedTask;
}
