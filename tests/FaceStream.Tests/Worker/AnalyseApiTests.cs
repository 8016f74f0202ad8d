using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using FaceStream.Tests.Support;
using FaceStream.Worker.Hosting;
using Xunit;

namespace FaceStream.Tests.Worker;

/// <summary>POST /api/analyse: an image in, every face with its attributes out, only with the API's token.</summary>
[Trait("Category", "Live")]
public class AnalyseApiTests
{
    [Fact]
    public Task Analyse_answers_faces_with_attributes_only_with_the_token_and_refuses_bad_images() => Bounded.Run(async () =>
    {
        var dir = TestAssets.TempDirectory();
        var config = Path.Combine(dir, "facestream.json");
        await File.WriteAllTextAsync(config, $$"""
            { "Detector": { "Mtcnn": { "MinFaceSize": 40 } }, "Metrics": { "Port": 0 }, "Events": { "Console": false },
              "Api": { "Token": "{{WatchlistApiTests.Token}}" }, "Watchlist": { "Uri": "memory:" } }
            """);
        await using var app = await WorkerHost.BuildAsync(["--config", config], Prometheus.Metrics.NewCustomRegistry());
        await app.StartAsync(CancellationToken.None);
        using var http = new HttpClient { BaseAddress = app.BaseAddress };
        var photo = await File.ReadAllBytesAsync(TestAssets.Sample(6));

        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync("/api/analyse", new ByteArrayContent(photo))).StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong-token-wrong-token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync("/api/analyse", new ByteArrayContent(photo))).StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", WatchlistApiTests.Token);

        var answer = await http.PostAsync("/api/analyse", new ByteArrayContent(photo));
        string body = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == HttpStatusCode.OK, body);
        var root = JsonDocument.Parse(body).RootElement;
        Assert.Equal(1920, root.GetProperty("width").GetInt32());
        var faces = root.GetProperty("faces").EnumerateArray().ToList();
        // sample6: four women (labelled by looking).
        Assert.Equal(4, faces.Count);
        Assert.All(faces, f =>
        {
            Assert.Equal(4, f.GetProperty("box").GetArrayLength());
            Assert.Equal(5, f.GetProperty("landmarks").GetArrayLength());
            Assert.Equal("female", f.GetProperty("gender").GetString());
            Assert.InRange(f.GetProperty("age").GetDouble(), 16, 70);
            Assert.True(f.GetProperty("pose").TryGetProperty("yaw", out _));
            Assert.Equal("faceres-gender-age", f.GetProperty("models").GetProperty("gender").GetString());
            Assert.Contains("expression", f.GetProperty("experimental").EnumerateArray().Select(e => e.GetString()));
        });

        // The same photo as a multipart form gives the same faces.
        using (var form = new MultipartFormDataContent { { new ByteArrayContent(photo), "file", "photo.jpg" } })
        {
            var multipart = JsonDocument.Parse(await (await http.PostAsync("/api/analyse", form)).Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(faces.Count, multipart.GetProperty("faces").GetArrayLength());
        }

        var text = await http.PostAsync("/api/analyse", new ByteArrayContent("this is not a photo"u8.ToArray()));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, text.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync("/api/analyse", new ByteArrayContent([]))).StatusCode);
    });
}
