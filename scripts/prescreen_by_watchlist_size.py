#!/usr/bin/env python3
"""What share of strangers' views the worker's pre-screen spares the full embedder, by watchlist size.

Input: the --dump of `facestream eval identities DIR --embedder mobilefacenet-192` run with
FACESTREAM__Inference__FlipFusion=false (the pre-screen's own look: the ensemble's first member, one run, no flip).
Each photo is a stranger's view probed against every other person of DIR enrolled with K photos; a view is screened
out when its best score against every template stays under CUT (the member's known-person threshold minus
Pipeline:PreScreenMargin). DIR holds few people, so larger watchlists are extrapolated from the rate p at which a
stranger's view passes one person: screened(N) = (1 - p)^N, as if each person were an independent chance to pass. The
shares measured on random watchlists of up to (people in DIR - 1) people check that; how faces of other people and
other populations than DIR's would change p is not measured.

Usage: prescreen_by_watchlist_size.py DUMP [--cut 0.393] [--templates 5] [--sizes 1,4,8,16,50,100,300,1000]
"""
import argparse
import json
import random
from collections import defaultdict


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("--cut", type=float, default=0.543 - 0.15)
    ap.add_argument("--templates", type=int, default=5)
    ap.add_argument("--sizes", default="1,4,8,16,50,100,300,1000")
    ap.add_argument("--draws", type=int, default=200, help="random watchlists per measured size")
    args = ap.parse_args()

    rows = [json.loads(line) for line in open(args.dump, encoding="utf-8") if line.strip()]
    by_person = defaultdict(list)
    for r in rows:
        by_person[r["label"]].append(r)
    people = sorted(by_person)
    rng = random.Random(12)
    # Each person enrolled with their first K photos (in file order), as a fixed watchlist entry.
    templates = {p: [r["gallery"] for r in by_person[p][: args.templates]] for p in people}

    def dot(a, b):
        return sum(x * y for x, y in zip(a, b))

    # passes[i][p]: probe i reaches the cut against person p's templates (p not the probe's own person).
    passes = []
    for r in rows:
        passes.append({p: max(dot(r["probe"], t) for t in templates[p]) >= args.cut for p in people if p != r["label"]})

    pairs = sum(len(x) for x in passes)
    p1 = sum(sum(x.values()) for x in passes) / pairs
    nobody = sum(1 for x in passes if not any(x.values())) / len(passes)
    print(f"{len(rows)} probes of {len(people)} people, {args.templates} templates per person, cut {args.cut:.3f}: "
          f"a stranger's view passes one person {p1 * 100:.2f} % of the time ({pairs} probe-person pairs); "
          f"probes that pass nobody of {len(people) - 1}: {nobody * 100:.1f} %")
    print("| people on the watchlist | strangers' views screened out, measured | (1 - p)^N, extrapolated |")
    print("|---|---|---|")
    for n in [int(s) for s in args.sizes.split(",")]:
        model = (1 - p1) ** n
        measured = ""
        if n <= len(people) - 1:
            screened = total = 0
            for _ in range(args.draws):
                for x in passes:
                    chosen = rng.sample(sorted(x), n)
                    screened += not any(x[p] for p in chosen)
                    total += 1
            measured = f"{screened / total * 100:.1f} %"
        print(f"| {n} | {measured} | {model * 100:.1f} % |")


if __name__ == "__main__":
    main()
