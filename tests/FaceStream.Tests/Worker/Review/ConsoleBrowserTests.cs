using System.Net.Http.Json;
using System.Text.Json;
using Deque.AxeCore.Playwright;
using FaceStream.Tests.Support;
using Microsoft.Playwright;
using Xunit;
using Xunit.Abstractions;

namespace FaceStream.Tests.Worker.Review;

/// <summary>A test that needs Debian's chromium; skipped, saying so, only where it is not installed.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string Executable = "/usr/bin/chromium";

    public ChromiumFactAttribute()
    {
        if (!File.Exists(Executable))
        {
            Skip = $"Debian's chromium is not installed ({Executable}): apt-get install chromium (scripts/setup.sh --test does)";
        }
    }
}

/// <summary>
/// The review console in a real browser (Playwright driving Debian's chromium) on a worker over the demo clip: sign-in,
/// the cameras page with the camera's latest frame, an alert with its snapshot and enrolled photo loaded, marking it wrong (seen in /metrics),
/// enrolling and deleting through the watchlist page, a viewer who cannot change anything, and no token → sign-in page;
/// the alerts' attributes, adding a correct match's face to its identity, "where was this person seen?", and deleting a
/// person with their snapshots erased. Screenshots of each page go to console-screenshots/ in the test output folder,
/// and axe (Deque.AxeCore.Playwright) checks each page: no serious or critical violation.
/// </summary>
[Trait("Category", "Live")]
public class ConsoleBrowserTests(ITestOutputHelper output)
{
    private static readonly string Shots = Path.Combine(AppContext.BaseDirectory, "console-screenshots");

    [ChromiumFact]
    public Task An_operator_reviews_the_demo_alerts_and_manages_the_watchlist_in_chromium_and_a_viewer_cannot_change_anything() => Bounded.Run(async () =>
    {
        Directory.CreateDirectory(Shots);
        string gallery = TestAssets.TempDirectory();
        await using var app = await ReviewWorker.StartOnDemoClipAsync(gallery);
        string root = app.BaseAddress!.ToString().TrimEnd('/');
        using var playwright = await Playwright.CreateAsync();
        // --no-sandbox: the tests may run as root (CI containers), where chromium's sandbox refuses to start.
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumFactAttribute.Executable, Headless = true, Args = ["--no-sandbox"] });
        var size = new ViewportSize { Width = 1366, Height = 768 };

        // No token: the console sends the browser to its sign-in page.
        var anonymous = await (await browser.NewContextAsync(new() { ViewportSize = size })).NewPageAsync();
        await anonymous.GotoAsync(root + "/alerts");
        Assert.EndsWith("/login", anonymous.Url, StringComparison.Ordinal);
        await Shot(anonymous, "login");

