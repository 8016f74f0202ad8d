#!/usr/bin/env python3
"""Checks the chart's rendered manifests (helm template output) beyond helm lint; used by scripts/check-charts.sh.

usage: check_chart_render.py RENDERED.yaml KIND=... [--gpu] [--rules-out FILE] [--thresholds FILE]
Every document parses; the expected kinds are there; the ConfigMap's facestream.json is a JSON object with a
Cameras list; its thresholds.json (read by the worker beside facestream.json) has schema 1 and a threshold in (0, 1]
for each model, and equals FILE when --thresholds is given; probes point at /healthz and /readyz/api; MALLOC_ARENA_MAX is 2; a mounted Secret's directory is FACESTREAM_SECRETS_DIR; with --gpu the container asks for nvidia.com/gpu and the config
selects the cuda provider; --rules-out writes the PrometheusRule's spec as a rules file (for promtool).
"""
import json
import sys

import yaml


def main(argv):
    path, kinds, gpu, rules_out, thresholds_file = argv[0], set(), False, None, None
    rest = argv[1:]
    while rest:
        a = rest.pop(0)
        if a == "--gpu":
            gpu = True
        elif a == "--rules-out":
            rules_out = rest.pop(0)
        elif a == "--thresholds":
            thresholds_file = rest.pop(0)
        else:
            kinds.add(a)
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    errors = []
    by_kind = {}
    for d in docs:
        for key in ("apiVersion", "kind", "metadata"):
            if key not in d:
                errors.append(f"a document has no {key}: {str(d)[:80]}")
        by_kind.setdefault(d.get("kind"), []).append(d)
    for k in kinds:
        if k not in by_kind:
            errors.append(f"no {k} rendered (have: {', '.join(sorted(map(str, by_kind)))})")

    config = None
    thresholds = None
    for cm in by_kind.get("ConfigMap", []):
        data = cm.get("data", {})
        if "facestream.json" in data and not cm["metadata"].get("labels", {}).get("grafana_dashboard"):
            config = json.loads(data["facestream.json"])
            thresholds = json.loads(data["thresholds.json"]) if "thresholds.json" in data else None
        elif cm["metadata"].get("labels", {}).get("grafana_dashboard") != "1":
            errors.append(f"ConfigMap {cm['metadata']['name']}: neither the config nor a grafana_dashboard: \"1\" dashboard")
        else:
            json.loads(data["facestream.json"])
    if not isinstance(config, dict) or not isinstance(config.get("Cameras"), list):
        errors.append("the config ConfigMap has no facestream.json object with a Cameras list")
    if not isinstance(thresholds, dict) or thresholds.get("schema") != 1 or not isinstance(thresholds.get("models"), dict):
        errors.append("the config ConfigMap has no thresholds.json object with schema 1 and models")
    else:
        for model, t in thresholds["models"].items():
            if not isinstance(t.get("threshold"), (int, float)) or not 0 < t["threshold"] <= 1:
                errors.append(f"thresholds.json: {model} has no threshold in (0, 1]")
        if thresholds_file and thresholds != json.load(open(thresholds_file)):
            errors.append(f"thresholds.json differs from {thresholds_file}")

    for dep in by_kind.get("Deployment", []):
        c = dep["spec"]["template"]["spec"]["containers"][0]
        if c["startupProbe"]["httpGet"]["path"] != "/healthz" or c["livenessProbe"]["httpGet"]["path"] != "/healthz":
            errors.append("startup/liveness probes must use /healthz")
        if c["readinessProbe"]["httpGet"]["path"] != "/readyz/api":
            errors.append("the readiness probe must use /readyz/api (the API stays reachable while cameras fail)")
        if c["args"] != ["--config", "/etc/facestream/facestream.json"]:
            errors.append(f"unexpected args {c['args']}")
        # A Secret reaches the worker as files (KeyPerFile) in the directory FACESTREAM_SECRETS_DIR names.
        env = {e["name"]: e.get("value") for e in c.get("env") or []}
        mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
        if "secrets" in mounts and env.get("FACESTREAM_SECRETS_DIR") != mounts["secrets"]:
            errors.append(f"FACESTREAM_SECRETS_DIR={env.get('FACESTREAM_SECRETS_DIR')} but the Secret is mounted at {mounts['secrets']}")
        if env.get("MALLOC_ARENA_MAX") != "2":
            errors.append(f"MALLOC_ARENA_MAX={env.get('MALLOC_ARENA_MAX')}, not 2 (RSS grows from glibc arena fragmentation without it)")
        if "Secret" in kinds and "secrets" not in mounts:
            errors.append("a Secret is rendered but not mounted")
        has_gpu = "nvidia.com/gpu" in c.get("resources", {}).get("limits", {})
        cuda = (config or {}).get("Inference", {}).get("ExecutionProvider") == "cuda"
        if gpu != has_gpu or gpu != cuda:
            errors.append(f"gpu={gpu} but nvidia.com/gpu limit={has_gpu}, ExecutionProvider cuda={cuda}")

    if rules_out:
        rules = by_kind.get("PrometheusRule", [])
        if len(rules) != 1:
            errors.append("expected one PrometheusRule")
        else:
            with open(rules_out, "w") as f:
                yaml.safe_dump(rules[0]["spec"], f, sort_keys=False)

    for e in errors:
        print(f"{path}: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
