using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FaceStream.Tests.Support;
using Xunit;

namespace FaceStream.Tests.Worker.Cluster;

/// <summary>
/// Several real worker processes sharing one Redis and the cameras of one config (issue 15): each camera streams on
/// exactly one worker, through a crash, a graceful stop, a newcomer, camera API changes, a pause and a Redis restart;
/// shares weighed by capacity, probes through the API and the take-over time of a crashed worker's cameras.
/// </summary>
[Trait("Category", "Live")]
public class ClusterWorkerTests
{
    [Fact]
    public Task Three_workers_stream_six_cameras_once_each_and_hand_them_over_when_one_is_killed_and_when_one_stops() => Bounded.Run(async () =>
    {
        using var cluster = new TestCluster(cameras: 6);
        var nodes = await cluster.StartAsync("w1", "w2", "w3");
        var (w1, w2, w3) = (nodes[0], nodes[1], nodes[2]);
        var start = DateTimeOffset.UtcNow;
        // Fair share: six cameras over three workers is two each.
        await cluster.WaitEachOnceAsync([w1, w2, w3], also: m => m.Values.GroupBy(w => w[0]).All(g => g.Count() == 2) && m.Values.Select(w => w[0]).Distinct().Count() == 3);

        // A crash hands nothing over: its cameras wait for their leases to expire, then stream on the others.
        var w3Cameras = await w3.StreamingAsync();
        var killed = DateTimeOffset.UtcNow;
        w3.Process.Signal("KILL");
        var after = await cluster.WaitEachOnceAsync([w1, w2], also: m => m.Values.All(w => w[0] != "w3"));
        Assert.All(w3Cameras, c => Assert.NotEqual("w3", after[c][0]));

        // A graceful stop releases its leases before the process exits (nobody waits for them to expire).
        w2.Process.Terminate();
        Assert.Equal(0, await w2.Process.ExitCodeAsync(TestCluster.Patience));
        Assert.DoesNotContain((await cluster.LeasesAsync()).Values, lease => lease.StartsWith("w2|", StringComparison.Ordinal));
        Assert.Contains("cluster: worker w2 left, ", w2.Process.Output, StringComparison.Ordinal);
        await cluster.WaitEachOnceAsync([w1]);
        var metrics = await w1.Http.GetStringAsync("/metrics");
        Assert.Matches(@"(?m)^facestream_cluster_cameras_owned 6$", metrics);
        Assert.Matches(@"(?m)^facestream_cluster_lease_renewals_total [1-9]", metrics);
        Assert.Matches(@"(?m)^facestream_cluster_lease_acquisitions_total [1-9]", metrics);
        Assert.Matches(@"(?m)^facestream_cluster_workers_live 1$", metrics);

        var twice = cluster.Overlaps(start, new Dictionary<string, DateTimeOffset> { ["w3"] = killed });
        Assert.True(twice.Count == 0, "a camera streamed on two workers at once:\n" + string.Join("\n", twice));
        // Every event of a camera names its worker and lease epoch.
        Assert.All(w1.Events(), e =>
        {
            Assert.Equal("w1", e.GetProperty("worker_id").GetString());
            Assert.True(e.GetProperty("lease_epoch").GetInt64() > 0);
        });
    }, minutes: 8);

    [Fact]
    public Task A_fourth_worker_takes_a_fair_share_and_the_camera_api_adds_changes_and_removes_cameras_on_their_owner() => Bounded.Run(async () =>
    {
        using var cluster = new TestCluster(cameras: 6);
        var first = await cluster.StartAsync("w1", "w2", "w3");
        await cluster.WaitEachOnceAsync(first, also: m => m.Values.Select(w => w[0]).Distinct().Count() == 3);

        var w4 = (await cluster.StartAsync("w4"))[0];
        var all = cluster.Nodes;
        // Six over four: nobody above two (rounded up), the newcomer at least one (rounded down).
        await cluster.WaitEachOnceAsync(all, also: m => m.Values.Count(w => w[0] == "w4") >= 1 && m.Values.GroupBy(w => w[0]).All(g => g.Count() <= 2));

        var api = first[0].Http;
        var added = await api.PostAsync("/api/cameras", Json(TestCluster.CameraJson("extra")));
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await api.PostAsync("/api/cameras", Json(TestCluster.CameraJson("extra")))).StatusCode);
        var seven = cluster.CameraIds.Append("extra").ToList();
        var owners = await cluster.WaitEachOnceAsync(all, seven);
        var owner = all.Single(n => n.Id == owners["extra"][0]);