        // The operator signs in and lands on the cameras page: the demo camera, its file analysed to the end.
        var page = await (await browser.NewContextAsync(new() { ViewportSize = size })).NewPageAsync();
        await SignIn(page, root, ReviewWorker.Operator);
        var lobby = page.Locator("tr[data-camera=lobby]");
        await Assertions.Expect(lobby).ToContainTextAsync("completed");
        // Its latest frame, loaded by the browser with the cookie, with its age in the alt text and the caption.
        var frame = page.Locator("figure[data-camera-frame=lobby] img");
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('figure[data-camera-frame=lobby] img'); return i && !i.hidden && i.complete && i.naturalWidth > 0; }");
        Assert.Equal(640, await frame.EvaluateAsync<int>("i => i.naturalWidth"));
        Assert.Matches(@"^Latest analysed frame of camera lobby, analysed \d+\.\d s ago", await frame.GetAttributeAsync("alt"));
        await Assertions.Expect(page.Locator("figure[data-camera-frame=lobby] figcaption")).ToContainTextAsync("s ago");
        await Shot(page, "cameras");

        // Alerts: both demo alerts, each face snapshot and enrolled photo loaded by the browser (with the cookie).
        await page.GotoAsync(root + "/alerts");
        await Assertions.Expect(page.Locator("li.alert[data-kind=match]")).ToHaveCountAsync(2);
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('li.alert img')].every(i => i.complete && i.naturalWidth > 0)");
        var widths = await page.EvaluateAsync<int[]>("() => [...document.querySelectorAll('li.alert img.snapshot')].map(i => i.naturalWidth)");
        Assert.Equal(2, widths.Length);
        Assert.All(widths, w => Assert.True(w >= 40, $"snapshot {w} px wide"));
        await Shot(page, "alerts");

        // Marking the newest alert wrong: the page says so, and /metrics counts it.
        var newest = page.Locator("li.alert").First;
        await newest.GetByRole(AriaRole.Button, new() { Name = "Wrong" }).ClickAsync();
        await Assertions.Expect(newest.Locator(".verdict")).ToContainTextAsync("Marked wrong by operator#");
        using var http = new HttpClient { BaseAddress = app.BaseAddress };
        Assert.Contains("facestream_feedback_total{verdict=\"wrong\"} 1", await http.GetStringAsync("/metrics"), StringComparison.Ordinal);
        await Shot(page, "alerts-marked");

        // Each alert shows its face's attributes, the experimental ones marked as such.
        await Assertions.Expect(page.Locator("li.alert[data-kind=match] .attributes")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("li.alert .attributes").First).ToContainTextAsync("(* experimental)");
        await Assertions.Expect(page.Locator("li.alert .attributes .experimental").First).ToBeVisibleAsync();

        // "Add to watchlist": refused with the reason on the alert marked wrong, and on the older alert (marked correct)
        // whose face the enrollment checks refuse (a turned head); the newest, once marked correct, adds its face to
        // that identity as a new template in one click. The answers survive the list's refresh.
        await newest.GetByRole(AriaRole.Button, new() { Name = "Add to watchlist" }).ClickAsync();
        await Assertions.Expect(newest.Locator(".added")).ToContainTextAsync("Not added: 409: event '");
        await Assertions.Expect(newest.Locator(".added")).ToContainTextAsync("is not marked correct");
        var older = page.Locator("li.alert[data-kind=match]").Nth(1);
        await older.GetByRole(AriaRole.Button, new() { Name = "Correct" }).ClickAsync();
        await Assertions.Expect(older.Locator(".verdict")).ToContainTextAsync("Marked correct by operator#");
        await older.GetByRole(AriaRole.Button, new() { Name = "Add to watchlist" }).ClickAsync();
        await Assertions.Expect(older.Locator(".added")).ToContainTextAsync("Not added: 422: head turned sideways");
        using var admin = ReviewWorker.Client(app.BaseAddress!, ReviewWorker.Admin);
        int Templates(string json) => JsonDocument.Parse(json).RootElement.GetProperty("templates").GetArrayLength();
        int green = Templates(await admin.GetStringAsync("/api/identities/Woman_In_Green"));
        // The new verdict makes the next poll rebuild the list: these marks tell the rebuilt items from the old ones.
        await page.EvaluateAsync("() => document.querySelectorAll('li.alert').forEach(li => { li.dataset.stale = '1'; })");
        await newest.GetByRole(AriaRole.Button, new() { Name = "Correct" }).ClickAsync();
        await Assertions.Expect(newest.Locator(".verdict")).ToContainTextAsync("Marked correct by operator#");
        await newest.GetByRole(AriaRole.Button, new() { Name = "Add to watchlist" }).ClickAsync();
        await Assertions.Expect(newest.Locator(".added")).ToContainTextAsync("Added to Woman In Green (template ");
        Assert.Equal(green + 1, Templates(await admin.GetStringAsync("/api/identities/Woman_In_Green")));
        await page.WaitForFunctionAsync("() => !document.querySelector('li.alert').dataset.stale");
        await Assertions.Expect(older.Locator(".added")).ToContainTextAsync("Not added: 422: head turned sideways");
        await Shot(page, "alerts-added");

        // Where was this person seen? The lobby row with the alert as a mark, and the alert with its snapshot below.
        await page.GotoAsync(root + "/seen?identity=Blonde_Woman");
        await Assertions.Expect(page.Locator("#timeline tbody tr[data-camera=lobby] a.mark")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#sightings li")).ToHaveCountAsync(1);
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#sightings img')].every(i => i.complete && i.naturalWidth > 0)");
        Assert.Equal("#seen-" + await page.Locator("#sightings li").GetAttributeAsync("data-event"), await page.Locator("a.mark").GetAttributeAsync("href"));
        await Shot(page, "seen");

        // Watchlist: add a person, enroll a photo through the upload form (accepted), then delete the person.
        await page.GotoAsync(root + "/watchlist");
        await Assertions.Expect(page.Locator("#people tbody tr")).ToHaveCountAsync(2);
        await page.GetByLabel("Name").FillAsync("Visitor");
        await page.GetByLabel("Id (optional)").FillAsync("visitor");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add" }).ClickAsync();
        await Assertions.Expect(page.Locator("#people tbody tr")).ToHaveCountAsync(3);
        await page.Locator("#enroll select").SelectOptionAsync("visitor");
        // One of the demo gallery's photos (one face): the visitor's first template.
        var photo = Directory.GetFiles(Path.Combine(gallery, "Woman_In_Green"))[0];
        await page.Locator("input[type=file]").SetInputFilesAsync(photo);
        await page.GetByRole(AriaRole.Button, new() { Name = "Enroll" }).ClickAsync();
        await Assertions.Expect(page.Locator("#enrolled li")).ToContainTextAsync($"{Path.GetFileName(photo)}: accepted");
        Assert.Equal(1, JsonDocument.Parse(await admin.GetStringAsync("/api/identities/visitor")).RootElement.GetProperty("templates").GetArrayLength());
        await Shot(page, "watchlist");
        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await page.Locator("#people tbody tr", new() { HasText = "visitor" }).GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Assertions.Expect(page.Locator("#people tbody tr")).ToHaveCountAsync(2);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await admin.GetAsync("/api/identities/visitor")).StatusCode);

        // A viewer sees the alerts but every change is disabled in the page and refused by the server.
        var viewer = await (await browser.NewContextAsync(new() { ViewportSize = size })).NewPageAsync();
        await SignIn(viewer, root, ReviewWorker.Viewer);
        await viewer.GotoAsync(root + "/alerts");
        await Assertions.Expect(viewer.Locator("li.alert[data-kind=match]")).ToHaveCountAsync(2);
        await Assertions.Expect(viewer.Locator("button[data-verdict]").First).ToBeDisabledAsync();
        string id = (await viewer.Locator("li.alert").First.GetAttributeAsync("data-event"))!;
        int status = await viewer.EvaluateAsync<int>(
            "async id => (await fetch(`/api/events/${id}/feedback`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-FaceStream-Console': '1' }, body: '{\"verdict\":\"correct\"}' })).status", id);
        Assert.Equal(403, status);
        await Shot(viewer, "alerts-viewer");
        await viewer.GotoAsync(root + "/watchlist");
        await Assertions.Expect(viewer.Locator("#add")).ToBeHiddenAsync();
        await Assertions.Expect(viewer.Locator("#people tbody tr").First.GetByRole(AriaRole.Button, new() { Name = "Delete" })).ToBeDisabledAsync();

        // Deleting a person with "erase snapshots" ticked: the snapshots of their alerts answer 404 afterwards.
        await page.GotoAsync(root + "/watchlist");
        await page.GetByLabel("Delete also erases the snapshots").CheckAsync();
        await page.Locator("#people tbody tr", new() { HasText = "Woman_In_Green" }).GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Assertions.Expect(page.Locator("#erased")).ToContainTextAsync("erased 1 snapshot files of 1 alerts");
        await Assertions.Expect(page.Locator("#people tbody tr")).ToHaveCountAsync(1);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await admin.GetAsync($"/api/events/{id}/snapshot")).StatusCode);
        await Shot(page, "watchlist-erased");

        await page.GotoAsync(root + "/audit");
        await Assertions.Expect(page.Locator("#audit tbody tr")).ToHaveCountAsync(9);
        await Shot(page, "audit");
        await app.StopAsync();
    }, minutes: 6);

    private static async Task SignIn(IPage page, string root, string token)
    {
        await page.GotoAsync(root + "/login");
        await page.GetByLabel("API token").FillAsync(token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(root + "/");
    }

    private async Task Shot(IPage page, string name)
    {
        string path = Path.Combine(Shots, name + ".png");
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        output.WriteLine($"screenshot: {path}");
        await Accessible(page, name);
    }

    /// <summary>Runs axe on the page as it is: every violation is written to the output, a serious or critical one fails the test.</summary>
    private async Task Accessible(IPage page, string name)
    {
        var result = await page.RunAxe();
        foreach (var v in result.Violations)
        {
            output.WriteLine($"axe on {name}: {v.Impact} {v.Id}: {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Html))}");
        }

        var blocking = result.Violations.Where(v => v.Impact is "serious" or "critical").Select(v => $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Html))}").ToList();
        Assert.True(blocking.Count == 0, $"axe on the {name} page: {string.Join("; ", blocking)}");
    }
}
