#!/usr/bin/env bash
# HTTPS bench (issue 14): Tollgate's HTTP_PROXY route served over TLS beside nginx as a
# TLS reverse proxy with the same certificate (P-256, session resumption on), both to the
# same nginx backend, in one run; wrk (1 thread, pinned to CPU 1) over HTTPS with
# keep-alive at 1 and LOAD_CONNS connections, then with a new connection per request
# (every request a handshake, resumed where the client offers it). CPU per request of the
# proxy process from /proc.
#
#   TOLLGATE_BIN=target/release/tollgate bash bench/https.sh
#
# Tollgate runs with `--tls-cert` (every listener TLS); the API is created through its
# control plane over HTTPS with the aws CLI trusting the bench certificate. Results:
# bench/out/https.md.
set -euo pipefail

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
LOAD_CONNS=${LOAD_CONNS:-64}
WRK_CPU=${WRK_CPU-1}
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
OUT_DIR=${OUT_DIR:-$BENCH_DIR/out}
TOLLGATE_BIN=${TOLLGATE_BIN:-$REPO/target/release/tollgate}
BODY='{"service":"tollgate-bench","status":"ok","items":[1,2,3,4,5],"note":"fixed body, 100 bytes in all"}'
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }
[[ -x $TOLLGATE_BIN ]] || die "$TOLLGATE_BIN is missing (cargo build --release -p tollgate)"
for tool in nginx wrk openssl aws curl; do
    command -v "$tool" >/dev/null 2>&1 || [[ $tool == nginx && -x /usr/sbin/nginx ]] \
        || die "$tool is needed"
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [[ -n $WRK_CPU ]]; then WRK=(taskset -c "$WRK_CPU" wrk); else WRK=(wrk); fi

TMP=$(mktemp -d /tmp/tollgate-https.XXXXXX)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

read -r BACKEND_PORT TLS_PORT TOLLGATE_PORT < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # NAME PID PORT
    local i
    for ((i = 0; i < 200; i++)); do
        kill -0 "$2" 2>/dev/null || die "$1 exited before listening"
        port_open "$3" && return 0
        sleep 0.1
    done
    die "$1 is not listening on $3"
}

# The certificate both servers present (for 127.0.0.1: wrk sends no SNI for an address).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$TMP/bench.key" -out "$TMP/bench.pem" -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 2>/dev/null

start_nginx() { # NAME
    mkdir -p "$TMP/$1-tmp"
    sed -e "s|@@DIR@@|$TMP|g" -e "s|@@BACKEND_PORT@@|$BACKEND_PORT|g" \
        -e "s|@@TLS_PORT@@|$TLS_PORT|g" -e "s|@@PROXY_PORT@@|0|g" -e "s|@@BODY@@|$BODY|g" \
        "$BENCH_DIR/nginx-$1.conf.in" >"$TMP/nginx-$1.conf"
    "$NGINX" -p "$TMP" -e "$TMP/$1-error.log" -c "$TMP/nginx-$1.conf" >"$TMP/$1.log" 2>&1 &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
}
start_nginx backend
wait_port backend "$NGINX_PID" "$BACKEND_PORT"
start_nginx tls
TLS_PID=$NGINX_PID
wait_port "nginx TLS proxy" "$TLS_PID" "$TLS_PORT"
TLS_WORKER=$(ps -o pid= --ppid "$TLS_PID" | tr -d ' ')
[[ -n $TLS_WORKER ]] || die "no nginx TLS worker"

"$TOLLGATE_BIN" serve --listen "127.0.0.1:$TOLLGATE_PORT" --data-dir "$TMP/data" \
    --tls-cert "$TMP/bench.pem" --tls-key "$TMP/bench.key" --log warn >"$TMP/tollgate.log" 2>&1 &
TOLLGATE_PID=$!
PIDS+=("$TOLLGATE_PID")
wait_port tollgate "$TOLLGATE_PID" "$TOLLGATE_PORT"
log "backend :$BACKEND_PORT, nginx TLS proxy :$TLS_PORT, Tollgate :$TOLLGATE_PORT (TLS)"

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=
export AWS_CA_BUNDLE=$TMP/bench.pem
gw() { aws --endpoint-url "https://127.0.0.1:$TOLLGATE_PORT" apigateway "$@" 2>>"$TMP/aws.log"; }
gw update-account --patch-operations op=replace,path=/throttleSettings/rateLimit,value=10000000 \
    op=replace,path=/throttleSettings/burstLimit,value=10000000 >/dev/null
