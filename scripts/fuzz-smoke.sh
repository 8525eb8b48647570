#!/usr/bin/env bash
# Runs every fuzz target briefly (FUZZ_SECONDS each, default 10), starting from its
# committed seed corpus (fuzz/seeds/<target>): a regression gate that an input which
# panics, hangs or breaks an invariant is caught on every run. Prints each target's
# executions. Installs cargo-fuzz when missing; skips with a note when it cannot be
# installed (offline). A longer run: FUZZ_SECONDS=600 scripts/fuzz-smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-10}
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  if ! cargo install cargo-fuzz --locked --quiet; then
    echo "fuzz: cargo-fuzz could not be installed; skipped"
    exit 0
  fi
fi
cd fuzz
ALL="number attribute_json item_codec key_encoding expressions partiql stream_codecs engine_request http_request"
for target in ${FUZZ_TARGETS:-$ALL}; do
  mkdir -p "corpus/$target"
  echo "fuzz: $target for ${SECONDS_EACH}s"
  log=$(mktemp)
  status=0
  RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$SECONDS_EACH" -timeout=10 >"$log" 2>&1 || status=$?
  grep -E "^Done" "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -40 "$log"
    echo "fuzz: $target FAILED"
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
done
