#!/usr/bin/env bash
# Runs the shared TaskApp lab against a fresh in-memory Stator, through the last step
# Stator supports (LAB_THROUGH, default: ttl). Skips with a note when the shared lab
# is not checked out next to the repository.
set -euo pipefail
BIN=${1:-target/debug/stator}
THROUGH=${LAB_THROUGH:-ttl}
LAB=$(dirname "$0")/../../shared/acceptance/taskapp-lab.sh
if [ ! -f "$LAB" ]; then echo "lab: $LAB not found, skipped"; exit 0; fi
. "$(dirname "$0")/lib.sh"
start_stator "$BIN" --in-memory --log-level warn
port=$STATOR_PORT
bash "$LAB" "http://127.0.0.1:$port" --through "$THROUGH"
