#!/usr/bin/env bash
# Shared helper of the scripts here (sourced): start a Stator on a free loopback port,
# wait for its listening line, stop it by its PID on exit.
# Usage: start_stator BINARY [serve options...]   → sets STATOR_PID and STATOR_PORT

start_stator() {
  local bin=$1
  shift
  STATOR_OUT=$(mktemp)
  "$bin" serve --port 0 "$@" >"$STATOR_OUT" 2>&1 &
  STATOR_PID=$!
  trap 'kill "$STATOR_PID" 2>/dev/null; wait "$STATOR_PID" 2>/dev/null; rm -f "$STATOR_OUT"' EXIT
  for _ in $(seq 1 100); do grep -q "listening on" "$STATOR_OUT" && break; sleep 0.1; done
  STATOR_PORT=$(sed -n 's/.*http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$STATOR_OUT" | head -1)
  if [ -z "$STATOR_PORT" ]; then
    echo "stator did not start:"
    cat "$STATOR_OUT"
    return 1
  fi
}
