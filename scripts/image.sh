#!/usr/bin/env bash
# Builds the worker's container image without a container registry (none is reachable here; INFRA.md §7):
#   Debian bookworm root filesystem from Debian's own mirror (mmdebstrap, cached by its package list)
#   + `dotnet publish` self-contained worker + the installed ONNX models (verified against their stamps)
#   → `buildah bud` FROM scratch, non-root (65534), entry point /app/facestream-worker.
#
#   scripts/image.sh                 build localhost/facestream:VERSION (VERSION = <Version> in Directory.Build.props)
#   scripts/image.sh --smoke         also run it on the demo clip with the demo gallery: /readyz within 60 s, non-root,
#                                    MALLOC_ARENA_MAX=2, the image's thresholds.json in use, an alert (a match event) within 90 s, /metrics,
#                                    SIGTERM → exit 0; prints start-to-ready and stop times
#   scripts/image.sh --export FILE   also write an OCI archive (load it elsewhere with `podman load -i FILE`)
#
# Needs root, buildah, podman, runc, mmdebstrap (apt-get install buildah podman runc mmdebstrap; this script installs
# them when missing), the models installed (`facestream models install`), and for --smoke ffmpeg, jq and the CLI
# (built here with `dotnet build`) to make the demo clip and gallery.
# Container storage lives in out/image/ (git-ignored); the root filesystem cache in $FACESTREAM_IMAGE_CACHE
# (default ~/.cache/facestream/image).
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=false
export_to=""
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=true ;;
    --export) export_to="$(realpath -m "$2")"; shift ;;
    *) echo "usage: scripts/image.sh [--smoke] [--export FILE]" >&2; exit 2 ;;
  esac
  shift
done

VERSION=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -1)
IMAGE="localhost/facestream:$VERSION"
WORK="$PWD/out/image"
CACHE="${FACESTREAM_IMAGE_CACHE:-$HOME/.cache/facestream/image}"
# Runtime libraries: FFmpeg 5.1 (decoding in process), libssl (rediss://, https webhooks), CA certificates, time zones.
# No ICU: the build sets InvariantGlobalization.
PACKAGES="libavformat59,libavcodec59,libavutil57,libswscale6,libstdc++6,libgcc-s1,libssl3,ca-certificates,tzdata"
started=$(date +%s)

step() { echo "==> $*"; }

need=()
for tool in buildah podman mmdebstrap; do command -v "$tool" >/dev/null 2>&1 || need+=("$tool"); done
command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ] || need+=(runc)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "error: missing ${need[*]}; run: sudo apt-get install -y ${need[*]}" >&2; exit 1; }
  step "apt-get install ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# Host quirks (INFRA.md §7): crun refuses hybrid cgroups → runc; raising rlimits is not permitted → fixed ulimits;
# overlay storage (vfs copies every layer) under out/image.
mkdir -p "$WORK/storage/root" "$WORK/storage/run" "$CACHE"
cat > "$WORK/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
netns = "host"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
cat > "$WORK/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$WORK/storage/root"
runroot = "$WORK/storage/run"
EOF
export CONTAINERS_CONF="$WORK/containers.conf" CONTAINERS_STORAGE_CONF="$WORK/storage.conf"

# 1. Root filesystem, cached under a key made of the package list and the suite.
key=$(printf 'bookworm %s' "$PACKAGES" | sha256sum | cut -c1-16)
rootfs="$CACHE/rootfs-$key.tar"
# mmdebstrap picks its output format from the name: keep ".tar" last, also for the partial file.
if [ -f "$rootfs" ]; then
  step "root filesystem: cached $rootfs"
