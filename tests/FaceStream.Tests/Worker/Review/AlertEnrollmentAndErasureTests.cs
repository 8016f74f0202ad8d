using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Worker.Review;

/// <summary>
/// The review leftovers of issue 16 through the API of a real worker over the demo clip: the alerts carry their face's
/// attributes, a correct match's snapshot becomes a template of its identity (refused, as a problem, for an alert that is
/// not a correct match), and erasing an identity's snapshots deletes their files so the snapshots answer 404; audited.
/// </summary>
[Trait("Category", "Live")]
public class AlertEnrollmentAndErasureTests
{
    [Fact]
    public Task A_correct_match_adds_its_face_to_the_identity_and_erasing_an_identity_deletes_its_snapshot_files() => Bounded.Run(async () =>
    {
        await using var app = await ReviewWorker.StartOnDemoClipAsync();
        using var viewer = ReviewWorker.Client(app.BaseAddress!, ReviewWorker.Viewer);
        using var op = ReviewWorker.Client(app.BaseAddress!, ReviewWorker.Operator);
        var matches = JsonDocument.Parse(await viewer.GetStringAsync("/api/events?kind=match")).RootElement.EnumerateArray().ToList();
        var green = matches.Single(m => m.GetProperty("identity_id").GetString() == "Woman_In_Green");
        var blonde = matches.Single(m => m.GetProperty("identity_id").GetString() == "Blonde_Woman");
        string id = green.GetProperty("event_id").GetString()!;

        // The best view's attributes ride on the alert, with the models behind them and the experimental ones named.
        var attributes = green.GetProperty("attributes");
        Assert.Contains(attributes.GetProperty("gender").GetString(), new[] { "female", "male" });
        Assert.Contains("age", attributes.GetProperty("experimental").EnumerateArray().Select(e => e.GetString()));

        // Not marked correct yet: 409 with a problem that says why; a viewer may not; an unknown event is 404.
        var refused = await op.PostAsync($"/api/events/{id}/enroll", null);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("is not marked correct", JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync($"/api/events/{id}/enroll", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await op.PostAsync($"/api/events/{Guid.NewGuid()}/enroll", null)).StatusCode);
        await op.PostAsJsonAsync($"/api/events/{id}/feedback", new { verdict = "wrong" });
        Assert.Equal(HttpStatusCode.Conflict, (await op.PostAsync($"/api/events/{id}/enroll", null)).StatusCode);

        // Marked correct: its snapshot passes the enrollment checks and becomes one more template of that identity.
        int Templates(string json) => JsonDocument.Parse(json).RootElement.GetProperty("templates").GetArrayLength();
        int before = Templates(await viewer.GetStringAsync("/api/identities/Woman_In_Green"));
        await op.PostAsJsonAsync($"/api/events/{id}/feedback", new { verdict = "correct" });
        var added = await op.PostAsync($"/api/events/{id}/enroll", null);
        Assert.True(added.StatusCode == HttpStatusCode.Created, await added.Content.ReadAsStringAsync());
        string template = JsonDocument.Parse(await added.Content.ReadAsStringAsync()).RootElement.GetProperty("template_id").GetString()!;
        Assert.Equal(before + 1, Templates(await viewer.GetStringAsync("/api/identities/Woman_In_Green")));
        var audit = JsonDocument.Parse(await viewer.GetStringAsync("/api/audit")).RootElement;
        Assert.Equal($"added template {template} to Woman_In_Green from the snapshot of match event {Guid.Parse(id)} (camera lobby)", audit[0].GetProperty("what").GetString());

        // Erasure: the snapshot file of Woman_In_Green's alert is deleted and answers 404; Blonde_Woman's stays.
        string file = new Uri(green.GetProperty("snapshot").GetString()!).LocalPath;
        Assert.True(File.Exists(file), file);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.DeleteAsync("/api/identities/Woman_In_Green/snapshots")).StatusCode);
        var erased = await op.DeleteAsync("/api/identities/Woman_In_Green/snapshots");
        Assert.Equal(HttpStatusCode.OK, erased.StatusCode);
        var answer = JsonDocument.Parse(await erased.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(1, answer.GetProperty("events").GetInt32());
        Assert.Equal(1, answer.GetProperty("snapshots_deleted").GetInt32());
        Assert.False(File.Exists(file), file);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(file)!, $"{Guid.Parse(id):N}-*"));
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.GetAsync($"/api/events/{id}/snapshot")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync(blonde.GetProperty("snapshot_url").GetString())).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await op.PostAsync($"/api/events/{id}/enroll", null)).StatusCode);
        audit = JsonDocument.Parse(await viewer.GetStringAsync("/api/audit")).RootElement;
        Assert.Equal("erased the snapshots of identity Woman_In_Green: 1 snapshot files or keys of 1 events", audit[0].GetProperty("what").GetString());

        await app.StopAsync();
    });
}
