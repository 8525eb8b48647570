#!/usr/bin/env bash
# Runs the parser fuzz targets briefly (FUZZ_SECONDS each, default 20): a regression
# gate that any input panicking or hanging a parser is caught on every run. Installs
# cargo-fuzz when missing; skips with a note when it cannot be installed (offline).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-20}
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  if ! cargo install cargo-fuzz --locked --quiet; then
    echo "fuzz: cargo-fuzz could not be installed; skipped"
    exit 0
  fi
fi
cd fuzz
for target in ${FUZZ_TARGETS:-partiql expressions}; do
  echo "fuzz: $target for ${SECONDS_EACH}s"
  RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$target" -- -max_total_time="$SECONDS_EACH" -timeout=10 2>&1 | tail -1
done
