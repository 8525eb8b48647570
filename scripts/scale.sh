#!/usr/bin/env bash
# Scale check: starts a release Stator (durable by default, `--in-memory` to compare),
# loads ITEMS (default 1,000,000) items, pages a 10,000-item partition and the whole
# table, prints load rate, page latencies and RSS, and stops the server by its PID.
# Usage: scripts/scale.sh [--in-memory] [ITEMS]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=(--data-dir "$(mktemp -d /tmp/stator-scale-XXXX)")
if [ "${1:-}" = "--in-memory" ]; then mode=(--in-memory); shift; fi
items=${1:-1000000}
cargo build --release -p stator-server --bins --example scale >/dev/null
out=$(mktemp)
./target/release/stator serve --port 0 "${mode[@]}" --log-level warn >"$out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$out" && break; sleep 0.1; done
port=$(sed -n 's/.*http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$out" | head -1)
echo "stator ${mode[*]} on port $port (pid $pid)"
timeout 1800 ./target/release/examples/scale "http://127.0.0.1:$port" "$pid" "$items"
