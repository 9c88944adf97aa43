#!/usr/bin/env bash
# WebSocket figures: echo round trips through a MOCK two-way `$default` route at 1 and 100
# connections, and PostToConnection (SigV4-signed @connections pushes) throughput to 100
# held connections. The load client is bench/ws-load (Rust, one thread), built here in
# release; it is pinned to CPU 0 and Tollgate to CPU 1. Loopback only, every run bounded.
# Usage: TOLLGATE_BIN=target/release/tollgate [SECONDS=5] bash bench/ws_echo.sh
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
SECONDS_PER_RUN=${SECONDS:-5}
CARGO_TARGET_DIR="$REPO/bench/out/ws-load-target" \
    cargo build --release --quiet --manifest-path "$BENCH_DIR/ws-load/Cargo.toml"
LOAD="$REPO/bench/out/ws-load-target/release/ws-load"
NAME=ws-echo TOLLGATE_PREFIX="taskset -c 1"
# shellcheck source=ws_server.sh
source "$BENCH_DIR/ws_server.sh"
# The account throttle (10,000 requests/s) meters pushes too; raised so it is not what
# the post runs measure.
aws $EP apigateway update-account --patch-operations op=replace,path=/throttleSettings/rateLimit,value=10000000 \
    op=replace,path=/throttleSettings/burstLimit,value=10000000 >/dev/null
API=$(aws $EP apigatewayv2 create-api --name echo --protocol-type WEBSOCKET \
    --route-selection-expression '$request.body.action' --query ApiId --output text)
# One MOCK integration: 200, and its `$default` integration response answers the
# connection's id (the post run learns each socket's id from it).
INT=$(aws $EP apigatewayv2 create-integration --api-id "$API" --integration-type MOCK \
    --request-templates '{"$default": "{\"statusCode\": 200}"}' --template-selection-expression '\$default' \
    --query IntegrationId --output text)
aws $EP apigatewayv2 create-integration-response --api-id "$API" --integration-id "$INT" \
    --integration-response-key '$default' --template-selection-expression '\$default' \
    --response-templates '{"$default": "$context.connectionId"}' >/dev/null
aws $EP apigatewayv2 create-route --api-id "$API" --route-key '$connect' --target "integrations/$INT" >/dev/null
ROUTE=$(aws $EP apigatewayv2 create-route --api-id "$API" --route-key '$default' --target "integrations/$INT" \
    --route-response-selection-expression '$default' --query RouteId --output text)
aws $EP apigatewayv2 create-route-response --api-id "$API" --route-id "$ROUTE" \
    --route-response-key '$default' >/dev/null
aws $EP apigatewayv2 create-stage --api-id "$API" --stage-name bench --auto-deploy >/dev/null
URL="ws://127.0.0.1:$PORT/_aws/execute-api/$API/bench"
BASE="http://127.0.0.1:$PORT/_aws/execute-api/$API/bench"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
run() {
    local before after
    before=$(cpu_ticks)
    local out; out=$(taskset -c 0 "$LOAD" "$@")
    after=$(cpu_ticks)
    # CPU per message: Tollgate's CPU time over the messages answered (echo) or pushes
    # accepted (post), from /proc; the echo count covers the measured seconds only, so the
    # warm-up second's CPU makes the echo figure an upper bound.
    local n; n=$(grep -o 'messages=[0-9]*\|accepted=[0-9]*' <<<"$out" | head -1 | cut -d= -f2)
    echo "$out tollgate_cpu_us_per_msg=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$n" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')"
}
"$BIN" --version
run echo "$URL" 1 "$SECONDS_PER_RUN"
run echo "$URL" 100 "$SECONDS_PER_RUN"
run post "$URL" "$BASE" 100 "$SECONDS_PER_RUN" 1
run post "$URL" "$BASE" 100 "$SECONDS_PER_RUN" 16
