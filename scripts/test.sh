#!/usr/bin/env bash
# Sets up FaceStream and runs every test against the real models and photos.
# Ends with one line "N passed, N failed[, N skipped]" (the .NET runner does not print one).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test || exit 1
results="$(mktemp -d)"
echo "==> dotnet test"
# A hung test is killed after 5 minutes and named in the output (instead of stalling CI for its whole budget).
dotnet test FaceStream.sln -c Release --no-build -nologo --blame-hang-timeout 5m --blame-hang-dump-type none \
  --logger "trx;LogFileName=results.trx" --results-directory "$results"
status=$?
trx="$results/results.trx"
if [ -f "$trx" ]; then
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | grep -o "$1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  passed=$(get passed); failed=$(get failed); skipped=$(get notExecuted)
  echo "${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
else
  echo "0 passed, 1 failed"
  status=1
fi
exit $status