else
  step "root filesystem: mmdebstrap bookworm + $PACKAGES"
  # Mirrors as configured on this host (never a hard-coded host).
  main=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  security=$(awk '/^URIs:/ && $2 ~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  [ -n "$main" ] && [ -n "$security" ] || { echo "error: no Debian mirror in /etc/apt/sources.list.d/debian.sources" >&2; exit 1; }
  mmdebstrap --quiet --variant=essential --include="$PACKAGES" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    bookworm "$rootfs.partial.tar" "deb $main bookworm main" "deb $main bookworm-updates main" "deb $security bookworm-security main"
  mv "$rootfs.partial.tar" "$rootfs"
fi

# 2. The worker, self-contained (no .NET runtime in the root filesystem).
ctx="$WORK/context"
rm -rf "$ctx"
mkdir -p "$ctx/app/models/onnx"
step "dotnet publish src/FaceStream.Worker.Host (self-contained, linux-x64)"
# Its own artifacts path: a self-contained build must not replace the framework-dependent one in src/*/bin that the
# CLI and the tests run from (the smoke test runs inside the test suite).
dotnet publish src/FaceStream.Worker.Host/FaceStream.Worker.Host.csproj -c Release -r linux-x64 -p:SelfContained=true \
  --artifacts-path "$WORK/artifacts" -nologo -v quiet -clp:ErrorsOnly -o "$ctx/app"
rm -f "$ctx/app"/*.pdb

# 3. Models: the manifest and the converted ONNX files, each checked against the sha256 its install stamp recorded
#    (the worker checks them again at start and refuses a damaged one).
step "models: copy and verify"
cp models/manifest.json "$ctx/app/models/"
for id in $(jq -r '.models[].id' models/manifest.json); do
  onnx="models/onnx/$id.onnx"
  [ -f "$onnx" ] && [ -f "$onnx.stamp.json" ] || { echo "error: model $id is not installed ($onnx): run facestream models install" >&2; exit 1; }
  want=$(jq -r .OnnxSha256 "$onnx.stamp.json")
  got=$(sha256sum "$onnx" | cut -d' ' -f1)
  [ "$want" = "$got" ] || { echo "error: $onnx sha256 $got, its stamp says $want" >&2; exit 1; }
  cp -L "$onnx" "$onnx.stamp.json" "$ctx/app/models/onnx/"
done

# 4. The calibrated known-person thresholds, where the worker reads them: beside /etc/facestream/facestream.json
#    (ThresholdFile.Resolve). A config mounted as a single file keeps them; a directory mounted on /etc/facestream
#    hides them (the chart's ConfigMap carries its own copy).
mkdir -p "$ctx/etc/facestream"
cp config/thresholds.json "$ctx/etc/facestream/thresholds.json"

# 5. The image.
cp "$rootfs" "$ctx/rootfs.tar"
cat > "$ctx/Containerfile" <<EOF
FROM scratch
ADD rootfs.tar /
COPY app/ /app/
COPY etc/facestream/ /etc/facestream/
ENV FACESTREAM__Inference__ModelsDirectory=/app/models \\
    DOTNET_gcServer=0 \\
    MALLOC_ARENA_MAX=2 \\
    TZ=UTC
WORKDIR /app
USER 65534:65534
EXPOSE 9464
ENTRYPOINT ["/app/facestream-worker"]
CMD ["--config", "/etc/facestream/facestream.json"]
LABEL org.opencontainers.image.title="FaceStream worker" org.opencontainers.image.version="$VERSION"
EOF
step "buildah bud -t $IMAGE"
buildah bud --quiet --isolation chroot --layers=false -t "$IMAGE" "$ctx" >/dev/null
rm -f "$ctx/rootfs.tar"
size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
echo "image $IMAGE: $((size / 1024 / 1024)) MiB (root filesystem $(( $(stat -c %s "$rootfs") / 1024 / 1024 )) MiB, app $(du -sm "$ctx/app" | cut -f1) MiB)"

if [ -n "$export_to" ]; then
  step "export $export_to"
  rm -f "$export_to"
  buildah push --quiet "$IMAGE" "oci-archive:$export_to:$IMAGE"
  ls -l "$export_to"
fi

if $smoke; then
  step "smoke test: the image on the demo clip, with the demo gallery"
  run="$WORK/smoke"
  rm -rf "$run"; mkdir -p "$run/out"
  # The demo's clip (the sample photos, 12 s) and gallery (two of their faces), made by the CLI on this host; its
  # own 12-second worker run is the price of reusing it.
  dotnet build src/FaceStream.Cli/FaceStream.Cli.csproj -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
  cli=$(find src/FaceStream.Cli/bin/Release -name facestream.dll | head -1)
  dotnet "$cli" demo --out "$run/demo" --metrics-port $(( 30000 + RANDOM % 10000 )) >/dev/null 2>"$run/demo.log" \
    || { tail -20 "$run/demo.log" >&2; echo "error: facestream demo failed" >&2; exit 1; }
  port=$(( 20000 + RANDOM % 10000 ))
  cat > "$run/facestream.json" <<EOF
{ "Detector": { "Mtcnn": { "MinFaceSize": 40 } }, "Metrics": { "Host": "127.0.0.1", "Port": $port },
  "Gallery": { "Directory": "/data/gallery" },
  "Events": { "Console": false, "JsonLinesFile": "/out/events.jsonl" },
  "Cameras": [ { "Id": "smoke", "Url": "/data/lobby.mp4", "Loop": true, "Realtime": true, "AnalysisFps": 5 } ] }
EOF
  chmod -R a+rX "$run"; chmod a+rwx "$run/out"
  name="facestream-smoke-$$"
  t0=$(date +%s.%N)
  # Not --rm: the exit code is read after the stop.
  podman run -d --name "$name" --network host --read-only --tmpfs /tmp \
    -v "$run/facestream.json:/etc/facestream/facestream.json:ro" -v "$run/demo/lobby.mp4:/data/lobby.mp4:ro" \
    -v "$run/demo/gallery:/data/gallery:ro" -v "$run/out:/out" "$IMAGE" >/dev/null
  trap 'podman rm -f "$name" >/dev/null 2>&1 || true' EXIT
  fail_smoke() { podman logs "$name" 2>&1 | tail -20 >&2 || true; echo "error: $*" >&2; exit 1; }
  ready=""
  for _ in $(seq 600); do
    if curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; then ready=$(echo "$(date +%s.%N) - $t0" | bc); break; fi
    podman container exists "$name" || break
    sleep 0.1
  done
  [ -n "$ready" ] || fail_smoke "the image did not become ready within 60 s"
  user=$(podman exec "$name" /usr/bin/id -u)
  [ "$user" = "65534" ] || fail_smoke "the worker runs as uid $user, not 65534"
  # Without it glibc's arenas fragment and RSS grows (docs/benchmarks.md, "Soak").
  [ "$(podman exec "$name" /usr/bin/printenv MALLOC_ARENA_MAX)" = "2" ] || fail_smoke "MALLOC_ARENA_MAX is not 2 in the image"
  # Read the whole log first: with pipefail, `podman logs | grep -q` fails when grep's early exit kills podman (SIGPIPE).
  logs=$(podman logs "$name" 2>&1)
  grep -q 'threshold .* from /etc/facestream/thresholds.json' <<< "$logs" \
    || fail_smoke "the worker did not read the image's /etc/facestream/thresholds.json"
  metrics=$(curl -sf "http://127.0.0.1:$port/metrics")
  grep -q '^facestream_camera_up{camera="smoke"} 1' <<< "$metrics" || fail_smoke "/metrics does not show the camera streaming"
  alert=""
  for _ in $(seq 900); do
    alert=$(grep -m1 '"kind":"match"' "$run/out/events.jsonl" 2>/dev/null || true)
    [ -n "$alert" ] && break
    podman container exists "$name" || break
    sleep 0.1
  done
  [ -n "$alert" ] || fail_smoke "no alert (a match event) in /out/events.jsonl within 90 s of ready"
  who=$(jq -r .identity_name <<< "$alert")
  # SIGTERM, as podman stop, systemd and the kubelet send it: the worker drains and exits 0.
  t1=$(date +%s.%N)
  podman kill --signal TERM "$name" >/dev/null
  code=$(timeout 30 podman wait "$name" 2>/dev/null || echo "none within 30 s")
  stopped=$(echo "$(date +%s.%N) - $t1" | bc)
  [ "$code" = "0" ] || fail_smoke "after SIGTERM the worker exited with $code, not 0"
  echo "smoke: ready (/readyz 200) ${ready} s after podman run, uid 65534, thresholds from the image, camera streaming," \
    "alert for $who, SIGTERM → exit 0 in ${stopped} s"
fi
echo "done in $(( $(date +%s) - started )) s"
