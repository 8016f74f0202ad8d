using System.Net;
using FaceStream.Worker.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FaceStream.Worker.Review;

/// <summary>
/// The review console at / of the worker's HTTP listener: plain HTML pages (cameras, alerts, watchlist, audit log)
/// filled by one small script (Assets/console.js, no library, no CDN) that calls the same /api as any client. Sign-in:
/// a token form that sets an HttpOnly, SameSite=Strict cookie; API clients may send the bearer header instead.
/// </summary>
public static class ConsolePages
{
    private sealed record Page(string Path, string Name, string Title, string Body);

    private static readonly Page[] Pages =
    [
        new("/", "cameras", "Cameras", """
            <p id="status" role="status" aria-live="polite"></p>
            <table id="cameras"><caption>Every camera of this worker, refreshed every 3 seconds</caption>
            <thead><tr><th scope="col">Camera</th><th scope="col">State</th><th scope="col">Analysed fps</th><th scope="col">Last frame</th><th scope="col">Frames decoded</th><th scope="col">Reconnects</th><th scope="col">Last error</th></tr></thead>
            <tbody></tbody></table>
            <section aria-labelledby="frames-h"><h2 id="frames-h">Latest frames</h2>
            <p class="note">One analysed frame per camera, renewed every few seconds (Console:PreviewInterval), each face boxed with its track id and,
            once recognised, its name. Kept in this worker's memory only. In cluster mode this page shows the cameras this worker runs: a camera
            another worker owns has its frame on that worker's console.</p>
            <div id="frames" class="frames"></div></section>
            """),
        new("/alerts", "alerts", "Alerts", """
            <form id="filters" class="filters" aria-label="Filter alerts">
              <label>Camera <input name="camera" autocomplete="off"></label>
              <label>Identity id <input name="identity" autocomplete="off"></label>
              <label>Kind <select name="kind"><option value="match,unknown">Match and unknown</option><option value="match">Match</option><option value="unknown">Unknown</option><option value="">All, with camera states</option></select></label>
              <label>From <input name="since" type="datetime-local"></label>
              <label>To <input name="until" type="datetime-local"></label>
              <button type="submit">Apply</button>
            </form>
            <p id="status" role="status" aria-live="polite"></p>
            <ol id="alerts" class="alerts" aria-label="Alerts, newest first"></ol>
            <p><button type="button" id="older">Older alerts</button> <button type="button" id="newest">Back to newest</button></p>
            """),
        new("/watchlist", "watchlist", "Watchlist", """
            <section aria-labelledby="people-h"><h2 id="people-h">People</h2>
              <label>Search <input id="search" type="search" autocomplete="off"></label>
              <table id="people"><caption>Enrolled identities</caption>
              <thead><tr><th scope="col">Photo</th><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Templates</th><th scope="col">Actions</th></tr></thead><tbody></tbody></table>
              <p data-operator><label><input id="erase" type="checkbox"> Delete also erases the snapshots of the person's past alerts (a data-protection request)</label></p>
              <p id="erased" role="status" aria-live="polite"></p>
            </section>
            <section id="detail" aria-labelledby="detail-h" hidden><h2 id="detail-h">Identity</h2><p><a id="seen-link" href="/seen">Where was this person seen?</a></p><div id="templates" class="templates"></div></section>
            <section aria-labelledby="add-h" data-operator><h2 id="add-h">Add a person</h2>
              <form id="add" class="filters"><label>Name <input name="name" required></label><label>Id (optional) <input name="id"></label><button type="submit">Add</button></form>
            </section>
            <section aria-labelledby="enroll-h" data-operator><h2 id="enroll-h">Enroll photos</h2>
              <form id="enroll" class="filters"><label>Person <select name="identity" required></select></label>
                <label class="drop">Photos (choose or drop several) <input name="photos" type="file" accept="image/*" multiple required></label><button type="submit">Enroll</button></form>
              <ul id="enrolled" aria-live="polite"></ul>
            </section>
            """),
        new("/seen", "seen", "Where seen", """
            <form id="seen-pick" class="filters" aria-label="Choose a person"><label>Person <select id="seen-identity" name="identity"></select></label><button type="submit">Show</button></form>
            <p id="status" role="status" aria-live="polite"></p>
            <table id="timeline" class="timeline"><caption>Where was this person seen? Their match alerts by camera over time, oldest left: <span id="seen-span"></span></caption>
            <thead><tr><th scope="col">Camera</th><th scope="col">Alerts over time</th></tr></thead><tbody></tbody></table>
            <h2>Newest first</h2>
            <ol id="sightings" class="sightings" aria-label="Alerts of this person, newest first"></ol>
            """),
        new("/audit", "audit", "Audit log", """
            <p id="status" role="status" aria-live="polite"></p>
            <table id="audit"><caption>Watchlist changes and verdicts, newest first</caption>
            <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th></tr></thead><tbody></tbody></table>
            """),
    ];

