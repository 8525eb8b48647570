#!/usr/bin/env bash
# Whole-server instructions per request under the shared bench's workloads: a stable
# figure on a noisy machine (wall-clock ops/s here varies by tens of percent from one
# process to the next), to compare commits. User-space only (the kernel's TCP work is
# not counted); the reference server spends ~18.6k per W2 request.
#
#   scripts/server-instructions.sh "W2 W4" [BINARY] [ITEMS]
#
# Needs valgrind and the bench's dynobench (../shared/bench/build.sh). The server runs
# in memory under callgrind with instrumentation off; it is switched on for each
# workload's run (8 connections, DUR seconds, default 6) and the total divided by the
# requests answered.
set -uo pipefail
cd "$(dirname "$0")/.."
WS=${1:-"W2 W3 W4 W5"}
BIN=${2:-./target/release/stator}
ITEMS=${3:-5000}
DB=${DYNOBENCH:-${CARGO_TARGET_DIR:-${TMPDIR:-/tmp}/stator-bench-target}/release/dynobench}
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
[ -x "$DB" ] || { echo "dynobench not found at $DB (run ../shared/bench/build.sh)" >&2; exit 2; }
PORT=${PORT:-18795}
OUT=$(mktemp -d /tmp/stator-cg-XXXX)
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/cg.out" \
  "$BIN" serve --port "$PORT" --log-level warn --in-memory > "$OUT/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$OUT"' EXIT
"$DB" ready --endpoint "http://127.0.0.1:$PORT" > /dev/null
"$DB" setup --endpoint "http://127.0.0.1:$PORT" --items "$ITEMS" > /dev/null
printf '%-4s %8s %10s\n' load requests instr/req
for W in $WS; do
  callgrind_control -z "$PID" > /dev/null 2>&1
  callgrind_control -i on "$PID" > /dev/null 2>&1
  J=$("$DB" run --endpoint "http://127.0.0.1:$PORT" --workload "$W" --items "$ITEMS" \
      --duration-s "${DUR:-6}" --warmup-s 0 --conns 8)
  callgrind_control -i off "$PID" > /dev/null 2>&1
  callgrind_control -d "$PID" > /dev/null 2>&1
  sleep 1
  F=$(ls -t "$OUT"/cg.out.* | head -1)
  IR=$(grep -m1 '^totals:' "$F" | awk '{print $2}')
  OPS=$(echo "$J" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["ok"])')
  printf '%-4s %8d %10d\n' "$W" "$OPS" $((IR / OPS))
  rm -f "$OUT"/cg.out.*
done
