using System.Net.Http.Headers;
using System.Text.Json;
using FaceStream.Cli.Demo;
using FaceStream.Tests.Support;
using FaceStream.Worker.Hosting;

namespace FaceStream.Tests.Worker.Review;

/// <summary>A real worker over the demo clip (gallery of two demo people, face snapshots, three role tokens) that serves on after the clip.</summary>
internal static class ReviewWorker
{
    public const string Admin = "admin-token-for-review-tests-0001";
    public const string Operator = "operator-token-for-review-tests-02";
    public const string Viewer = "viewer-token-for-review-tests-0003";

    /// <summary>Started, with the clip analysed and its events published (two alerts); the gallery's photos go to <paramref name="gallery"/> when given.</summary>
    public static async Task<WorkerApp> StartOnDemoClipAsync(string? gallery = null)
    {
        var dir = TestAssets.TempDirectory();
        gallery ??= Path.Combine(dir, "gallery");
        using (var engine = TestAssets.Engine(minFace: 40))
        {
            DemoAssets.MakeGallery(engine, TestAssets.Store, gallery);
        }

        var config = Path.Combine(dir, "facestream.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Detector = new { Mtcnn = new { MinFaceSize = 40 } },
            Cameras = new[] { new { Id = "lobby", Url = VideoClips.Instance.Faces, AnalysisFps = 5 } },
            // A loaded machine (the full suite) can take longer than the default 10 s to decide the last faces.
            Pipeline = new { StopWhenSourcesEnd = true, ServeAfterSourcesEnd = true, DrainTimeout = "00:01:30" },
            Gallery = new { Directory = gallery },
            Events = new { Console = false, Snapshots = new { Directory = Path.Combine(dir, "snapshots") } },
            Metrics = new { Port = 0 },
            Api = new { Token = Admin, OperatorToken = Operator, ViewerToken = Viewer },
            // The console is open while the clip plays (previews are made only while someone watches); long enough for a loaded machine.
            Console = new { PreviewWatchWindow = "00:10:00" },
        }));
        var app = await WorkerHost.BuildAsync(["--config", config], Prometheus.Metrics.NewCustomRegistry());
        try
        {
            app.Pipeline.Previews.Watch("lobby");
            await app.StartAsync(CancellationToken.None);
            await app.PipelineEnded.WaitAsync(TimeSpan.FromMinutes(2));
            if (app.Failure is { } failure)
            {
                throw new InvalidOperationException($"the demo worker failed: {failure.Message}", failure);
            }

            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>A client that sends <paramref name="token"/> as its bearer token.</summary>
    public static HttpClient Client(Uri address, string token)
    {
        var http = new HttpClient { BaseAddress = address };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }
}
