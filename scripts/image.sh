#!/usr/bin/env bash
# Builds the worker's container image without a container registry (none is reachable here; INFRA.md §7):
#   Debian bookworm root filesystem from Debian's own mirror (mmdebstrap, cached by its package list)
#   + `dotnet publish` self-contained worker + the installed ONNX models (verified against their stamps)
#   → `buildah bud` FROM scratch, non-root (65534), entry point /app/facestream-worker.
#
#   scripts/image.sh                 build localhost/facestream:VERSION (VERSION = <Version> in Directory.Build.props)
#   scripts/image.sh --smoke         also run it on a generated clip: /readyz within 60 s, non-root, start-to-ready time
#   scripts/image.sh --export FILE   also write an OCI archive (load it elsewhere with `podman load -i FILE`)
#
# Needs root, buildah, podman, runc, mmdebstrap (apt-get install buildah podman runc mmdebstrap; this script installs
# them when missing), the models installed (`facestream models install`) and ffmpeg for --smoke.
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
step "dotnet publish src/FaceStream.Worker (self-contained, linux-x64)"
dotnet publish src/FaceStream.Worker/FaceStream.Worker.csproj -c Release -r linux-x64 -p:SelfContained=true \
  -nologo -v quiet -clp:ErrorsOnly -o "$ctx/app"
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

# 4. The image.
cp "$rootfs" "$ctx/rootfs.tar"
cat > "$ctx/Containerfile" <<EOF
FROM scratch
ADD rootfs.tar /
COPY app/ /app/
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
  step "smoke test: the image on a generated clip"
  run="$WORK/smoke"
  rm -rf "$run"; mkdir -p "$run"
  ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=25 -t 4 -c:v libx264 -preset veryfast -pix_fmt yuv420p "$run/clip.mp4"
  port=$(( 20000 + RANDOM % 10000 ))
  cat > "$run/facestream.json" <<EOF
{ "Detector": { "Mtcnn": { "MinFaceSize": 40 } }, "Metrics": { "Host": "127.0.0.1", "Port": $port },
  "Cameras": [ { "Id": "smoke", "Url": "/data/clip.mp4", "Loop": true, "Realtime": true, "AnalysisFps": 2 } ] }
EOF
  chmod -R a+rX "$run"
  name="facestream-smoke-$$"
  t0=$(date +%s.%N)
  podman run -d --rm --name "$name" --network host --read-only --tmpfs /tmp \
    -v "$run/facestream.json:/etc/facestream/facestream.json:ro" -v "$run/clip.mp4:/data/clip.mp4:ro" "$IMAGE" >/dev/null
  trap 'podman rm -f "$name" >/dev/null 2>&1 || true' EXIT
  ready=""
  for _ in $(seq 600); do
    if curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; then ready=$(echo "$(date +%s.%N) - $t0" | bc); break; fi
    podman container exists "$name" || break
    sleep 0.1
  done
  if [ -z "$ready" ]; then
    podman logs "$name" 2>&1 | tail -20 >&2 || true
    echo "error: the image did not become ready within 60 s" >&2; exit 1
  fi
  user=$(podman exec "$name" /usr/bin/id -u)
  [ "$user" = "65534" ] || { echo "error: the worker runs as uid $user, not 65534" >&2; exit 1; }
  metrics=$(curl -sf "http://127.0.0.1:$port/metrics")
  grep -q '^facestream_camera_up{camera="smoke"} 1' <<< "$metrics" || { echo "error: /metrics does not show the camera streaming" >&2; exit 1; }
  podman stop -t 15 "$name" >/dev/null
  echo "smoke: ready (/readyz 200) ${ready} s after podman run, uid 65534, camera streaming"
fi
echo "done in $(( $(date +%s) - started )) s"
