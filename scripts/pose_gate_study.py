#!/usr/bin/env python3
"""Which pose gate keeps out more failing genuine pairs per good face lost: the landmark proxies or Hopenet's angles?

Input: the JSON lines of `facestream eval identities DIR --dump FILE` (one per photo's subject face: embedding,
landmark yaw/pitch proxies, Hopenet yaw/pitch in degrees). Pairs are scored as eval identities scores them (cosine
of the colour embeddings, threshold at the target FAR over all impostor pairs). A face is "good" when none of its
genuine pairs fails; a gate "removes" a failing pair when it rejects either photo of it. Usage:
    python3 scripts/pose_gate_study.py DUMP.jsonl [--far 0.001]
"""
import json
import math
import sys


def load(path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    for r in rows:
        v = r["gallery"]
        n = math.sqrt(sum(x * x for x in v)) or 1.0
        r["unit"] = [x / n for x in v]
    return rows


def main():
    args = sys.argv[1:]
    far = float(args[args.index("--far") + 1]) if "--far" in args else 1e-3
    rows = load(args[0])
    n = len(rows)
    genuine, impostor = [], []
    for i in range(n):
        a = rows[i]["unit"]
        for j in range(i + 1, n):
            s = sum(x * y for x, y in zip(a, rows[j]["unit"]))
            (genuine if rows[i]["label"] == rows[j]["label"] else impostor).append((s, i, j))
    imp = sorted((s for s, _, _ in impostor), reverse=True)
    k = max(1, int(far * len(imp)))
    threshold = imp[k - 1]
    failing = [(i, j) for s, i, j in genuine if s < threshold]
    bad = set(i for p in failing for i in p)
    good = [i for i in range(n) if i not in bad]
    print(f"{n} faces, {len(genuine)} genuine / {len(impostor)} impostor pairs; threshold {threshold:.3f} at FAR {far:g}: "
          f"{len(failing)} genuine pairs fail (TAR {1 - len(failing) / len(genuine):.3f}); {len(good)} good faces (in no failing pair)")

    def effect(rejected):
        removed = sum(1 for i, j in failing if i in rejected or j in rejected)
        lost = sum(1 for i in rejected if i not in bad)
        return removed, lost, len(rejected)

    def landmark(yaw, pitch):
        return {i for i, r in enumerate(rows) if abs(r["landmarkYaw"]) > yaw or abs(r["landmarkPitch"]) > pitch}

    def hopenet(yaw, pitch):
        return {i for i, r in enumerate(rows) if abs(r["yawDegrees"]) > yaw or abs(r["pitchDegrees"]) > pitch}

    def frontier(name, gate, yaws, pitches):
        points = {}
        for y in yaws:
            for p in pitches:
                removed, lost, count = effect(gate(y, p))
                if lost not in points or removed > points[lost][0]:
                    points[lost] = (removed, count, y, p)
        best, out = -1, []
        for lost in sorted(points):
            if points[lost][0] > best:
                best = points[lost][0]
                out.append((lost,) + points[lost])
        print(f"\n{name}: good faces lost -> failing pairs removed (faces rejected; yaw, pitch limits)")
        for lost, removed, count, y, p in out:
            print(f"  {lost:3d} -> {removed:4d} ({count} faces; |yaw| > {y:g}, |pitch| > {p:g})")
        return out

    lm = frontier("landmark proxies", landmark, [x / 100 for x in range(10, 101, 5)], [x / 100 for x in range(10, 61, 5)] + [9])
    hn = frontier("Hopenet degrees", hopenet, list(range(10, 91, 5)), list(range(10, 61, 5)) + [999])
    removed, lost, count = effect(landmark(0.45, 0.3))
    print(f"\ndefault camera gates (|yaw| > 0.45 or |pitch| > 0.3 on the landmark proxies): {count} faces rejected, "
          f"{lost} good faces lost, {removed} of {len(failing)} failing pairs removed")
    print("\nat equal good faces lost (the best of each family):")
    for budget in (0, 2, 5, 10, 15, 20, 30):
        def best(front):
            c = [f for f in front if f[0] <= budget]
            return max(c, key=lambda f: f[1]) if c else None
        a, b = best(lm), best(hn)
        print(f"  ≤ {budget:2d} good faces lost: landmarks remove {a[1] if a else 0:4d} ({a[3:5] if a else '-'}), "
              f"Hopenet {b[1] if b else 0:4d} ({b[3:5] if b else '-'})")


if __name__ == "__main__":
    main()
