#!/usr/bin/env bash
# Cluster bench (issue 16): the keyed route (HTTP_PROXY + API key, usage-plan throttle and
# quota) on a node of a cluster (Postgres store, throttling and quota in Redis) beside the
# same route on the embedded store, in one run; then three cluster nodes at once, their
# aggregate requests per second. CPU per request from /proc (the node's, and the Redis
# server's beside it), wrk pinned to CPU 1 and the servers on the rest.
#
#   bash bench/cluster.sh                       # 10 s per measured run
#   DURATION=5 TOLLGATE_BIN=target/release/tollgate bash bench/cluster.sh
#   PERF_OUT=/tmp/node.perf bash bench/cluster.sh   # and a profile of the cluster node
#
# It uses the machine's PostgreSQL (a database of its own, dropped at the end) and Redis
# (a key prefix of its own, deleted at the end; never FLUSHALL). Results:
# bench/out/cluster.md.
set -euo pipefail

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNS=${CONNS:-50}
WRK_CPU=${WRK_CPU-1}
PG_SERVER=${PG_SERVER:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The backend, the embedded node and its benchmark API (tg_keyed) come from setup.sh.
CHECK_TARGETS="tg_keyed"
# shellcheck source=setup.sh
source "$BENCH_DIR/setup.sh"
command -v psql >/dev/null || die "psql is needed (the cluster's database)"
command -v redis-cli >/dev/null || die "redis-cli is needed (the cluster's key prefix)"

DB="tollgate_bench_$$_${RANDOM}"
PREFIX="tollgate-bench-$$-${RANDOM}:"
DB_URL="${PG_SERVER%/*}/$DB?sslmode=disable"
psql -q "$PG_SERVER" -c "CREATE DATABASE $DB" >/dev/null || die "cannot create database $DB"
cluster_cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 1
    psql -q "$PG_SERVER" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    redis-cli -u "$REDIS_URL" --scan --pattern "${PREFIX}*" | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null || true
}
trap 'rc=$?; cluster_cleanup; (exit $rc); cleanup' EXIT

start_node() { # NAME -> sets NODE_PORT, NODE_PID
    NODE_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mkdir -p "$TMP/$1"
    "$TOLLGATE_BIN" serve --listen "127.0.0.1:$NODE_PORT" --data-dir "$TMP/$1" --store "$DB_URL" \
        --redis "$REDIS_URL" --redis-prefix "$PREFIX" --log warn >"$TMP/$1.log" 2>&1 &
    NODE_PID=$!
    PIDS+=("$NODE_PID")
    wait_port "$1" "$NODE_PID" "$NODE_PORT"
}

start_node node1
N1_PORT=$NODE_PORT N1_PID=$NODE_PID
log "cluster node 1 on 127.0.0.1:$N1_PORT (pid $N1_PID), database $DB, prefix $PREFIX"

# The same keyed route on the cluster, made through node 1.
c() { aws --endpoint-url "http://127.0.0.1:$N1_PORT" apigateway "$@" 2>>"$TMP/aws.log"; }
c update-account --patch-operations op=replace,path=/throttleSettings/rateLimit,value=10000000 \
    op=replace,path=/throttleSettings/burstLimit,value=10000000 >/dev/null
CAPI=$(c create-rest-api --name cluster-bench --query id --output text)
CROOT=$(c get-resources --rest-api-id "$CAPI" --query 'items[?path==`/`].id' --output text)
CPARENT=$(c create-resource --rest-api-id "$CAPI" --parent-id "$CROOT" --path-part keyed --query id --output text)
CRES=$(c create-resource --rest-api-id "$CAPI" --parent-id "$CPARENT" --path-part '{proxy+}' --query id --output text)
c put-method --rest-api-id "$CAPI" --resource-id "$CRES" --http-method GET --authorization-type NONE \
    --api-key-required --request-parameters method.request.path.proxy=true >/dev/null
c put-integration --rest-api-id "$CAPI" --resource-id "$CRES" --http-method GET --type HTTP_PROXY \
    --integration-http-method GET --uri "http://127.0.0.1:$BACKEND_PORT/{proxy}" \
    --request-parameters integration.request.path.proxy=method.request.path.proxy >/dev/null
c create-deployment --rest-api-id "$CAPI" --stage-name bench >/dev/null
CKEY_ID=$(c create-api-key --name bench-key --enabled --query id --output text)
CKEY=$(c get-api-key --api-key "$CKEY_ID" --include-value --query value --output text)
CPLAN=$(c create-usage-plan --name bench-plan --throttle burstLimit=1000000,rateLimit=1000000 \
    --quota limit=1000000000,period=DAY --api-stages "apiId=$CAPI,stage=bench" --query id --output text)
c create-usage-plan-key --usage-plan-id "$CPLAN" --key-id "$CKEY_ID" --key-type API_KEY >/dev/null
cluster_url() { echo "http://127.0.0.1:$1/_aws/execute-api/$CAPI/bench/keyed/bench"; }
for i in $(seq 50); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "x-api-key: $CKEY" "$(cluster_url "$N1_PORT")")
    [[ $code == 200 ]] && break
    sleep 0.1