    public static void Map(IEndpointRouteBuilder app, ApiOptions options)
    {
        foreach (var page in Pages)
        {
            app.MapGet(page.Path, (HttpContext http) =>
                ApiRoles.Identify(http.Request, options) is null ? Results.Redirect("/login") : Html(Shell(page), 200));
        }

        app.MapGet("/login", () => Html(Login(ApiRoles.Enabled(options) ? null : "The API and console are disabled: set Api:Token (or Api:OperatorToken / Api:ViewerToken)."), 200));
        app.MapPost("/login", async (HttpContext http) =>
        {
            var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync() : null;
            string token = form?["token"].FirstOrDefault()?.Trim() ?? "";
            if (!ApiRoles.Enabled(options) || ApiRoles.RoleOf(token, options) is null)
            {
                return Html(Login("That token is not valid here."), 401);
            }

            http.Response.Cookies.Append(ApiRoles.Cookie, token, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = http.Request.IsHttps,
                Path = "/",
                MaxAge = TimeSpan.FromHours(12),
            });
            return Results.Redirect("/", preserveMethod: false);
        });
        app.MapPost("/logout", (HttpContext http) =>
        {
            http.Response.Cookies.Delete(ApiRoles.Cookie, new CookieOptions { Path = "/" });
            return Results.Redirect("/login");
        });

        foreach (var (name, type) in new[] { ("console.js", "text/javascript"), ("console.css", "text/css") })
        {
            app.MapGet($"/console/{name}", () => Results.Stream(Asset(name), type + "; charset=utf-8"));
        }
    }

    private static Stream Asset(string name) =>
        typeof(ConsolePages).Assembly.GetManifestResourceStream($"console/{name}") ?? throw new FileNotFoundException($"embedded console asset {name} missing");

    private static IResult Html(string html, int status) => Results.Content(html, "text/html; charset=utf-8", statusCode: status);

    private static string Shell(Page page)
    {
        var nav = string.Concat(Pages.Select(p => $"""<a href="{p.Path}"{(p == page ? " aria-current=\"page\"" : "")}>{p.Title}</a>"""));
        return $"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{page.Title} · FaceStream</title><link rel="stylesheet" href="/console/console.css"></head>
            <body data-page="{page.Name}">
            <a class="skip" href="#main">Skip to content</a>
            <header><strong class="brand">FaceStream</strong><nav aria-label="Console">{nav}</nav>
            <span id="who" class="who"></span><form method="post" action="/logout"><button type="submit">Sign out</button></form></header>
            <main id="main" tabindex="-1"><h1>{page.Title}</h1>
            {page.Body}
            </main>
            <script src="/console/console.js"></script>
            </body></html>
            """;
    }

    private static string Login(string? error) => $"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Sign in · FaceStream</title><link rel="stylesheet" href="/console/console.css"></head>
        <body data-page="login"><main id="main" class="login"><h1>FaceStream console</h1>
        {(error is null ? "" : $"<p class=\"error\" role=\"alert\">{WebUtility.HtmlEncode(error)}</p>")}
        <form method="post" action="/login"><label for="token">API token (viewer, operator or admin)</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
        <button type="submit">Sign in</button></form>
        <p>The token is kept in a cookie for this site only (12 hours). <code>scripts/demo.sh</code> prints the demo's token.</p></main></body></html>
        """;
}
