using FaceStream.Watchlist.Store;
using FaceStream.Worker.Api;
using FaceStream.Worker.Metrics;
using FaceStream.Worker.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace FaceStream.Worker.Review;

/// <summary>Maps everything of the review console: the events, feedback and console APIs, and the pages at /.</summary>
public static class ReviewConsole
{
    /// <summary>Needs <see cref="ReviewServices"/> registered in the host's services (it disposes them).</summary>
    public static void Map(WebApplication web, FramePipeline pipeline, PipelineMetrics metrics, IWatchlistStore store, ApiOptions options)
    {
        var review = web.Services.GetRequiredService<ReviewServices>();
        EventsApi.Map(web, review, options);
        FeedbackApi.Map(web, review, options);
        ConsoleApi.Map(web, pipeline, metrics, store, options);
        ConsolePages.Map(web, options);
    }
}
