#!/usr/bin/env bash
# Soak check: starts a release Stator (durable), runs a steady mixed workload from 16
# clients for SECONDS (default 120), prints every 10 s the throughput, the server's RSS
# and its storage engine's memory counters, and stops the server by its PID.
# Usage: scripts/soak.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
cargo build --release -p stator-server --bins --example soak >/dev/null
. "$(dirname "$0")/lib.sh"
start_stator ./target/release/stator --data-dir "$(mktemp -d /tmp/stator-soak-XXXX)" --log-level warn
echo "stator on port $STATOR_PORT (pid $STATOR_PID), $seconds s"
timeout $((seconds + 120)) ./target/release/examples/soak "http://127.0.0.1:$STATOR_PORT" "$STATOR_PID" "$seconds"