done
[[ $code == 200 ]] || die "the cluster's keyed route answered $code"

REDIS_PID=$(redis-cli -u "$REDIS_URL" info server | tr -d '\r' | awk -F: '/^process_id:/ {print $2}')
[[ -n $REDIS_PID && -r /proc/$REDIS_PID/stat ]] || die "cannot find the Redis server's process"
HZ=$(getconf CLK_TCK)
ticks() { local sum=0 p f; for p in "$@"; do read -r -a f <<<"$(cut -d')' -f2- "/proc/$p/stat")"; sum=$((sum + f[11] + f[12])); done; echo "$sum"; }
if [[ -n $WRK_CPU ]]; then WRK=(taskset -c "$WRK_CPU" wrk); else WRK=(wrk); fi

# measure NAME URL KEY PIDS...: prints "req/s cpu_us_per_req(node) cpu_us_per_req(redis) p50 p99"
measure() {
    local name=$1 url=$2 key=$3; shift 3
    "${WRK[@]}" -t1 -c"$CONNS" -d"${WARMUP}s" -H "x-api-key: $key" "$url" >/dev/null
    local n0 r0 out
    n0=$(ticks "$@"); r0=$(ticks "$REDIS_PID")
    out=$("${WRK[@]}" -t1 -c"$CONNS" -d"${DURATION}s" --latency -H "x-api-key: $key" "$url")
    local n1 r1; n1=$(ticks "$@"); r1=$(ticks "$REDIS_PID")
    grep -q 'Non-2xx' <<<"$out" && die "$name: non-2xx answers under load:\n$out"
    local total p50 p99
    total=$(awk '/requests in/ {print $1}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    python3 -c "
t=$total; hz=$HZ
print(f'{t/$DURATION:.0f} {($n1-$n0)/hz*1e6/t:.1f} {($r1-$r0)/hz*1e6/t:.1f} $p50 $p99')"
}

EMB_URL="http://127.0.0.1:$TOLLGATE_PORT/_aws/execute-api/$API/bench/keyed/bench"
log "keyed route, embedded store: $DURATION s at $CONNS connections"
read -r e_rps e_cpu e_redis e_p50 e_p99 < <(measure embedded "$EMB_URL" "$KEY_VALUE" "$TOLLGATE_PID")
log "keyed route, cluster node (Postgres + Redis)"
# PERF_OUT=FILE: a perf profile (call graphs) of the cluster node during its measured run.
if [[ -n ${PERF_OUT:-} ]]; then
    (sleep "$WARMUP"; perf record -q -F 999 -g -o "$PERF_OUT" -p "$N1_PID" -- sleep "$DURATION") &
fi
read -r c_rps c_cpu c_redis c_p50 c_p99 < <(measure cluster "$(cluster_url "$N1_PORT")" "$CKEY" "$N1_PID")

start_node node2
N2_PORT=$NODE_PORT N2_PID=$NODE_PID
start_node node3
N3_PORT=$NODE_PORT N3_PID=$NODE_PID
for p in "$N2_PORT" "$N3_PORT"; do
    for i in $(seq 50); do
        code=$(curl -s -o /dev/null -w '%{http_code}' -H "x-api-key: $CKEY" "$(cluster_url "$p")")
        [[ $code == 200 ]] && break
        sleep 0.1
    done
    [[ $code == 200 ]] || die "node on $p answered $code"
done
log "three nodes at once: one wrk each ($((CONNS / 3)) connections), unpinned"
loads=()
for p in "$N1_PORT" "$N2_PORT" "$N3_PORT"; do
    wrk -t1 -c"$((CONNS / 3))" -d"${DURATION}s" -H "x-api-key: $CKEY" "$(cluster_url "$p")" >"$TMP/three-$p.txt" &
    loads+=("$!")
done
wait "${loads[@]}"
three=0
for p in "$N1_PORT" "$N2_PORT" "$N3_PORT"; do
    grep -q 'Non-2xx' "$TMP/three-$p.txt" && die "node on $p: non-2xx answers: $(cat "$TMP/three-$p.txt")"
    rps=$(awk '/^Requests\/sec/ {print $2}' "$TMP/three-$p.txt")
    three=$(python3 -c "print(round($three + $rps))")
done

mkdir -p "$OUT_DIR"
ratio=$(python3 -c "print(f'{$c_cpu/$e_cpu:.2f}')")
cat >"$OUT_DIR/cluster.md" <<EOF
Cluster bench ($commit, $(date -u +%Y-%m-%d)), $DURATION s at $CONNS connections, wrk on CPU ${WRK_CPU:-any}:

| keyed route | req/s | node CPU µs/req | Redis CPU µs/req | p50 | p99 |
|---|---:|---:|---:|---:|---:|
| embedded store | $e_rps | $e_cpu | $e_redis | $e_p50 | $e_p99 |
| cluster node (Postgres + Redis) | $c_rps | $c_cpu | $c_redis | $c_p50 | $c_p99 |

Cluster node CPU per request: **${ratio}×** the embedded store's (Redis's own CPU beside it).
Three cluster nodes at once (one wrk each, unpinned, same machine): **$three req/s** in all.
EOF
cat "$OUT_DIR/cluster.md"