API=$(gw create-rest-api --name https-bench --query id --output text)
ROOT=$(gw get-resources --rest-api-id "$API" --query 'items[?path==`/`].id' --output text)
PARENT=$(gw create-resource --rest-api-id "$API" --parent-id "$ROOT" --path-part proxy --query id --output text)
RES=$(gw create-resource --rest-api-id "$API" --parent-id "$PARENT" --path-part '{proxy+}' --query id --output text)
gw put-method --rest-api-id "$API" --resource-id "$RES" --http-method GET --authorization-type NONE \
    --request-parameters method.request.path.proxy=true >/dev/null
gw put-integration --rest-api-id "$API" --resource-id "$RES" --http-method GET --type HTTP_PROXY \
    --integration-http-method GET --uri "http://127.0.0.1:$BACKEND_PORT/{proxy}" \
    --request-parameters integration.request.path.proxy=method.request.path.proxy >/dev/null
gw create-deployment --rest-api-id "$API" --stage-name bench >/dev/null
# A */* method setting lifts the stage's default method throttle (AWS's 10,000/s).
gw update-stage --rest-api-id "$API" --stage-name bench --patch-operations \
    op=replace,path=/*/*/throttling/rateLimit,value=10000000 \
    op=replace,path=/*/*/throttling/burstLimit,value=10000000 >/dev/null

declare -A URL PID
URL[nginx]="https://127.0.0.1:$TLS_PORT/proxy/bench"
URL[tollgate]="https://127.0.0.1:$TOLLGATE_PORT/_aws/execute-api/$API/bench/proxy/bench"
PID[nginx]=$TLS_WORKER
PID[tollgate]=$TOLLGATE_PID
for t in nginx tollgate; do
    got=$(curl -sS --cacert "$TMP/bench.pem" "${URL[$t]}") || die "$t: curl failed"
    [[ $got == "$BODY" ]] || die "$t answered: $got"
done

HZ=$(getconf CLK_TCK)
ticks() { local f; read -r -a f <<<"$(cut -d')' -f2- "/proc/$1/stat")"; echo $((f[11] + f[12])); }
# measure TARGET CONNS [close]: "req/s cpu_us_per_req p50 p99"
measure() {
    local extra=()
    [[ ${3:-} == close ]] && extra=(-H "Connection: close")
    "${WRK[@]}" -t1 -c"$2" -d"${WARMUP}s" "${extra[@]}" "${URL[$1]}" >/dev/null
    local t0 out t1 total
    t0=$(ticks "${PID[$1]}")
    out=$("${WRK[@]}" -t1 -c"$2" -d"${DURATION}s" --latency "${extra[@]}" "${URL[$1]}")
    t1=$(ticks "${PID[$1]}")
    grep -q 'Non-2xx' <<<"$out" && die "$1: non-2xx answers:\n$out"
    total=$(awk '/requests in/ {print $1}' <<<"$out")
    python3 -c "print(f'{$total/$DURATION:.0f} {($t1-$t0)/$HZ*1e6/$total:.1f}', end=' ')"
    awk '$1 == "50%" {printf "%s ", $2} $1 == "99%" {print $2}' <<<"$out"
}

declare -A R
for setting in "1" "$LOAD_CONNS" "8 close"; do
    for t in nginx tollgate; do
        log "$t over HTTPS, connections: $setting"
        # shellcheck disable=SC2086
        R[$t:$setting]=$(measure "$t" $setting)
    done
done

commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
mkdir -p "$OUT_DIR"
{
    echo "HTTPS bench ($commit, \`$TOLLGATE_BIN\`, $(date -u +%Y-%m-%d)), $DURATION s per run, wrk on CPU ${WRK_CPU:-any}:"
    echo
    echo "| proxy over TLS | connections | req/s | proxy CPU µs/req | p50 | p99 |"
    echo "|---|---|---:|---:|---:|---:|"
    for setting in "1" "$LOAD_CONNS" "8 close"; do
        label=${setting/ close/, a new connection per request}
        for t in nginx tollgate; do
            read -r rps cpu p50 p99 <<<"${R[$t:$setting]}"
            echo "| $t | $label | $rps | $cpu | $p50 | $p99 |"
        done
    done
    echo
    for setting in "1" "$LOAD_CONNS" "8 close"; do
        read -r _ ncpu _ <<<"${R[nginx:$setting]}"
        read -r _ tcpu _ <<<"${R[tollgate:$setting]}"
        python3 -c "print(f'- {\"$setting\".replace(\" close\", \" (new connection per request)\")} connections: Tollgate / nginx CPU per request **{$tcpu / $ncpu:.2f}×**')"
    done
} >"$OUT_DIR/https.md"
cat "$OUT_DIR/https.md"
