#!/usr/bin/env bash
# Long fuzz run: mutated images through `facestream detect` and the API; mutated videos through `facestream probe`,
# decoded to their end through the real decoder (VideoSource, as a camera runs it), and as cameras of one `watch`.
# Usage: scripts/fuzz.sh [--images N] [--videos N] [--watch N] [--uploads N] [--seed N]   (needs a Release build and the models)
# The same tests run in CI with 300 images, 30 videos (8 of them through watch), 60 uploads and seed 1. A failure names the seed, the inputs
# and the folder that holds them; any one input is rebuilt from (seed, index) alone (tests/FaceStream.Tests/Support/FuzzCorpus.cs).
set -euo pipefail
cd "$(dirname "$0")/.."
images=5000 videos=500 watch=50 uploads=1000 seed=$RANDOM
while [ $# -gt 0 ]; do
  case "$1" in
    --images) images=$2; shift 2 ;;
    --videos) videos=$2; shift 2 ;;
    --watch) watch=$2; shift 2 ;;
    --uploads) uploads=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) echo "unknown option $1 (--images N --videos N --watch N --uploads N --seed N)" >&2; exit 2 ;;
  esac
done
echo "==> fuzz: $images images, $videos videos ($watch through watch), $uploads uploads, seed $seed"
FACESTREAM_FUZZ_IMAGES=$images FACESTREAM_FUZZ_VIDEOS=$videos FACESTREAM_FUZZ_WATCH=$watch FACESTREAM_FUZZ_UPLOADS=$uploads FACESTREAM_FUZZ_SEED=$seed \
  dotnet test tests/FaceStream.Tests -c Release --no-build -nologo --filter "FullyQualifiedName~FaceStream.Tests.Cli.FuzzTests" \
  --blame-hang-timeout 60m --blame-hang-dump-type none