        // A change restarts the camera on its owner with the new settings.
        var changed = await api.PutAsync("/api/cameras/extra", Json(TestCluster.CameraJson("extra", fps: 2)));
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        await owner.Process.WaitForLine("camera extra: settings changed, restarting", TestCluster.Patience);
        Assert.Contains("\"analysis_fps\":2", await api.GetStringAsync("/api/cameras/extra"), StringComparison.Ordinal);

        // Bad input: 400 naming the key; a camera password never comes back.
        var typo = await api.PostAsync("/api/cameras", Json("""{ "Id": "typo", "Url": "/x.mp4", "AnalysisFpz": 3 }"""));
        Assert.Equal(HttpStatusCode.BadRequest, typo.StatusCode);
        Assert.Contains("Camera:AnalysisFpz is not a setting", await typo.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var negative = await api.PutAsync("/api/cameras/neg", Json("""{ "Url": "rtsp://admin:hunter2secret@127.0.0.1:1/x", "AnalysisFps": -1 }"""));
        Assert.Equal(HttpStatusCode.BadRequest, negative.StatusCode);
        Assert.Contains("Camera:AnalysisFps", await negative.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var mismatch = await api.PutAsync("/api/cameras/one", Json("""{ "Id": "two", "Url": "/x.mp4" }"""));
        Assert.Contains("Camera:Id = 'two' differs", await mismatch.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var secret = await api.PutAsync("/api/cameras/door", Json("""{ "Url": "rtsp://admin:hunter2secret@127.0.0.1:1/x", "OpenTimeout": "00:00:01" }"""));
        Assert.Equal(HttpStatusCode.Created, secret.StatusCode);
        var listed = await api.GetStringAsync("/api/cameras");
        Assert.Contains("\"id\":\"door\"", listed, StringComparison.Ordinal);
        Assert.Contains("\"owner\":\"w", listed, StringComparison.Ordinal);
        foreach (var text in new[] { await secret.Content.ReadAsStringAsync(), listed })
        {
            Assert.DoesNotContain("hunter2secret", text, StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync("/api/cameras/door")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync("/api/cameras/extra")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.DeleteAsync("/api/cameras/extra")).StatusCode);
        await cluster.WaitEachOnceAsync(all);
        Assert.All(all, n => Assert.DoesNotContain("hunter2secret", n.Process.Output, StringComparison.Ordinal));
        using var anonymous = new HttpClient { BaseAddress = api.BaseAddress };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/cameras")).StatusCode);
    }, minutes: 8);

    [Fact]
    public Task A_worker_paused_past_its_lease_publishes_late_events_with_a_stale_epoch_and_after_a_Redis_restart_no_camera_runs_twice() => Bounded.Run(async () =>
    {
        using var cluster = new TestCluster(cameras: 4);
        var nodes = await cluster.StartAsync("w1", "w2");
        var (w1, w2) = (nodes[0], nodes[1]);
        await cluster.WaitEachOnceAsync([w1, w2], also: m => m.Values.All(w => w.Count == 1) && m.Values.Select(w => w[0]).Distinct().Count() == 2);
        var pausedLeases = await w1.LeasesAsync();

        // Paused past its TTL (a long GC, SIGSTOP): the other worker takes its cameras with new epochs.
        var paused = DateTimeOffset.UtcNow;
        w1.Process.Signal("STOP");
        Dictionary<string, long> taken;
        try
        {
            await cluster.WaitEachOnceAsync([w2]);
            taken = await w2.LeasesAsync();
        }
        finally
        {
            w1.Process.Signal("CONT");
        }

        // Back, it finds its leases gone and stops those cameras; what it publishes meanwhile carries the old epoch.
        var camera = pausedLeases.Keys.First();
        long? late = null;
        await Wait.Until(() => (late = StoppedEpoch(w1, camera, paused)) is not null, $"the resumed worker stops {camera}", TestCluster.Patience, () => w1.Process.Output);
        Assert.Equal(pausedLeases[camera], late);
        Assert.True(late < taken[camera], $"late event epoch {late}, current owner's {taken[camera]}");
        await cluster.WaitEachOnceAsync([w1, w2], also: m => m.Values.Select(w => w[0]).Distinct().Count() == 2);

        // Redis restarts without its data: the workers reseed it and share the cameras again, none on two at once.
        var restarted = DateTimeOffset.UtcNow;
        cluster.Redis.Kill();
        cluster.Redis.Start();
        await Wait.Until(() => Seeds(w1) + Seeds(w2) == 2, "a worker reseeds the empty Redis", TestCluster.Patience, () => w1.Process.Output + w2.Process.Output);
        // Claims wait one TTL after the reseed, while the workers find their leases gone and stop those cameras; then all are taken again.
        await Wait.Until(() => cluster.LeasesAsync().GetAwaiter().GetResult().Count == cluster.CameraIds.Count, "every camera leased again", TestCluster.Patience);
        await cluster.WaitEachOnceAsync([w1, w2]);
        var twice = cluster.Overlaps(restarted);
        Assert.True(twice.Count == 0, "a camera streamed on two workers at once after the restart:\n" + string.Join("\n", twice));

        // Redis gone for longer than a lease: both stop their cameras (nobody can know who holds what), say why, and rejoin when it is back.
        cluster.Redis.Kill();
        await Wait.Until(() => (cluster.StreamingAsync([w1, w2]).GetAwaiter().GetResult()).Count == 0, "both workers stop their cameras", TestCluster.Patience);
        var (ready, reasons) = await w1.ReadinessAsync();
        Assert.False(ready);
        Assert.Contains(reasons, r => r.StartsWith("cluster: Redis unreachable since", StringComparison.Ordinal));
        Assert.True(!w1.Process.Exited && !w2.Process.Exited, "the workers keep running without Redis");
        cluster.Redis.Start();
        await cluster.WaitEachOnceAsync([w1, w2]);
        Assert.True((await w1.ReadinessAsync()).Ready || (await w2.ReadinessAsync()).Ready);
    }, minutes: 8);

    [Fact]
    public Task Workers_share_the_cameras_by_capacity_any_worker_probes_a_camera_and_a_killed_workers_cameras_record_their_takeover_time() => Bounded.Run(async () =>
    {
        using var cluster = new TestCluster(cameras: 6);
        cluster.Capacities["w2"] = 2;
        var nodes = await cluster.StartAsync("w1", "w2");
        var (w1, w2) = (nodes[0], nodes[1]);
        // Capacities 1 and 2 over six cameras: two and four.
        var owners = await cluster.WaitEachOnceAsync([w1, w2], also: m => m.Values.Count(w => w[0] == "w1") == 2 && m.Values.Count(w => w[0] == "w2") == 4);
        // However the cameras got to w2 (claimed new, or released by w1 to make room), none was a take-over.
        Assert.Equal(0, Metric(await w2.Http.GetStringAsync("/metrics"), "facestream_cluster_takeover_seconds_count"));

        // A probe runs on the worker that receives it, whoever owns the camera.
        var ofW2 = owners.First(o => o.Value[0] == "w2").Key;
        using (var probe = await ProbeAsync(w1.Http, $"/api/cameras/{ofW2}/probe"))
        {
            var j = probe.RootElement;
            Assert.Equal(ofW2, j.GetProperty("camera_id").GetString());
            Assert.Equal("w1", j.GetProperty("worker_id").GetString());
            Assert.True(j.GetProperty("ok").GetBoolean());
            Assert.False(j.GetProperty("live").GetBoolean());
            Assert.Equal("h264", j.GetProperty("codec").GetString());
            Assert.Equal(320, j.GetProperty("width").GetInt32());
            Assert.Equal(180, j.GetProperty("height").GetInt32());
        }

        // An RTSP camera with a password (disabled: probed, not run): the answer masks it.
        using var rtsp = new RtspServer(TestCluster.ClipFile);
        var door = $$"""{ "Url": "rtsp://admin:hunter2secret@127.0.0.1:{{rtsp.Port}}/cam", "Enabled": false }""";
        Assert.Equal(HttpStatusCode.Created, (await w2.Http.PutAsync("/api/cameras/door", Json(door))).StatusCode);
        string doorAnswer;
        using (var probe = await ProbeAsync(w2.Http, "/api/cameras/door/probe?timeout=20"))
        {
            var j = probe.RootElement;
            doorAnswer = j.GetRawText();
            Assert.True(j.GetProperty("ok").GetBoolean(), doorAnswer);
            Assert.True(j.GetProperty("live").GetBoolean());
            Assert.Equal($"rtsp://admin:***@127.0.0.1:{rtsp.Port}/cam", j.GetProperty("url").GetString());
        }

        // A camera that does not answer: ok false with the reason, within the timeout asked for.
        var dead = """{ "Url": "rtsp://admin:hunter2secret@127.0.0.1:9/x", "Enabled": false }""";
        Assert.Equal(HttpStatusCode.Created, (await w1.Http.PutAsync("/api/cameras/dead", Json(dead))).StatusCode);
        string deadAnswer;
        using (var probe = await ProbeAsync(w1.Http, "/api/cameras/dead/probe?timeout=3"))
        {
            var j = probe.RootElement;
            deadAnswer = j.GetRawText();
            Assert.False(j.GetProperty("ok").GetBoolean());
            Assert.Contains("refused", j.GetProperty("error").GetString(), StringComparison.OrdinalIgnoreCase);
            Assert.Equal("rtsp://admin:***@127.0.0.1:9/x", j.GetProperty("url").GetString());
        }

        Assert.Equal(HttpStatusCode.NotFound, (await w1.Http.PostAsync("/api/cameras/nope/probe", null)).StatusCode);
        var tooLong = await w1.Http.PostAsync("/api/cameras/door/probe?timeout=600", null);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Contains("timeout = 600 must be between 0.1 and 60 seconds", await tooLong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // A probe makes the worker connect to the camera: viewers may not.
        using var viewer = new HttpClient { BaseAddress = w1.Http.BaseAddress };
        viewer.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestCluster.ViewerToken);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/cameras/door")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync("/api/cameras/door/probe", null)).StatusCode);
        // The OpenAPI document describes it.
        var openapi = await w1.Http.GetStringAsync("/openapi/v1.json");
        Assert.Contains("\"/api/cameras/{id}/probe\"", openapi, StringComparison.Ordinal);
        Assert.Contains("Probe a camera", openapi, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, (await w1.Http.DeleteAsync("/api/cameras/door")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await w1.Http.DeleteAsync("/api/cameras/dead")).StatusCode);

        // A crash: w2's four cameras stream on w1 once their leases expire, each recording one take-over of at least a
        // lease TTL (from the lease's last renewal to the first frame on w1).
        var before = await w1.Http.GetStringAsync("/metrics");
        var taken = await w2.StreamingAsync();
        w2.Process.Signal("KILL");
        await cluster.WaitEachOnceAsync([w1]);
        double Count(string m) => Metric(m, "facestream_cluster_takeover_seconds_count") - Metric(before, "facestream_cluster_takeover_seconds_count");
        await Wait.Until(() => Count(w1.Http.GetStringAsync("/metrics").GetAwaiter().GetResult()) >= taken.Count, "w1 records the take-overs", TestCluster.Patience, () => w1.Process.Output);
        var after = await w1.Http.GetStringAsync("/metrics");
        Assert.Equal(taken.Count, Count(after));
        double seconds = Metric(after, "facestream_cluster_takeover_seconds_sum") - Metric(before, "facestream_cluster_takeover_seconds_sum");
        Assert.InRange(seconds / taken.Count, TestCluster.Ttl.TotalSeconds, TestCluster.Patience.TotalSeconds);

        foreach (var text in new[] { doorAnswer, deadAnswer, w1.Process.Output, w2.Process.Output })
        {
            Assert.DoesNotContain("hunter2secret", text, StringComparison.Ordinal);
        }
    }, minutes: 8);

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>POST a probe: 200 and its JSON answer.</summary>
    private static async Task<JsonDocument> ProbeAsync(HttpClient http, string path)
    {
        using var answer = await http.PostAsync(path, null);
        var body = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{path}: {(int)answer.StatusCode} {body}");
        return JsonDocument.Parse(body);
    }

    /// <summary>The value of an unlabelled series in Prometheus text.</summary>
    private static double Metric(string metrics, string series)
    {
        var match = Regex.Match(metrics, $@"(?m)^{Regex.Escape(series)} (\S+)$");
        Assert.True(match.Success, $"{series} missing from /metrics");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>The lease epoch of the first "stopped" event of <paramref name="camera"/> that <paramref name="node"/> published after <paramref name="since"/>.</summary>
    private static long? StoppedEpoch(TestCluster.Node node, string camera, DateTimeOffset since) => node.Events()
        .Where(e => e.GetProperty("camera_id").GetString() == camera && e.GetProperty("kind").GetString() == "camera_state" && e.GetProperty("camera_state").GetString() == "stopped")
        .Where(e => e.GetProperty("frame_timestamp").GetDateTimeOffset() > since)
        .Select(e => (long?)e.GetProperty("lease_epoch").GetInt64()).FirstOrDefault();

    private static int Seeds(TestCluster.Node node) => node.Process.Output.Split("camera registry seeded").Length - 1;
}
