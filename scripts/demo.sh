#!/usr/bin/env bash
# Sets up FaceStream and runs the engine on the bundled sample photos (no external services).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "==> facestream demo"
dotnet src/FaceStream.Cli/bin/Release/net10.0/linux-x64/facestream.dll demo "$@"
