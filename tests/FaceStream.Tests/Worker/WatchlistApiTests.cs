using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FaceStream.Cli.Demo;
using FaceStream.Tests.Support;
using FaceStream.Worker.Hosting;
using Xunit;

namespace FaceStream.Tests.Worker;

/// <summary>The worker's watchlist HTTP API: token, CRUD, enrollment of real photos, and every kind of bad upload.</summary>
[Trait("Category", "Live")]
public class WatchlistApiTests
{
    internal const string Token = "api-token-for-tests-0123456789";

    [Fact]
    public Task Identities_and_faces_are_managed_over_http_with_clear_refusals() => Bounded.Run(async () =>
    {
        var dir = TestAssets.TempDirectory();
        var config = Path.Combine(dir, "facestream.json");
        await File.WriteAllTextAsync(config, $$"""
            { "Detector": { "Mtcnn": { "MinFaceSize": 40 } }, "Metrics": { "Port": 0 }, "Events": { "Console": false },
              "Api": { "Token": "{{Token}}", "MaxUploadBytes": 400000 }, "Watchlist": { "Uri": "memory:" } }
            """);
        var gallery = TestAssets.TempDirectory();
        using (var engine = TestAssets.Engine(minFace: 40))
        {
            DemoAssets.MakeGallery(engine, TestAssets.Store, gallery);
        }

        var face = await File.ReadAllBytesAsync(Directory.GetFiles(Path.Combine(gallery, "Blonde_Woman"))[0]);
        await using var app = await WorkerHost.BuildAsync(["--config", config], Prometheus.Metrics.NewCustomRegistry());
        await app.StartAsync(CancellationToken.None);
        using var http = new HttpClient { BaseAddress = app.BaseAddress };

        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/identities")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong-token-wrong-token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/identities")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);

        var created = await http.PostAsJsonAsync("/api/identities", new { id = "blonde", name = "Blonde Woman", metadata = new { note = "test" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await http.PostAsJsonAsync("/api/identities", new { id = "blonde", name = "Again" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsJsonAsync("/api/identities", new { id = "bad id/../x", name = "X" })).StatusCode);

        var enrolled = await Upload(http, "blonde", face);
        Assert.Equal(HttpStatusCode.Created, enrolled.StatusCode);
        var templateId = JsonDocument.Parse(await enrolled.Content.ReadAsStringAsync()).RootElement.GetProperty("template_id").GetString();

        var text = await Upload(http, "blonde", "this is not a photo"u8.ToArray());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, text.StatusCode);
        var group = await Upload(http, "blonde", await File.ReadAllBytesAsync(TestAssets.Sample(2)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, group.StatusCode);
        // The refusal names every face seen so the caller can pick one (face=N or box=x1,y1,x2,y2).
        var refusal = JsonDocument.Parse(await group.Content.ReadAsStringAsync()).RootElement;
        // sample2 shows three people; at this minimum face size the detector finds two or three of them.
        var seen = refusal.GetProperty("faces").EnumerateArray().Select(f => f.GetProperty("face").GetInt32()).ToList();
        Assert.True(seen.Count >= 2, $"{seen.Count} faces listed");
        Assert.Equal(Enumerable.Range(1, seen.Count), seen);
        Assert.StartsWith($"{seen.Count} faces found and none is clearly the subject", refusal.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains($"#{seen.Count} (", refusal.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(4, refusal.GetProperty("faces")[0].GetProperty("box").GetArrayLength());
        // A face of a group photo picked by its box (numbers depend on the detector's sizes, which depend on its settings).
        var picked = await Upload(http, "blonde", await File.ReadAllBytesAsync(TestAssets.Sample(1)), "?box=400,340,610,610");
        Assert.True(picked.StatusCode == HttpStatusCode.Created, await picked.Content.ReadAsStringAsync());
        var pickedFace = JsonDocument.Parse(await picked.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(3, pickedFace.GetProperty("faces").GetArrayLength());
        Assert.StartsWith($"enrolled face #{pickedFace.GetProperty("face").GetInt32()} of 3 as asked", pickedFace.GetProperty("note").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await Upload(http, "blonde", face, "?face=0")).StatusCode);
        using (var form = new MultipartFormDataContent { { new ByteArrayContent(face), "file", "face.jpg" }, { new StringContent("10,10,5,5"), "box" } })
        {
            var badBox = await http.PostAsync("/api/identities/blonde/faces", form);
            Assert.Equal(HttpStatusCode.BadRequest, badBox.StatusCode);
            Assert.Contains("box must be x1,y1,x2,y2", await badBox.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await Upload(http, "nobody", face)).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await Upload(http, "blonde", new byte[400_001])).StatusCode);

        var one = JsonDocument.Parse(await http.GetStringAsync("/api/identities/blonde")).RootElement;
        Assert.Equal("Blonde Woman", one.GetProperty("name").GetString());
        Assert.Equal(2, one.GetProperty("templates").GetArrayLength());
        // The worker's own cache follows the API's changes.
        await Wait.Until(() => app.Watchlist.Index.Templates == 2, "the worker's watchlist has the uploaded faces");

        Assert.Equal(HttpStatusCode.NotFound, (await http.DeleteAsync("/api/identities/blonde/templates/nope")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/api/identities/blonde/templates/{templateId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("/api/identities/blonde")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/identities/blonde")).StatusCode);
        await app.StopAsync();
    });

    [Fact]
    public Task A_face_with_both_eyes_shut_is_refused_over_http_unless_the_caller_allows_it() => Bounded.Run(async () =>
    {
        var dir = TestAssets.TempDirectory();
        var config = Path.Combine(dir, "facestream.json");
        await File.WriteAllTextAsync(config, $$"""
            { "Metrics": { "Port": 0 }, "Events": { "Console": false }, "Api": { "Token": "{{Token}}" }, "Watchlist": { "Uri": "memory:" } }
            """);
        await using var app = await WorkerHost.BuildAsync(["--config", config], Prometheus.Metrics.NewCustomRegistry());
        await app.StartAsync(CancellationToken.None);
        using var http = new HttpClient { BaseAddress = app.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);

        // Both eyes painted shut over a sample face (ShutEyeFace): refused with how to override, enrolled when the caller allows it.
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/api/identities", new { id = "shut", name = "Eyes Shut" })).StatusCode);
        byte[] shut;
        using (var engine = TestAssets.Engine())
        {
            shut = ShutEyeFace.ShutPortrait(engine);
        }

        var closed = await Upload(http, "shut", shut);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, closed.StatusCode);
        string closedError = JsonDocument.Parse(await closed.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString()!;
        Assert.StartsWith("eyes closed (", closedError, StringComparison.Ordinal);
        Assert.Contains("allowClosedEyes=true", closedError, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await Upload(http, "shut", shut, "?allowClosedEyes=maybe")).StatusCode);
        var allowed = await Upload(http, "shut", shut, "?allowClosedEyes=true");
        Assert.True(allowed.StatusCode == HttpStatusCode.Created, await allowed.Content.ReadAsStringAsync());
        await app.StopAsync();
    });

    internal static Task<HttpResponseMessage> Upload(HttpClient http, string id, byte[] image, string query = "")
    {
        var content = new ByteArrayContent(image);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        return http.PostAsync($"/api/identities/{id}/faces{query}", content);
    }
}
