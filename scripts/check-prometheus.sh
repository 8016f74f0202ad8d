#!/usr/bin/env bash
# The dashboard and the alert rules against a real Prometheus scraping a real worker (slower than
# scripts/check-charts.sh, which only parses; this one catches evaluation errors such as many-to-many matches):
#   a worker (`facestream run`, the built CLI) on a generated looping clip → Debian's prometheus 2.42 scraping it every
#   2 s with charts/facestream/rules/facestream.rules.yaml loaded → every rule's health "ok", every dashboard query
#   answered without error, and the list of queries with data (a query without data is fine when the worker has
#   nothing to count yet: no losses, no matches).
# Usage: scripts/check-prometheus.sh   (after a Release build; FACESTREAM_MODELS or ./models must hold the models)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v prometheus >/dev/null 2>&1 || { echo "error: prometheus not found (apt-get install prometheus)" >&2; exit 1; }
CLI=src/FaceStream.Cli/bin/Release/net10.0/linux-x64/facestream.dll
[ -f "$CLI" ] || { echo "error: $CLI missing: dotnet build FaceStream.sln -c Release" >&2; exit 1; }

tmp="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
worker_port=$(( 20000 + RANDOM % 5000 ))
prom_port=$(( 25000 + RANDOM % 5000 ))

ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=25 -t 4 -c:v libx264 -preset veryfast -pix_fmt yuv420p "$tmp/clip.mp4"
cat > "$tmp/facestream.json" <<EOF
{ "Detector": { "Mtcnn": { "MinFaceSize": 40 } }, "Metrics": { "Port": $worker_port }, "Events": { "Console": false },
  "Cameras": [ { "Id": "lobby", "Url": "$tmp/clip.mp4", "Loop": true, "Realtime": true, "AnalysisFps": 2 } ] }
EOF
dotnet "$CLI" run --config "$tmp/facestream.json" > "$tmp/worker.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$worker_port/readyz" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$worker_port/readyz" >/dev/null || { cat "$tmp/worker.log" >&2; echo "error: worker not ready" >&2; exit 1; }

cp charts/facestream/rules/facestream.rules.yaml "$tmp/"
cat > "$tmp/prometheus.yml" <<EOF
global: { scrape_interval: 2s, evaluation_interval: 2s }
rule_files: [facestream.rules.yaml]
scrape_configs:
  - job_name: facestream
    static_configs: [ { targets: ["127.0.0.1:$worker_port"] } ]
EOF
promtool check config "$tmp/prometheus.yml" >/dev/null
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" > "$tmp/prometheus.log" 2>&1 &
pids+=($!)
api="http://127.0.0.1:$prom_port/api/v1"
# rate() needs two samples inside its window: wait for a handful of scrapes.
for _ in $(seq 60); do
  n=$(curl -sf "$api/query" --data-urlencode 'query=count_over_time(up{job="facestream"}[1m])' | jq -r '.data.result[0].value[1] // 0' 2>/dev/null || echo 0)
  [ "${n:-0}" -ge 6 ] && break
  sleep 1
done

failed=0
echo "==> rules loaded and evaluated"
curl -sf "$api/rules" | jq -r '.data.groups[].rules[] | "\(.health)\t\(.name)\t\(.lastError // "")"' > "$tmp/rules.tsv"
cat "$tmp/rules.tsv"
[ "$(wc -l < "$tmp/rules.tsv")" -gt 0 ] || { echo "error: no rules loaded" >&2; failed=1; }
if grep -qv '^ok' "$tmp/rules.tsv"; then echo "error: a rule is not healthy" >&2; failed=1; fi

echo "==> dashboard queries (instance/job/camera = all, \$__rate_interval = 1m)"
with_data=0; total=0
while IFS= read -r expr; do
  q=$(printf '%s' "$expr" | sed -e 's/\$__rate_interval/1m/g; s/\${\?[A-Za-z_][A-Za-z0-9_]*}\?/.*/g')
  answer=$(curl -s "$api/query" --data-urlencode "query=$q")
  total=$((total + 1))
  if [ "$(echo "$answer" | jq -r .status)" != success ]; then
    echo "ERROR  $q: $(echo "$answer" | jq -r .error)"; failed=1
  elif [ "$(echo "$answer" | jq '.data.result | length')" -gt 0 ]; then
    with_data=$((with_data + 1)); echo "data   $q"
  else
    echo "empty  $q"
  fi
done < <(jq -r '.. | objects | select(has("expr")) | .expr' charts/facestream/dashboards/facestream.json)
echo "$total dashboard queries: $with_data with data, $((total - with_data)) empty, errors: $failed"
exit $failed
