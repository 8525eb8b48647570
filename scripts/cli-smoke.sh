#!/usr/bin/env bash
# AWS CLI smoke test: starts `stator serve --in-memory` on a free loopback port, then
# creates a table, puts, gets, updates conditionally (one success, one
# ConditionalCheckFailedException) and deletes, with the unmodified AWS CLI.
# Usage: scripts/cli-smoke.sh [path-to-stator-binary]   (default target/debug/stator)
set -euo pipefail
BIN=${1:-target/debug/stator}
export AWS_ACCESS_KEY_ID=AKIDSMOKE AWS_SECRET_ACCESS_KEY=smoke AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""
. "$(dirname "$0")/lib.sh"
start_stator "$BIN" --in-memory --log-level warn
port=$STATOR_PORT
ddb() { aws dynamodb --endpoint-url "http://127.0.0.1:$port" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }

ddb create-table --table-name Smoke --attribute-definitions AttributeName=id,AttributeType=S \
  --key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST >/dev/null
ddb wait table-exists --table-name Smoke
[ "$(ddb describe-table --table-name Smoke --query Table.TableStatus --output text)" = ACTIVE ] || fail "table not ACTIVE"
ddb put-item --table-name Smoke --item '{"id":{"S":"1"},"qty":{"N":"5"}}'
[ "$(ddb get-item --table-name Smoke --key '{"id":{"S":"1"}}' --query Item.qty.N --output text)" = 5 ] || fail "get-item"
ddb update-item --table-name Smoke --key '{"id":{"S":"1"}}' --update-expression "SET qty = qty - :one" \
  --condition-expression "qty = :five" --expression-attribute-values '{":one":{"N":"1"},":five":{"N":"5"}}' >/dev/null \
  || fail "first conditional update"
if err=$(ddb update-item --table-name Smoke --key '{"id":{"S":"1"}}' --update-expression "SET qty = qty - :one" \
  --condition-expression "qty = :five" --expression-attribute-values '{":one":{"N":"1"},":five":{"N":"5"}}' 2>&1); then
  fail "second conditional update succeeded"
fi
echo "$err" | grep -q ConditionalCheckFailedException || fail "expected ConditionalCheckFailedException, got: $err"
[ "$(ddb get-item --table-name Smoke --key '{"id":{"S":"1"}}' --consistent-read --query Item.qty.N --output text)" = 4 ] || fail "qty after updates"
ddb delete-item --table-name Smoke --key '{"id":{"S":"1"}}'
[ -z "$(ddb get-item --table-name Smoke --key '{"id":{"S":"1"}}' --output text)" ] || fail "item still there after delete"
ddb delete-table --table-name Smoke >/dev/null
echo "cli smoke: 1 passed, 0 failed"
