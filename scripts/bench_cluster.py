#!/usr/bin/env python3
"""Cluster fail-over and lease traffic, measured on real worker processes (docs/scale-out.md).

Starts a private redis-server and N `facestream run` workers sharing C looping file cameras (320x180, real time),
then, per run: waits until every camera streams on exactly one worker, SIGKILLs one worker, and times how long until
every camera streams again on the survivors (each on exactly one, polled on /status every 100 ms), next to what the
survivors' facestream_cluster_takeover_seconds observed (per camera, from the lease's last renewal); a fresh worker
replaces the killed one before the next run. Before the first kill it counts Redis commands over a steady window
(INFO commandstats) to give the lease traffic per camera per second.

  scripts/bench_cluster.py --runs 5 --workers 3 --cameras 6 --ttl 10 --redis-port 16405 --port-base 16421
"""
import argparse, json, os, signal, statistics, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DLL = os.path.join(ROOT, "src/FaceStream.Cli/bin/Release/net10.0/linux-x64/facestream.dll")


def streaming(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5) as r:
            return [c["id"] for c in json.load(r)["cameras"] if c["state"] == "streaming"]
    except Exception:
        return []


def each_once(workers, cameras):
    seen = [c for w in workers for c in streaming(w["port"])]
    return sorted(seen) == sorted(cameras)


def takeovers(port):
    """(count, sum) of the worker's facestream_cluster_takeover_seconds histogram; (0, 0) when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except Exception:
        return 0, 0.0
    values = {line.split()[0]: float(line.split()[1]) for line in text.splitlines() if line.startswith("facestream_cluster_takeover_seconds_")}
    return int(values.get("facestream_cluster_takeover_seconds_count", 0)), values.get("facestream_cluster_takeover_seconds_sum", 0.0)


def wait(condition, limit, what):
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            sys.exit(f"not within {limit} s: {what}")
        time.sleep(0.1)


def commandstats(redis_port):
    out = subprocess.run(["redis-cli", "-p", str(redis_port), "INFO", "commandstats"], capture_output=True, text=True).stdout
    stats = {}
    for line in out.splitlines():
        if line.startswith("cmdstat_"):
            name, rest = line[len("cmdstat_"):].split(":", 1)
            stats[name] = int(rest.split("calls=")[1].split(",")[0])
    return stats


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--cameras", type=int, default=6)
    p.add_argument("--ttl", type=float, default=10)
    p.add_argument("--traffic-seconds", type=float, default=30)
    p.add_argument("--redis-port", type=int, default=16405)
    p.add_argument("--port-base", type=int, default=16421)
    a = p.parse_args()

    work = tempfile.mkdtemp(prefix="fs-cluster-")
    clip = os.path.join(work, "clip.mp4")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=10", "-t", "4", "-c:v", "libx264",
                    "-preset", "veryfast", "-g", "10", "-pix_fmt", "yuv420p", clip], check=True)
    redis = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(a.redis_port), "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    cameras = [f"cam{i}" for i in range(a.cameras)]
    workers, serial = [], 0
    env = dict(os.environ, FACESTREAM__Inference__ModelsDirectory=os.path.join(ROOT, "models"))

    def start(slot):
        nonlocal serial
        serial += 1
        wid, port = f"w{serial}", a.port_base + slot
        config = {
            "Detector": {"Mtcnn": {"MinFaceSize": 40}}, "Metrics": {"Port": port}, "Events": {"Console": False},
            "Cluster": {"Redis": f"redis://127.0.0.1:{a.redis_port}", "WorkerId": wid, "LeaseTtl": time.strftime("%H:%M:%S", time.gmtime(a.ttl))},
            "Cameras": [{"Id": c, "Url": clip, "Loop": True, "Realtime": True, "AnalysisFps": 1} for c in cameras],
        }
        path = os.path.join(work, f"{wid}.json")
        with open(path, "w") as f:
            json.dump(config, f)
        log = open(os.path.join(work, f"{wid}.log"), "w")
        proc = subprocess.Popen(["dotnet", DLL, "run", "--config", path], env=env, stdout=log, stderr=subprocess.STDOUT)
        return {"id": wid, "port": port, "proc": proc, "slot": slot}

    times = []
    try:
        workers = [start(i) for i in range(a.workers)]
        wait(lambda: each_once(workers, cameras), 300, "every camera on exactly one worker")
        time.sleep(a.ttl)  # settle: rebalancing after the start is done
        before, t0 = commandstats(a.redis_port), time.monotonic()
        time.sleep(a.traffic_seconds)
        after, seconds = commandstats(a.redis_port), time.monotonic() - t0
        delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        delta = {k: v for k, v in delta.items() if v > 0 and k != "info"}
        total = sum(delta.values())
        print(f"traffic: {total} commands in {seconds:.1f} s over {a.cameras} cameras, {a.workers} workers: "
              f"{total / seconds / a.cameras:.2f} commands per camera per second ({', '.join(f'{k} {v}' for k, v in sorted(delta.items()))})")
        for run in range(a.runs):
            victim = workers[run % len(workers)]
            survivors = [w for w in workers if w is not victim]
            moved = len(streaming(victim["port"]))
            metric_before = [takeovers(w["port"]) for w in survivors]
            killed = time.monotonic()
            victim["proc"].send_signal(signal.SIGKILL)
            victim["proc"].wait()
            wait(lambda: each_once(survivors, cameras), 300, "cameras back after the kill")
            times.append(time.monotonic() - killed)
            time.sleep(1)  # the observation follows the first frame
            metric_after = [takeovers(w["port"]) for w in survivors]
            count = sum(m[0] for m in metric_after) - sum(m[0] for m in metric_before)
            total = sum(m[1] for m in metric_after) - sum(m[1] for m in metric_before)
            print(f"run {run + 1}: SIGKILL {victim['id']} -> all {a.cameras} cameras streaming again after {times[-1]:.2f} s; "
                  f"facestream_cluster_takeover_seconds: {count} observations for {moved} cameras moved, mean {total / max(count, 1):.2f} s", flush=True)
            workers = survivors + [start(victim["slot"])]
            wait(lambda: each_once(workers, cameras) and all(streaming(w["port"]) for w in workers), 300, "the replacement takes a share")
            time.sleep(a.ttl)
    finally:
        for w in workers:
            w["proc"].kill()
        redis.kill()
    if times:
        ordered = sorted(times)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(f"SIGKILL -> all streaming, TTL {a.ttl:g} s, {len(times)} runs: p50 {statistics.median(times):.2f} s, p95 {p95:.2f} s, max {max(times):.2f} s")


if __name__ == "__main__":
    main()
