using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Worker.Review;

/// <summary>
/// The review console's API on a real worker over the demo clip (real models, real snapshots): the recent events with
/// their snapshots, the camera's latest frame, roles (none, viewer, operator, admin; header and cookie), feedback in metrics and in `eval
/// feedback`, the audit log, and the console's pages. The worker keeps serving after the clip (Pipeline:ServeAfterSourcesEnd).
/// </summary>
[Trait("Category", "Live")]
public class ReviewConsoleTests
{
    [Fact]
    public Task Demo_alerts_are_reviewed_through_the_api_with_roles_feedback_metrics_audit_and_the_camera_frame() => Bounded.Run(async () =>
    {
        await using var app = await ReviewWorker.StartOnDemoClipAsync();
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = app.BaseAddress };
        using var viewer = ReviewWorker.Client(app.BaseAddress!, ReviewWorker.Viewer);
        using var op = ReviewWorker.Client(app.BaseAddress!, ReviewWorker.Operator);

        // The clip has ended and the listener still answers; no token: 401 on the API, the sign-in page for the console.
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/events")).StatusCode);
        var home = await anonymous.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, home.StatusCode);
        Assert.Equal("/login", home.Headers.Location?.OriginalString);

        // The two demo alerts, newest first, each with a snapshot the same token fetches.
        var matches = await Events(viewer, "?kind=match");
        Assert.Equal(["Woman_In_Green", "Blonde_Woman"], matches.Select(m => m.GetProperty("identity_id").GetString()).Take(2));
        Assert.Equal(2, matches.Count);
        var first = matches[0];
        string id = first.GetProperty("event_id").GetString()!;
        Assert.Equal($"/api/events/{id}/snapshot", first.GetProperty("snapshot_url").GetString());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("feedback").ValueKind);
        var snapshot = await viewer.GetAsync(first.GetProperty("snapshot_url").GetString());
        Assert.Equal("image/jpeg", snapshot.Content.Headers.ContentType?.MediaType);
        var jpeg = await snapshot.Content.ReadAsByteArrayAsync();
        Assert.True(FaceStream.Media.Images.StillImageDecoder.Decode(jpeg, "snapshot").Width >= 40);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(first.GetProperty("snapshot_url").GetString())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/identities/Woman_In_Green/photo")).StatusCode);

        // The camera's latest preview (Console:PreviewInterval): the 1280×720 clip scaled to 640 px wide, as JPEG, never
        // cached; a viewer may read it; no token: 401; a camera this worker does not run: 404.
        var frame = await viewer.GetAsync("/api/cameras/lobby/frame");
        Assert.Equal(HttpStatusCode.OK, frame.StatusCode);
        Assert.Equal("image/jpeg", frame.Content.Headers.ContentType?.MediaType);
        Assert.True(frame.Headers.CacheControl?.NoStore);
        Assert.True(double.Parse(frame.Headers.GetValues("X-Frame-Age").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 0);
        var preview = FaceStream.Media.Images.StillImageDecoder.Decode(await frame.Content.ReadAsByteArrayAsync(), "frame.jpg");
        Assert.Equal((640, 360), (preview.Width, preview.Height));
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/cameras/lobby/frame")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.GetAsync("/api/cameras/nowhere/frame")).StatusCode);

        // Filters: identity, camera, kind, limit; camera states are events too; bad values are refused.
        Assert.Single(await Events(viewer, "?identity=Woman_In_Green"));
        Assert.Empty(await Events(viewer, "?camera=nowhere"));
        Assert.Single(await Events(viewer, "?kind=match&limit=1"));
        Assert.Contains(await Events(viewer, "?kind=camera_state"), e => e.GetProperty("camera_state").GetString() == "completed");
        Assert.Equal(HttpStatusCode.BadRequest, (await viewer.GetAsync("/api/events?kind=everything")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await viewer.GetAsync("/api/events?limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.GetAsync($"/api/events/{Guid.NewGuid()}")).StatusCode);

        // A viewer reads but changes nothing.
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync($"/api/events/{id}/feedback", new { verdict = "wrong" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.DeleteAsync("/api/identities/Woman_In_Green")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync("/api/identities", new { name = "Nobody" })).StatusCode);
        Assert.Equal(2, JsonDocument.Parse(await viewer.GetStringAsync("/api/identities")).RootElement.GetArrayLength());

        // An operator marks the newest alert wrong: stored with the event, counted, audited.
        Assert.Equal(HttpStatusCode.BadRequest, (await op.PostAsJsonAsync($"/api/events/{id}/feedback", new { verdict = "maybe" })).StatusCode);
        var marked = await op.PostAsJsonAsync($"/api/events/{id}/feedback", new { verdict = "wrong" });
        Assert.Equal(HttpStatusCode.OK, marked.StatusCode);
        var again = JsonDocument.Parse(await viewer.GetStringAsync($"/api/events/{id}")).RootElement;
        Assert.Equal("wrong", again.GetProperty("feedback").GetProperty("verdict").GetString());
        Assert.StartsWith("operator#", again.GetProperty("feedback").GetProperty("who").GetString(), StringComparison.Ordinal);
        var metrics = await anonymous.GetStringAsync("/metrics");
        Assert.Contains("facestream_feedback_total{verdict=\"wrong\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("facestream_feedback_total{verdict=\"correct\"} 0", metrics, StringComparison.Ordinal);
        // The lobby was watched while its clip played: its previews are counted.
        Assert.Matches("facestream_camera_previews_total\\{camera=\"lobby\"\\} [1-9]", metrics);
        string older = matches[1].GetProperty("event_id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await op.PostAsJsonAsync($"/api/events/{older}/feedback", new { verdict = "correct" })).StatusCode);

        // `eval feedback` reads the verdicts from the worker: Woman_In_Green 0 %, Blonde_Woman 100 %.
        var eval = CliRunner.Run("eval", "feedback", "--from", app.BaseAddress!.ToString(), "--token", ReviewWorker.Viewer, "--json");
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        var report = JsonDocument.Parse(eval.Stdout).RootElement;
        Assert.Equal(2, report.GetProperty("labelled").GetInt32());
        Assert.Equal(0.5, report.GetProperty("precision").GetDouble());
        var byIdentity = report.GetProperty("by_identity").EnumerateArray().ToDictionary(r => r.GetProperty("key").GetString()!, r => r.GetProperty("precision").GetDouble());
        Assert.Equal(1.0, byIdentity["Blonde_Woman"]);
        Assert.Equal(0.0, byIdentity["Woman_In_Green"]);

        // A watchlist change by the admin token is audited too, newest first.
        Assert.Equal(HttpStatusCode.Created, (await ReviewWorker.Client(app.BaseAddress!, ReviewWorker.Admin).PostAsJsonAsync("/api/identities", new { id = "visitor", name = "Visitor" })).StatusCode);
        var audit = JsonDocument.Parse(await viewer.GetStringAsync("/api/audit")).RootElement.EnumerateArray().ToList();
        Assert.Equal(3, audit.Count);
        Assert.StartsWith("admin#", audit[0].GetProperty("who").GetString(), StringComparison.Ordinal);
        Assert.Equal("POST /api/identities (201)", audit[0].GetProperty("what").GetString());
        Assert.StartsWith($"feedback wrong on match event {Guid.Parse(id)}", audit[2].GetProperty("what").GetString(), StringComparison.Ordinal);

        // The console: signing in sets the cookie; the cookie reads the API, and changes need the console's header too.
        var cookies = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = app.BaseAddress };
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = "not-a-token-at-all-123" }))).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = ReviewWorker.Operator }))).StatusCode);
        Assert.True(cookies.GetAllCookies().Single().HttpOnly);
        Assert.Equal("operator", JsonDocument.Parse(await browser.GetStringAsync("/api/me")).RootElement.GetProperty("role").GetString());
        var page = await browser.GetStringAsync("/alerts");
        Assert.Contains("<h1>Alerts</h1>", page, StringComparison.Ordinal);
        Assert.Contains("function alertItem", await browser.GetStringAsync("/console/console.js"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.PostAsJsonAsync($"/api/events/{id}/feedback", new { verdict = "correct" })).StatusCode);
        using var fromConsole = new HttpRequestMessage(HttpMethod.Post, $"/api/events/{id}/feedback") { Content = JsonContent.Create(new { verdict = "correct" }) };
        fromConsole.Headers.Add("X-FaceStream-Console", "1");
        Assert.Equal(HttpStatusCode.OK, (await browser.SendAsync(fromConsole)).StatusCode);
        var cameras = JsonDocument.Parse(await browser.GetStringAsync("/api/console/cameras")).RootElement;
        Assert.Equal("lobby", cameras[0].GetProperty("id").GetString());
        Assert.Equal("completed", cameras[0].GetProperty("state").GetString());

        await app.StopAsync();
    });

    private static async Task<List<JsonElement>> Events(HttpClient http, string query)
    {
        var answer = await http.GetAsync("/api/events" + query);
        Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
        return JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.EnumerateArray().ToList();
    }
}
