#!/usr/bin/env bash
# Checks everything under charts/facestream without a cluster, a Grafana or a Prometheus server:
#   dashboard  JSON syntax (jq), type-check against @grafana/schema (tsc), every PromQL expr parsed by promtool
#   rules      promtool check rules + promtool unit tests (facestream.rules.test.yaml), yamllint
#   chart      helm lint + helm template with the defaults and with values-production.example.yaml, helm package
#              (the linked thresholds file inside, the archive renders), the chart's
#              version equal to the product version (Directory.Build.props)
# Tools: promtool (Debian `prometheus`), jq, yamllint, and the pinned helm/@grafana/schema/typescript that
# scripts/ops-tools.sh fetches into tools/. scripts/setup.sh --test installs them all; a missing tool is an error.
# Usage: scripts/check-charts.sh [dashboard|rules|chart]...   (default: all). Exit 0 only when every check passed.
set -uo pipefail
cd "$(dirname "$0")/.."
CHART=charts/facestream
DASHBOARDS=("$CHART"/dashboards/*.json)
RULES="$CHART/rules/facestream.rules.yaml"
RULES_TEST="$CHART/rules/facestream.rules.test.yaml"
failed=0
tmp="$(mktemp -d)"
mkdir -p "$tmp/rendered"
trap 'rm -rf "$tmp" tools/grafana/check.$$' EXIT

step() { echo "==> $*"; }
fail() { echo "FAILED: $*" >&2; failed=1; }
need() { command -v "$1" >/dev/null 2>&1 || { fail "$1 not found (scripts/setup.sh --test installs it)"; return 1; }; }

check_dashboard() {
  need jq && need promtool || return
  [ -d tools/grafana/node_modules/@grafana/schema ] || { fail "tools/grafana missing: run scripts/ops-tools.sh"; return; }
  mkdir -p "tools/grafana/check.$$"
  local d files=()
  for d in "${DASHBOARDS[@]}"; do
    step "dashboard $d: JSON syntax"
    jq -e . "$d" >/dev/null || { fail "$d is not valid JSON"; continue; }
    # Importing the .json would widen its strings; a generated .ts keeps the literals (INFRA §7).
    local ts; ts="tools/grafana/check.$$/$(basename "$d" .json).ts"
    { printf "import type { Dashboard } from '@grafana/schema';\nexport const dashboard: Dashboard = "; cat "$d"; echo ";"; } > "$ts"
    files+=("check.$$/$(basename "$ts")")

    step "dashboard $d: every expr parsed by promtool"
    # Grafana's variables replaced by values PromQL accepts; each expr becomes a recording rule.
    local n; n=$(jq '[.. | objects | select(has("expr")) | .expr] | length' "$d")
    [ "$n" -gt 0 ] || fail "$d has no expr"
    jq -r '[.. | objects | select(has("expr")) | .expr]
           | {groups: [{name: "dashboard", rules: [to_entries[] | {record: "dashboard:expr_\(.key)", expr: .value}]}]}' "$d" \
      | sed -e 's/\$__rate_interval/5m/g; s/\$__interval/1m/g; s/\$__range/1h/g; s/\${\?[A-Za-z_][A-Za-z0-9_]*}\?/.*/g' \
      > "$tmp/dashboard.rules.json"
    promtool check rules "$tmp/dashboard.rules.json" >"$tmp/promtool.out" 2>&1 || { cat "$tmp/promtool.out" >&2; fail "$d: a PromQL expression does not parse"; }
  done
  step "dashboards: type-check against @grafana/schema $(jq -r .version tools/grafana/node_modules/@grafana/schema/package.json)"
  (cd tools/grafana && npx --no-install tsc --strict --noEmit --skipLibCheck --module nodenext --moduleResolution nodenext \
      --target es2022 --ignoreConfig "${files[@]}") || fail "a dashboard does not match @grafana/schema"
}

check_rules() {
  need promtool || return
  step "rules: promtool check rules $RULES"
  promtool check rules "$RULES" || fail "promtool check rules $RULES"
  step "rules: promtool test rules $RULES_TEST"
  (cd "$(dirname "$RULES_TEST")" && promtool test rules "$(basename "$RULES_TEST")") || fail "promtool test rules $RULES_TEST"
  if need yamllint; then
    step "rules: yamllint"
    yamllint -d '{extends: relaxed, rules: {line-length: disable}}' "$RULES" "$RULES_TEST" || fail "yamllint"
  fi
}

