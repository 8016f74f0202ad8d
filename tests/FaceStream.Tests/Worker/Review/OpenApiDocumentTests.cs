using System.Text.Json;
using FaceStream.Tests.Support;
using FaceStream.Worker.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace FaceStream.Tests.Worker.Review;

/// <summary>/openapi/v1.json describes exactly the worker's /api routes (method and path), generated from the endpoints themselves.</summary>
[Trait("Category", "Live")]
public class OpenApiDocumentTests
{
    [Fact]
    public Task The_openapi_document_lists_every_api_route_and_nothing_else() => Bounded.Run(async () =>
    {
        var config = Path.Combine(TestAssets.TempDirectory(), "facestream.json");
        await File.WriteAllTextAsync(config, """{ "Metrics": { "Port": 0 }, "Events": { "Console": false }, "Api": { "Token": "openapi-test-token-0123456789" } }""");
        await using var app = await WorkerHost.BuildAsync(["--config", config], Prometheus.Metrics.NewCustomRegistry());
        await app.StartAsync(CancellationToken.None);
        using var http = new HttpClient { BaseAddress = app.BaseAddress };

        // Public, like /healthz: it describes the API, it reveals nothing a token protects.
        using var doc = JsonDocument.Parse(await http.GetStringAsync("/openapi/v1.json"));
        var documented = doc.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(op => $"{op.Name.ToUpperInvariant()} {p.Name}"))
            .Order(StringComparer.Ordinal).ToList();
        var routes = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? []).Select(m => $"{m} {e.RoutePattern.RawText}"))
            .Order(StringComparer.Ordinal).ToList();

        Assert.Equal(routes, documented);
        Assert.Contains("GET /api/events", documented);
        Assert.Contains("POST /api/events/{id}/feedback", documented);
        Assert.Contains("POST /api/identities/{id}/faces", documented);
        Assert.Contains("GET /api/cameras/{id}/frame", documented);
        Assert.DoesNotContain(documented, d => d.EndsWith(" /", StringComparison.Ordinal) || d.Contains("/login", StringComparison.Ordinal));
        await app.StopAsync();
    });
}
