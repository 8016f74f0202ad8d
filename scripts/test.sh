#!/usr/bin/env bash
# Sets up FaceStream and runs every test against the real models and photos.
# Ends with one line "N passed, N failed[, N skipped]" (the .NET runner does not print one).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test || exit 1
results="$(mktemp -d)"

# Real Redis and MQTT broker for the tests, on 127.0.0.1 with test ports and no persistence; stopped on exit.
REDIS_PORT=${FACESTREAM_TEST_REDIS_PORT:-16379}
MQTT_PORT=${FACESTREAM_TEST_MQTT_PORT:-11883}
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize no --logfile "$results/redis.log" &
REDIS_PID=$!
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$MQTT_PORT" > "$results/mosquitto.conf"
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
"$MOSQUITTO" -c "$results/mosquitto.conf" > "$results/mosquitto.log" 2>&1 &
MQTT_PID=$!
trap 'kill $REDIS_PID $MQTT_PID 2>/dev/null' EXIT
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
export FACESTREAM_TEST_REDIS="127.0.0.1:$REDIS_PORT" FACESTREAM_TEST_MQTT="127.0.0.1:$MQTT_PORT"
echo "==> redis-server on $FACESTREAM_TEST_REDIS, mosquitto on $FACESTREAM_TEST_MQTT"
echo "==> dotnet test"
# A hung test is killed after 5 minutes and named in the output (instead of stalling CI for its whole budget).
dotnet test FaceStream.sln -c Release --no-build -nologo --blame-hang-timeout 5m --blame-hang-dump-type none \
  --logger "trx;LogFileName=results.trx" --results-directory "$results"
status=$?
trx="$results/results.trx"
if [ -f "$trx" ]; then
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | grep -o "$1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  # Skipped tests (a tool that is not installed) are results with outcome NotExecuted; the Counters' notExecuted stays 0.
  passed=$(get passed); failed=$(get failed); total=$(get total)
  skipped=$(grep -o '<UnitTestResult [^>]*outcome="NotExecuted"' "$trx" | wc -l)
  # An aborted run (a crashed or hung test host) leaves tests that never reported: count them as failed.
  missing=$(( ${total:-0} - ${passed:-0} - ${failed:-0} - ${skipped:-0} ))
  if [ "$status" -ne 0 ] && [ "${failed:-0}" -eq 0 ]; then missing=$(( missing > 0 ? missing : 1 )); fi
  echo "${passed:-0} passed, $(( ${failed:-0} + (missing > 0 ? missing : 0) )) failed, ${skipped:-0} skipped"
else
  echo "0 passed, 1 failed"
  status=1
fi
exit $status
