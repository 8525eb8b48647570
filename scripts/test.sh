#!/usr/bin/env bash
# Runs every test of the project: formatting and lint gates, unit, property and
# integration tests (cargo), the AWS CLI smoke test, and the steps of the TaskApp lab
# (../shared/acceptance/taskapp-lab.sh) that Stator supports so far, and a brief run of
# the parser fuzz targets.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v aws >/dev/null 2>&1; then
  echo "installing the AWS CLI (pip) for the CLI tests"
  python3 -m pip install --quiet awscli
fi
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
bin="${CARGO_TARGET_DIR:-target}/debug/stator"
scripts/cli-smoke.sh "$bin"
scripts/lab.sh "$bin"
scripts/fuzz-smoke.sh
