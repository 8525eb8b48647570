#!/usr/bin/env bash
# Runs the shared TaskApp lab against a fresh in-memory Stator, through the last step
# Stator supports (LAB_THROUGH, default: optimistic). Skips with a note when the shared lab
# is not checked out next to the repository.
set -euo pipefail
BIN=${1:-target/debug/stator}
THROUGH=${LAB_THROUGH:-optimistic}
LAB=$(dirname "$0")/../../shared/acceptance/taskapp-lab.sh
if [ ! -f "$LAB" ]; then echo "lab: $LAB not found, skipped"; exit 0; fi
out=$(mktemp)
"$BIN" serve --port 0 --in-memory --log-level warn >"$out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$out" && break; sleep 0.1; done
port=$(sed -n 's/.*http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$out" | head -1)
[ -n "$port" ] || { echo "lab: server did not start"; cat "$out"; exit 1; }
bash "$LAB" "http://127.0.0.1:$port" --through "$THROUGH"
