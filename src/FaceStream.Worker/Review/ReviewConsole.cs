using FaceStream.Watchlist.Store;
using FaceStream.Worker.Api;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace FaceStream.Worker.Review;

/// <summary>Maps everything of the review console: the events, feedback and console APIs, the pages at /, and the API's OpenAPI document.</summary>
public static class ReviewConsole
{
    public const string OpenApiPath = "/openapi/v1.json";

    /// <summary>
    /// Registers <see cref="ReviewServices"/> (the container disposes them), their recent-events ring as one more event
    /// sink of the pipeline (<see cref="Hosting.EventSinks"/> adds the sinks the host registers), and the OpenAPI
    /// document of every /api endpoint.
    /// </summary>
    public static void AddServices(IServiceCollection services)
    {
        services.AddSingleton(sp => ReviewServices.Create(sp.GetRequiredService<Configuration.WorkerSettings>(), sp.GetRequiredService<PipelineMetrics>().Registry));
        services.AddSingleton<Events.IEventSink>(sp => sp.GetRequiredService<ReviewServices>().Recent);
        services.AddOpenApi(o =>
        {
            o.ShouldInclude = d => d.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true;
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "FaceStream worker API";
                document.Info.Description = "Watchlist, events, feedback, cameras and analyse. Every call needs a bearer token (Api:Token, Api:OperatorToken, Api:ViewerToken); viewers may only GET. See docs/console.md and docs/worker.md.";
                return Task.CompletedTask;
            });
        });
    }

    /// <summary>Needs <see cref="ReviewServices"/> registered in the host's services (it disposes them).</summary>
    public static void Map(WebApplication web, FramePipeline pipeline, PipelineMetrics metrics, IWatchlistStore store, ApiOptions options)
    {
        var review = web.Services.GetRequiredService<ReviewServices>();
        EventsApi.Map(web, review, options);
        FeedbackApi.Map(web, review, web.Services.GetRequiredService<FaceStream.Application.Enrollment.Enroller>(), options, web.Services.GetRequiredService<UploadGate>(),
            web.Services.GetRequiredService<UploadScheduler>());
        ConsoleApi.Map(web, pipeline, metrics, store, options);
        ConsolePages.Map(web, options);
        web.MapOpenApi(OpenApiPath);
    }
}
