using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FaceStream.Cli.Demo;
using FaceStream.Tests.Support;
using FaceStream.Worker.Hosting;
using Xunit;

namespace FaceStream.Tests.Worker;

/// <summary>
/// Expected failures of the watchlist API answer with a status that names the condition and an RFC 7807 problem body,
/// never an empty 500: the store down, malformed bodies, unsafe ids, oversized fields, a delete racing an upload,
/// and more uploads at once than the worker analyses.
/// </summary>
[Trait("Category", "Live")]
public class WatchlistApiFailureTests
{
    [Fact]
    public Task Every_api_call_while_redis_is_down_is_a_503_problem_with_retry_after() => Bounded.Run(async () =>
    {
        using var redis = new RedisServer();
        await using var app = await Start($$"""{ "Uri": "{{redis.Uri}}", "KeyPrefix": "fs-api-down-{{Guid.NewGuid():N}}" }""", "{}");
        using var http = Client(app);
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/api/identities", new { id = "someone", name = "Someone" })).StatusCode);

        redis.Kill();
        var calls = new Func<Task<HttpResponseMessage>>[]
        {
            () => http.GetAsync("/api/identities"),
            () => http.GetAsync("/api/identities/someone"),
            () => http.PostAsJsonAsync("/api/identities", new { name = "Other" }),
            () => http.DeleteAsync("/api/identities/someone"),
            () => http.DeleteAsync("/api/identities/someone/templates/abc"),
            () => WatchlistApiTests.Upload(http, "someone", File.ReadAllBytes(TestAssets.Sample(1))),
        };
        foreach (var call in calls)
        {
            using var answer = await call();
            var problem = await AssertProblem(answer, HttpStatusCode.ServiceUnavailable);
            Assert.Contains("unavailable", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.True(answer.Headers.RetryAfter is not null, "Retry-After header");
        }

        await app.StopAsync();
    }, minutes: 4);

    [Fact]
    public Task Malformed_bodies_unsafe_ids_and_oversized_fields_are_400_or_413_problems() => Bounded.Run(async () =>
    {
        await using var app = await Start("""{ "Uri": "memory:" }""", "{}");
        using var http = Client(app);

        foreach (var id in new[] { ".", "..", ".hidden", "a/b", new string('x', 65) })
        {
            await AssertProblem(await http.PostAsJsonAsync("/api/identities", new { id, name = "X" }), HttpStatusCode.BadRequest);
        }

        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/api/identities", new { id = "a.b-c_1", name = "Dots inside" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/identities/a.b-c_1")).StatusCode);
        await AssertProblem(await http.PostAsJsonAsync("/api/identities", new { name = new string('n', 201) }), HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/api/identities", new { name = new string('n', 200) })).StatusCode);
        await AssertProblem(await http.PostAsJsonAsync("/api/identities", new { name = new string('n', 25 * 1024 * 1024) }), HttpStatusCode.RequestEntityTooLarge);
        var manyKeys = Enumerable.Range(0, 33).ToDictionary(i => $"k{i}", i => "v");
        await AssertProblem(await http.PostAsJsonAsync("/api/identities", new { name = "M", metadata = manyKeys }), HttpStatusCode.BadRequest);
        await AssertProblem(await http.PostAsJsonAsync("/api/identities", new { name = "M", metadata = new { note = new string('v', 1025) } }), HttpStatusCode.BadRequest);
        await AssertProblem(await http.PostAsync("/api/identities", new StringContent("{\"name\": ", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        await AssertProblem(await http.PostAsync("/api/identities", new StringContent("[1,2]", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        await AssertProblem(await http.PostAsync("/api/identities", new StringContent("", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);

        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/api/identities", new { id = "p", name = "P" })).StatusCode);
        var broken = new ByteArrayContent("--xyz\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.jpg\"\r\n\r\nabc"u8.ToArray());
        broken.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=xyz");
        await AssertProblem(await http.PostAsync("/api/identities/p/faces", broken), HttpStatusCode.BadRequest);
        var noBoundary = new ByteArrayContent("whatever"u8.ToArray());
        noBoundary.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data");
        await AssertProblem(await http.PostAsync("/api/identities/p/faces", noBoundary), HttpStatusCode.BadRequest);
        using var noFile = new MultipartFormDataContent { { new StringContent("x"), "field" } };
        await AssertProblem(await http.PostAsync("/api/identities/p/faces", noFile), HttpStatusCode.BadRequest);
        await AssertProblem(await WatchlistApiTests.Upload(http, "p", []), HttpStatusCode.BadRequest);
        await AssertProblem(await WatchlistApiTests.Upload(http, "p", "not a photo"u8.ToArray()), HttpStatusCode.UnprocessableEntity);
        await app.StopAsync();
    });

    [Fact]
    public Task Uploads_over_the_pixel_budget_racing_a_delete_or_each_other_get_422_404_or_429_never_a_5xx() => Bounded.Run(async () =>
    {
        await using var app = await Start("""{ "Uri": "memory:" }""", """{ "MaxConcurrentUploads": 1, "UploadQueueTimeout": "00:00:00", "MaxImagePixels": 10000000 }""");
        using var http = Client(app);
        var face = BlondeFace();

        // Over the per-upload pixel budget (read from the header): refused before any decoding or queueing.
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/api/identities", new { id = "huge", name = "Huge" })).StatusCode);
        using (var bitmap = new SkiaSharp.SKBitmap(4000, 3000))
        using (var jpeg = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Jpeg, 50))
        {
            var problem = await AssertProblem(await WatchlistApiTests.Upload(http, "huge", jpeg.ToArray()), HttpStatusCode.UnprocessableEntity);
            Assert.Contains("Api:MaxImagePixels", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // A delete while the photo is being analysed: the identity is gone when the template is stored.
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/api/identities", new { id = "race", name = "Race" })).StatusCode);
            var upload = WatchlistApiTests.Upload(http, "race", face);
            await Task.Delay(20 * i);
            var deleted = await http.DeleteAsync("/api/identities/race");
            using var answer = await upload;
            Assert.True(answer.StatusCode is HttpStatusCode.Created or HttpStatusCode.NotFound, $"upload racing a delete: {answer.StatusCode}");
            if (answer.StatusCode == HttpStatusCode.NotFound)
            {
                await AssertProblem(answer, HttpStatusCode.NotFound);
            }

            if (deleted.StatusCode == HttpStatusCode.NotFound)
            {
                await http.DeleteAsync("/api/identities/race");
            }
        }

        // One slot and no queue: of several simultaneous uploads, the ones that find the slot taken are told to retry.
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/api/identities", new { id = "busy", name = "Busy" })).StatusCode);
        // The first is a 9 MP photo (under the budget; its detection takes a second or more) and holds the slot while the
        // others arrive: four small photos sent together could each finish before the next one arrived.
        byte[] large;
        using (var small = SkiaSharp.SKBitmap.Decode(face))
        using (var big = small.Resize(new SkiaSharp.SKImageInfo(3000, 3000), SkiaSharp.SKSamplingOptions.Default))
        using (var encoded = big.Encode(SkiaSharp.SKEncodedImageFormat.Jpeg, 80))
        {
            large = encoded.ToArray();
        }

        var first = WatchlistApiTests.Upload(http, "busy", large);
        await Task.Delay(300);
        var answers = (await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => WatchlistApiTests.Upload(http, "busy", face)).Prepend(first))).ToList();
        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.Created or HttpStatusCode.TooManyRequests, a.StatusCode.ToString()));
        var refused = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused);
        Assert.Contains(answers, a => a.StatusCode == HttpStatusCode.Created);
        foreach (var r in refused)
        {
            Assert.True(r.Headers.RetryAfter is not null, "Retry-After header on 429");
            await AssertProblem(r, HttpStatusCode.TooManyRequests);
        }

        // The slot is the worker's, not the endpoint's: while an enrollment holds it, an analyse upload is told to
        // retry too (each endpoint had its own slots once, so the memory bound was three times the setting).
        var holding = WatchlistApiTests.Upload(http, "busy", large);
        await Task.Delay(300);
        using (var analyse = await http.PostAsync("/api/analyse", new ByteArrayContent(face)))
        {
            var problem = await AssertProblem(analyse, HttpStatusCode.TooManyRequests);
            Assert.Contains("Api:MaxConcurrentUploads", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.Created, (await holding).StatusCode);
        await app.StopAsync();
    });

    private static byte[] BlondeFace()
    {
        var gallery = TestAssets.TempDirectory();
        using (var engine = TestAssets.Engine(minFace: 40))
        {
            DemoAssets.MakeGallery(engine, TestAssets.Store, gallery);
        }

        return File.ReadAllBytes(Directory.GetFiles(Path.Combine(gallery, "Blonde_Woman"))[0]);
    }

    private static async Task<WorkerApp> Start(string watchlist, string api)
    {
        var config = Path.Combine(TestAssets.TempDirectory(), "facestream.json");
        var apiSection = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(api)!;
        var merged = new Dictionary<string, object> { ["Token"] = WatchlistApiTests.Token };
        foreach (var (k, v) in apiSection)
        {
            merged[k] = v;
        }

        await File.WriteAllTextAsync(config, $$"""
            { "Detector": { "Mtcnn": { "MinFaceSize": 40 } }, "Metrics": { "Port": 0 }, "Events": { "Console": false },
              "Api": {{JsonSerializer.Serialize(merged)}}, "Watchlist": {{watchlist}} }
            """);
        var app = await WorkerHost.BuildAsync(["--config", config], Prometheus.Metrics.NewCustomRegistry());
        await app.StartAsync(CancellationToken.None);
        return app;
    }

    private static HttpClient Client(WorkerApp app)
    {
        var http = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", WatchlistApiTests.Token);
        return http;
    }

    private static async Task<JsonElement> AssertProblem(HttpResponseMessage answer, HttpStatusCode expected)
    {
        string body = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == expected, $"expected {expected}, got {answer.StatusCode}: {body}");
        Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        return problem;
    }
}