check_chart() {
  [ -x tools/helm/helm ] || { fail "tools/helm/helm missing: run scripts/ops-tools.sh"; return; }
  local helm=tools/helm/helm
  local version; version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -1)
  step "chart: version $(sed -n 's/^version: *//p' "$CHART/Chart.yaml") = product version $version"
  grep -qx "version: $version" "$CHART/Chart.yaml" && grep -qx "appVersion: \"$version\"" "$CHART/Chart.yaml" \
    || fail "$CHART/Chart.yaml version/appVersion must equal <Version>$version</Version> in Directory.Build.props"
  step "chart: helm lint (defaults, production example)"
  $helm lint --strict "$CHART" || fail "helm lint $CHART"
  $helm lint --strict "$CHART" --values "$CHART/values-production.example.yaml" || fail "helm lint with the production example"
  step "chart: helm template (defaults, production example)"
  $helm template facestream "$CHART" > "$tmp/default.yaml" || fail "helm template $CHART"
  $helm template facestream "$CHART" --namespace vision --values "$CHART/values-production.example.yaml" > "$tmp/production.yaml" \
    || fail "helm template with the production example"
  $helm template facestream "$CHART" --set gpu.enabled=true,prometheusRule.enabled=true,secret.create=true,secret.values.Api__Token=t \
    > "$tmp/gpu.yaml" || fail "helm template with gpu, rules and a created secret"
  if command -v yamllint >/dev/null 2>&1; then
    yamllint -d '{extends: relaxed, rules: {line-length: disable, indentation: {indent-sequences: whatever}}}' "$tmp/default.yaml" "$tmp/production.yaml" "$tmp/gpu.yaml" || fail "rendered chart is not clean YAML"
  fi
  step "chart: values.schema.json refuses a misspelt value and a camera without Url"
  jq -e . "$CHART/values.schema.json" >/dev/null || fail "values.schema.json is not valid JSON"
  if $helm template facestream "$CHART" --set gpu.enabeld=true >/dev/null 2>&1; then fail "values.schema.json accepted gpu.enabeld"; fi
  if $helm template facestream "$CHART" --set-json 'config.Cameras=[{"Id":"a"}]' >/dev/null 2>&1; then fail "values.schema.json accepted a camera without Url"; fi
  if $helm template facestream "$CHART" --set-json 'thresholds={"schema":1,"models":{"m":{"threshold":2}}}' >/dev/null 2>&1; then fail "values.schema.json accepted a threshold of 2"; fi
  step "chart: rendered objects (kinds, config JSON, probes, GPU switch)"
  # The chart ships config/thresholds.json (files/thresholds.json links to it) unless the values give their own.
  python3 scripts/check_chart_render.py "$tmp/default.yaml" Deployment Service ConfigMap ServiceAccount --thresholds config/thresholds.json || fail "default render"
  echo '{"schema": 1, "models": {"mobilefacenet-192": {"modelId": "mobilefacenet-192", "threshold": 0.5}}}' > "$tmp/thresholds.json"
  $helm template facestream "$CHART" --set-json "thresholds=$(cat "$tmp/thresholds.json")" > "$tmp/thresholds.yaml" 2>/dev/null || fail "helm template with thresholds from values"
  python3 scripts/check_chart_render.py "$tmp/thresholds.yaml" ConfigMap --thresholds "$tmp/thresholds.json" || fail "render with thresholds from values"
  python3 scripts/check_chart_render.py "$tmp/production.yaml" Deployment Service ConfigMap ServiceMonitor PrometheusRule || fail "production render"
  python3 scripts/check_chart_render.py "$tmp/gpu.yaml" --gpu Deployment Secret PrometheusRule --rules-out "$tmp/rendered/facestream.rules.yaml" \
    || fail "gpu render"
  step "chart: the PrometheusRule passes the same promtool unit tests as the rules file"
  cp "$RULES_TEST" "$tmp/rendered/" && (cd "$tmp/rendered" && promtool test rules "$(basename "$RULES_TEST")") || fail "rendered PrometheusRule"
  step "chart: helm package carries files/thresholds.json as a file (the link followed) and renders from the archive"
  $helm package "$CHART" --destination "$tmp/package" >/dev/null || fail "helm package $CHART"
  local tgz; tgz=$(ls "$tmp"/package/facestream-*.tgz 2>/dev/null | head -1)
  if [ -n "$tgz" ]; then
    tar -xzf "$tgz" -C "$tmp/package" facestream/files/thresholds.json 2>/dev/null && [ -f "$tmp/package/facestream/files/thresholds.json" ] \
      && [ ! -L "$tmp/package/facestream/files/thresholds.json" ] && cmp -s "$tmp/package/facestream/files/thresholds.json" config/thresholds.json \
      || fail "the packaged chart lacks config/thresholds.json as files/thresholds.json"
    $helm template facestream "$tgz" > "$tmp/packaged.yaml" || fail "helm template from the packaged chart"
    python3 scripts/check_chart_render.py "$tmp/packaged.yaml" Deployment Service ConfigMap ServiceAccount --thresholds config/thresholds.json \
      || fail "render from the packaged chart"
  fi
  # The rendered output is what the xunit test (ChartRenderTests) inspects further; keep a copy when asked.
  if [ -n "${FACESTREAM_CHART_RENDER_DIR:-}" ]; then cp "$tmp/default.yaml" "$tmp/production.yaml" "$FACESTREAM_CHART_RENDER_DIR"/; fi
}

what=("$@"); [ ${#what[@]} -gt 0 ] || what=(dashboard rules chart)
for w in "${what[@]}"; do
  case "$w" in
    dashboard) check_dashboard ;;
    rules) check_rules ;;
    chart) check_chart ;;
    *) echo "usage: scripts/check-charts.sh [dashboard|rules|chart]..." >&2; exit 2 ;;
  esac
done
if [ $failed -eq 0 ]; then echo "charts: all checks passed"; else echo "charts: FAILED" >&2; fi
exit $failed
