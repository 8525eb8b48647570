#!/usr/bin/env bash
# Scale check: starts a release Stator (durable by default, `--in-memory` to compare),
# loads ITEMS (default 1,000,000) items, pages a 10,000-item partition and the whole
# table, prints load rate, page latencies and RSS, and stops the server by its PID.
# Usage: [SCALE_SCAN=0] [SCALE_DATA_DIR=DIR [SCALE_LOAD=0]] scripts/scale.sh [--in-memory] [ITEMS]
set -euo pipefail
cd "$(dirname "$0")/.."
# SCALE_DATA_DIR: a store loaded by an earlier run (with SCALE_LOAD=0, read it back
# without loading: figures once its background compaction has settled).
mode=(--data-dir "${SCALE_DATA_DIR:-$(mktemp -d /tmp/stator-scale-XXXX)}")
if [ "${1:-}" = "--in-memory" ]; then mode=(--in-memory); shift; fi
items=${1:-1000000}
cargo build --release -p stator-server --bins --example scale >/dev/null
. "$(dirname "$0")/lib.sh"
start_stator ./target/release/stator "${mode[@]}" --log-level warn
port=$STATOR_PORT pid=$STATOR_PID
echo "stator ${mode[*]} on port $port (pid $pid)"
timeout 1800 ./target/release/examples/scale "http://127.0.0.1:$port" "$pid" "$items"
