#!/usr/bin/env bash
# Lambda benchmark: warm AWS_PROXY requests through Tollgate to trivial functions (Rust on
# `lambda_runtime` as provided.al2023, and Python on Tollgate's runtime loop), in the same
# run as a direct HTTP backend (nginx `return`), plus Python cold starts (first request after
# CreateFunction). See bench/README.md.
#
#   bash bench/lambda.sh                   # 10 s per measured run
#   DURATION=5 COLD_RUNS=3 bash bench/lambda.sh
#
# Everything listens on 127.0.0.1 only; every load run is bounded in time; every process
# started here is stopped on exit. Results: bench/out/lambda.md.
set -euo pipefail

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
LOAD_CONNS=${LOAD_CONNS:-8}
COLD_RUNS=${COLD_RUNS:-5}
WRK_CPU=${WRK_CPU-1}

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
OUT_DIR=${OUT_DIR:-$BENCH_DIR/out}
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
BODY='{"service":"tollgate-bench","status":"ok"}'

log() { printf '[lambda-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[lambda-bench] ERROR: %s\n' "$*" >&2; exit 1; }

need_apt=()
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need_apt+=(nginx)
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
if ((${#need_apt[@]})); then
    log "installing ${need_apt[*]} with apt-get"
    apt-get install -y -qq "${need_apt[@]}" >/dev/null 2>&1 || {
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    } || die "apt-get install ${need_apt[*]} failed"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if ! command -v aws >/dev/null 2>&1; then
    [[ -x $REPO/.venv/bin/aws ]] || { python3 -m venv "$REPO/.venv" && "$REPO/.venv/bin/pip" install --quiet awscli; }
    export PATH="$REPO/.venv/bin:$PATH"
fi
WRK=(wrk)
[[ -n $WRK_CPU ]] && WRK=(taskset -c "$WRK_CPU" wrk)

log "building tollgate and the Rust example function (release)"
(cd "$REPO" && cargo build --release --quiet -p tollgate && cargo build --release --quiet -p tollgate-functions --example hello_lambda) \
    || die "build failed"
TOLLGATE_BIN=$TARGET_DIR/release/tollgate
RUST_FN=$TARGET_DIR/release/examples/hello_lambda
commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)

TMP=$(mktemp -d /tmp/tollgate-lambda-bench.XXXXXX)
PIDS=()
cleanup() {
    local rc=$? p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    ((rc != 0)) && tail -n 20 "$TMP"/*.log >&2 2>/dev/null
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT

read -r BACKEND_PORT TOLLGATE_PORT < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { local i; for ((i = 0; i < 200; i++)); do port_open "$1" && return 0; sleep 0.1; done; die "nothing on port $1"; }

mkdir -p "$TMP/backend-tmp"
sed -e "s|@@DIR@@|$TMP|g" -e "s|@@BACKEND_PORT@@|$BACKEND_PORT|g" -e "s|@@BODY@@|$BODY|g" \
    "$BENCH_DIR/nginx-backend.conf.in" >"$TMP/backend.conf"
"$NGINX" -p "$TMP" -e "$TMP/backend-error.log" -c "$TMP/backend.conf" >"$TMP/nginx.log" 2>&1 &
PIDS+=($!)
BACKEND_PID=$!
wait_port "$BACKEND_PORT"

"$TOLLGATE_BIN" serve --listen "127.0.0.1:$TOLLGATE_PORT" --data-dir "$TMP/data" --log warn >"$TMP/tollgate.log" 2>&1 &
TOLLGATE_PID=$!
PIDS+=("$TOLLGATE_PID")
wait_port "$TOLLGATE_PORT"

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=
cp_() { aws --endpoint-url "http://127.0.0.1:$TOLLGATE_PORT" "$@" 2>>"$TMP/aws.log" || die "aws $1 $2 failed"; }

# Functions: Rust (lambda_runtime) and Python (Tollgate's runtime loop), both trivial.
(cd "$TMP" && cp "$RUST_FN" bootstrap && python3 -c 'import zipfile,os; z=zipfile.ZipFile("rust.zip","w",zipfile.ZIP_DEFLATED); i=zipfile.ZipInfo("bootstrap"); i.external_attr=0o755<<16; z.writestr(i, open("bootstrap","rb").read()); z.close()')
cat >"$TMP/app.py" <<'EOF'
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"service":"tollgate-bench","status":"ok"}'}
EOF
(cd "$TMP" && python3 -c 'import zipfile; z=zipfile.ZipFile("py.zip","w"); z.write("app.py"); z.close()')
ROLE=arn:aws:iam::000000000000:role/bench
cp_ lambda create-function --function-name rust-fn --runtime provided.al2023 --handler bootstrap --role $ROLE --zip-file "fileb://$TMP/rust.zip" >/dev/null
cp_ lambda create-function --function-name py-fn --runtime python3.12 --handler app.handler --role $ROLE --zip-file "fileb://$TMP/py.zip" >/dev/null

cp_ apigateway update-account --patch-operations op=replace,path=/throttleSettings/rateLimit,value=10000000 \
    op=replace,path=/throttleSettings/burstLimit,value=10000000 >/dev/null
API=$(cp_ apigateway create-rest-api --name lambda-bench --query id --output text)
ROOT=$(cp_ apigateway get-resources --rest-api-id "$API" --query 'items[0].id' --output text)
RES=$(cp_ apigateway create-resource --rest-api-id "$API" --parent-id "$ROOT" --path-part '{proxy+}' --query id --output text)
cp_ apigateway put-method --rest-api-id "$API" --resource-id "$RES" --http-method ANY --authorization-type NONE >/dev/null
# The function comes from a stage variable, so one API serves every function (one stage each).
cp_ apigateway put-integration --rest-api-id "$API" --resource-id "$RES" --http-method ANY --type AWS_PROXY \
    --integration-http-method POST \
    --uri 'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:${stageVariables.fn}/invocations' >/dev/null
for FN in rust-fn py-fn; do
    cp_ lambda add-permission --function-name $FN --statement-id apigw --action lambda:InvokeFunction \
        --principal apigateway.amazonaws.com --source-arn "arn:aws:execute-api:us-east-1:000000000000:$API/*/*/*" >/dev/null
done
DEP=$(cp_ apigateway create-deployment --rest-api-id "$API" --query id --output text)
cp_ apigateway create-stage --rest-api-id "$API" --deployment-id "$DEP" --stage-name rust --variables fn=rust-fn >/dev/null
cp_ apigateway create-stage --rest-api-id "$API" --deployment-id "$DEP" --stage-name py --variables fn=py-fn >/dev/null

# The same functions behind an HTTP API (payload format 2.0), one route each, stage `v2`.
HAPI=$(cp_ apigatewayv2 create-api --name lambda-bench-v2 --protocol-type HTTP --query ApiId --output text)
for FN in rust py; do
    INT=$(cp_ apigatewayv2 create-integration --api-id "$HAPI" --integration-type AWS_PROXY --payload-format-version 2.0 \
        --integration-uri "arn:aws:lambda:us-east-1:000000000000:function:$FN-fn" --query IntegrationId --output text)
    cp_ apigatewayv2 create-route --api-id "$HAPI" --route-key "ANY /$FN" --target "integrations/$INT" >/dev/null
    cp_ lambda add-permission --function-name "$FN-fn" --statement-id apigw-v2 --action lambda:InvokeFunction \
        --principal apigateway.amazonaws.com --source-arn "arn:aws:execute-api:us-east-1:000000000000:$HAPI/*" >/dev/null
done
cp_ apigatewayv2 create-stage --api-id "$HAPI" --stage-name v2 --auto-deploy >/dev/null

declare -A URL NAME
TARGETS=(direct rust rust2 py py2)
URL[direct]="http://127.0.0.1:$BACKEND_PORT/bench"
URL[rust]="http://127.0.0.1:$TOLLGATE_PORT/_aws/execute-api/$API/rust/bench"
URL[py]="http://127.0.0.1:$TOLLGATE_PORT/_aws/execute-api/$API/py/bench"
URL[rust2]="http://127.0.0.1:$TOLLGATE_PORT/_aws/execute-api/$HAPI/v2/rust"
URL[py2]="http://127.0.0.1:$TOLLGATE_PORT/_aws/execute-api/$HAPI/v2/py"
NAME[direct]="backend direct (nginx return)"
NAME[rust]="Tollgate AWS_PROXY → Rust (lambda_runtime)"
NAME[py]="Tollgate AWS_PROXY → Python 3 (own runtime loop)"
NAME[rust2]="Tollgate HTTP API payload 2.0 → Rust (lambda_runtime)"
NAME[py2]="Tollgate HTTP API payload 2.0 → Python 3 (own runtime loop)"
for t in "${TARGETS[@]}"; do
    body=$(curl -sS --max-time 10 "${URL[$t]}") || die "${NAME[$t]}: request failed"
    case $t in
        rust) [[ $body == *'"path":"/bench"'* ]] || die "${NAME[$t]}: unexpected body: $body" ;;
        rust2) [[ $body == *'"path":"/v2/rust"'* ]] || die "${NAME[$t]}: unexpected body: $body" ;;
        *) [[ $body == "$BODY" ]] || die "${NAME[$t]}: unexpected body: $body" ;;
    esac
done

# CPU of a process and all its descendants (Tollgate and its function workers), in ticks:
# each one's own and its reaped children's (utime, stime, cutime, cstime), over the tree as
# it is at that moment, so a worker that exits or starts during a run is still counted.
tree_pids() { local p=$1 c; echo "$p"; for c in $(ps -o pid= --ppid "$p"); do tree_pids "$c"; done; }
cpu_ticks() { local sum=0 p f; for p in "$@"; do [[ -r /proc/$p/stat ]] || continue; read -r -a f <<<"$(sed 's/.*) //' "/proc/$p/stat")"; sum=$((sum + f[11] + f[12] + f[13] + f[14])); done; echo "$sum"; }
HZ=$(getconf CLK_TCK)

mkdir -p "$OUT_DIR/raw"
declare -A R
measure() {
    local t=$1 c=$2 raw=$OUT_DIR/raw/lambda-$1-c$2.txt before after line kv
    "${WRK[@]}" -t1 -c"$c" -d"${WARMUP}s" "${URL[$t]}" >/dev/null 2>&1 || die "warm-up failed for $t"
    local root=$TOLLGATE_PID
    [[ $t == direct ]] && root=$BACKEND_PID
    before=$(cpu_ticks $(tree_pids "$root"))
    "${WRK[@]}" -t1 -c"$c" -d"${DURATION}s" --latency -s "$BENCH_DIR/report.lua" "${URL[$t]}" >"$raw" 2>&1 || die "wrk failed for $t"
    after=$(cpu_ticks $(tree_pids "$root"))
    line=$(grep '^BENCH ' "$raw") || die "no BENCH line for $t"
    for kv in ${line#BENCH }; do R[${kv%%=*}:$t:$c]=${kv#*=}; done
    R[rps:$t:$c]=$(awk -v n="${R[requests:$t:$c]}" -v d="${R[duration_us:$t:$c]}" 'BEGIN { printf "%.0f", n / (d / 1e6) }')
    R[cpu:$t:$c]=$(awk -v t=$((after - before)) -v hz="$HZ" -v n="${R[requests:$t:$c]}" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
    R[errors:$t:$c]=$((R[err_connect:$t:$c] + R[err_read:$t:$c] + R[err_write:$t:$c] + R[err_status:$t:$c] + R[err_timeout:$t:$c]))
    log "$(printf '%-48s c=%-2s %7s req/s  p50 %6s µs  p99 %7s µs  CPU %6s µs/req  errors %s' "${NAME[$t]}" "$c" "${R[rps:$t:$c]}" "${R[p50_us:$t:$c]}" "${R[p99_us:$t:$c]}" "${R[cpu:$t:$c]}" "${R[errors:$t:$c]}")"
}
for c in 1 "$LOAD_CONNS"; do for t in "${TARGETS[@]}"; do measure "$t" "$c"; done; done

# Cold starts: a new Python function, its own stage, first request timed by curl.
COLD=()
for ((i = 1; i <= COLD_RUNS; i++)); do
    cp_ lambda create-function --function-name "cold-$i" --runtime python3.12 --handler app.handler --role $ROLE --zip-file "fileb://$TMP/py.zip" >/dev/null
    cp_ lambda add-permission --function-name "cold-$i" --statement-id apigw --action lambda:InvokeFunction \
        --principal apigateway.amazonaws.com --source-arn "arn:aws:execute-api:us-east-1:000000000000:$API/*/*/*" >/dev/null
    cp_ apigateway create-stage --rest-api-id "$API" --deployment-id "$DEP" --stage-name "cold$i" --variables "fn=cold-$i" >/dev/null
    ms=$(curl -sS -o /dev/null -w '%{time_total}' "http://127.0.0.1:$TOLLGATE_PORT/_aws/execute-api/$API/cold$i/x" | awk '{ printf "%.1f", $1 * 1000 }')
    warm=$(curl -sS -o /dev/null -w '%{time_total}' "http://127.0.0.1:$TOLLGATE_PORT/_aws/execute-api/$API/cold$i/x" | awk '{ printf "%.1f", $1 * 1000 }')
    COLD+=("$ms")
    log "cold start $i: first request ${ms} ms (second ${warm} ms)"
done
COLD_MEDIAN=$(printf '%s\n' "${COLD[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
INIT=$(grep -h 'Init Duration' "$TMP"/data/functions/logs/cold-*.log | sed 's/.*Init Duration: \([0-9.]*\) ms.*/\1/' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')

{
    echo "# Lambda benchmark results"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); tollgate commit $commit"
    echo "- machine: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)); $(python3 --version); wrk 1 thread${WRK_CPU:+ pinned to CPU $WRK_CPU}, ${DURATION} s per run after ${WARMUP} s warm-up"
    echo "- CPU µs/req counts Tollgate **and its function worker processes** (the backend's nginx for the direct row)"
    echo
    echo "| target | conns | req/s | p50 µs | p99 µs | CPU µs/req | errors |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for c in 1 "$LOAD_CONNS"; do for t in "${TARGETS[@]}"; do
        echo "| ${NAME[$t]} | $c | ${R[rps:$t:$c]} | ${R[p50_us:$t:$c]} | ${R[p99_us:$t:$c]} | ${R[cpu:$t:$c]} | ${R[errors:$t:$c]} |"
    done; done
    echo
    echo "- Python cold start (first request through the API after CreateFunction, curl time_total), $COLD_RUNS runs: ${COLD[*]} ms; median **${COLD_MEDIAN} ms**; median REPORT Init Duration ${INIT} ms"
} >"$OUT_DIR/lambda.md"
cat "$OUT_DIR/lambda.md"
