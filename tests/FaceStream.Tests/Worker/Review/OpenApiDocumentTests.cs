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
        await using var app = await StartWorker();
        // Public, like /healthz: it describes the API, it reveals nothing a token protects.
        using var doc = await OpenApiDocument(app);
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
        Assert.Contains("POST /api/events/{id}/enroll", documented);
        Assert.Contains("DELETE /api/identities/{id}/snapshots", documented);
        Assert.Contains("GET /api/cameras/{id}/frame", documented);
        Assert.DoesNotContain(documented, d => d.EndsWith(" /", StringComparison.Ordinal) || d.Contains("/login", StringComparison.Ordinal));
        await app.StopAsync();
    });

    [Fact]
    public Task The_openapi_document_gives_each_answer_its_body_type_and_each_refusal_its_problem_status() => Bounded.Run(async () =>
    {
        await using var app = await StartWorker();
        using var doc = await OpenApiDocument(app);
        var paths = doc.RootElement.GetProperty("paths");

        var get = Responses(paths, "/api/identities/{id}", "get");
        Assert.Equal("IdentityAnswer", SchemaName(get.GetProperty("200"), "application/json"));
        foreach (var status in new[] { "401", "403", "404", "503" })
        {
            Assert.True(get.TryGetProperty(status, out var problem), $"GET /api/identities/{{id}} documents no {status}: {get}");
            Assert.Equal("ProblemDetails", SchemaName(problem, "application/problem+json"));
        }

        var enroll = Responses(paths, "/api/identities/{id}/faces", "post");
        Assert.Equal("EnrolledAnswer", SchemaName(enroll.GetProperty("201"), "application/json"));
        Assert.All(new[] { "400", "404", "413", "422", "429" }, status => Assert.True(enroll.TryGetProperty(status, out _), $"POST faces documents no {status}"));
        Assert.True(Responses(paths, "/api/identities/{id}", "delete").TryGetProperty("204", out _));
        Assert.True(Responses(paths, "/api/events", "get").TryGetProperty("200", out _));

        // The review console's answers are typed too: a named body, and the refusals each call can give.
        var fromAlert = Responses(paths, "/api/events/{id}/enroll", "post");
        Assert.Equal("AlertEnrolledAnswer", SchemaName(fromAlert.GetProperty("201"), "application/json"));
        Assert.All(new[] { "401", "403", "404", "409", "422", "429", "503" }, status => Assert.True(fromAlert.TryGetProperty(status, out _), $"POST enroll documents no {status}"));
        Assert.Equal("VerdictAnswer", SchemaName(Responses(paths, "/api/events/{id}/feedback", "post").GetProperty("200"), "application/json"));
        Assert.Equal("ErasureAnswer", SchemaName(Responses(paths, "/api/identities/{id}/snapshots", "delete").GetProperty("200"), "application/json"));
        Assert.Equal("CallerAnswer", SchemaName(Responses(paths, "/api/me", "get").GetProperty("200"), "application/json"));

        // The schemas carry the wire names (snake_case), not the C# ones.
        var template = doc.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("TemplateAnswer").GetProperty("properties");
        Assert.Equal(["id", "model_id", "dimension", "quality", "created", "has_crop"], template.EnumerateObject().Select(p => p.Name));
        await app.StopAsync();
    });

    private static async Task<WorkerApp> StartWorker()
    {
        var config = Path.Combine(TestAssets.TempDirectory(), "facestream.json");
        await File.WriteAllTextAsync(config, """{ "Metrics": { "Port": 0 }, "Events": { "Console": false }, "Api": { "Token": "openapi-test-token-0123456789" } }""");
        var app = await WorkerHost.BuildAsync(["--config", config], Prometheus.Metrics.NewCustomRegistry());
        await app.StartAsync(CancellationToken.None);
        return app;
    }

    private static async Task<JsonDocument> OpenApiDocument(WorkerApp app)
    {
        using var http = new HttpClient { BaseAddress = app.BaseAddress };
        return JsonDocument.Parse(await http.GetStringAsync("/openapi/v1.json"));
    }

    private static JsonElement Responses(JsonElement paths, string path, string method) =>
        paths.GetProperty(path).GetProperty(method).GetProperty("responses");

    /// <summary>The component name a response's body refers to ("#/components/schemas/NAME").</summary>
    private static string SchemaName(JsonElement response, string contentType)
    {
        string reference = response.GetProperty("content").GetProperty(contentType).GetProperty("schema").GetProperty("$ref").GetString()!;
        return reference[(reference.LastIndexOf('/') + 1)..];
    }
}
