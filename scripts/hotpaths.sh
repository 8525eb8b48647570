#!/usr/bin/env bash
# Hot-path benchmark (crates/engine/benches/hotpaths.rs).
#   scripts/hotpaths.sh              ns per operation (median of 5 rounds; noisy)
#   scripts/hotpaths.sh --callgrind  instructions per operation under valgrind (stable:
#                                    compare these across commits)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != "--callgrind" ]; then
  exec cargo bench -p stator-engine --bench hotpaths
fi
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
bin=$(cargo bench -p stator-engine --bench hotpaths --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "hotpaths" and m.get("executable"):
        print(m["executable"])')
paths=$(grep -o '^    ("[a-z_]*"' crates/engine/benches/hotpaths.rs | tr -d ' ("')
ir() {
  local out; out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$1" "$2" >/dev/null 2>&1
  grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}'
  rm -f "$out"
}
printf '%-22s %12s\n' path instr/op
for p in $paths; do
  base=$(ir "$p" 0); with=$(ir "$p" 2000)
  printf '%-22s %12d\n' "$p" $(( (with - base) / 2000 ))
done
