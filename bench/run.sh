#!/usr/bin/env bash
# Tollgate benchmark harness: Tollgate's HTTP_PROXY and MOCK routes against a direct
# backend and an nginx reverse proxy, on loopback, with wrk. See bench/README.md.
#
#   bash bench/run.sh                      # 10 s per measured run
#   DURATION=5 bash bench/run.sh           # shorter
#
# Everything it starts listens on 127.0.0.1 only, every load run is bounded in time, and
# every process it started is stopped on exit. Results: bench/out/results.md.
set -euo pipefail

# ---------------------------------------------------------------------------------------
# Settings (environment)
# ---------------------------------------------------------------------------------------
DURATION=${DURATION:-10}          # seconds per measured wrk run
WARMUP=${WARMUP:-2}               # seconds of wrk warm-up before each measured run
LOAD_CONNS=${LOAD_CONNS:-64}      # connections in the loaded setting (1 wrk thread)
WRK_CPU=${WRK_CPU-1}              # CPU list wrk is pinned to with taskset; empty = no pinning
WRK_TIMEOUT=${WRK_TIMEOUT:-2s}    # wrk per-request timeout (slower requests count as errors)
NOISE_LIMIT=${NOISE_LIMIT:-15}    # % of one CPU used by other processes above which a run is redone
NOISE_RETRIES=${NOISE_RETRIES:-2} # how many times a noisy run is redone (the quietest is kept)

# Tollgate's runtime has one worker thread per CPU; TOKIO_WORKER_THREADS=N (read by tokio)
# changes that. An empty value would make tokio panic, so drop it.
[[ -z ${TOKIO_WORKER_THREADS-x} ]] && unset TOKIO_WORKER_THREADS

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }
for v in DURATION WARMUP LOAD_CONNS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
for v in NOISE_LIMIT NOISE_RETRIES; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer (got '${!v}')"
done


# Steps 1-3 (servers, the API, target checks) are shared with bench/callgrind.sh.
# shellcheck source=setup.sh
source "$BENCH_DIR/setup.sh"

# ---------------------------------------------------------------------------------------
# CPU accounting: utime+stime (clock ticks) from /proc/PID/stat, which covers all threads.
# ---------------------------------------------------------------------------------------
HZ=$(getconf CLK_TCK)
children() { ps -o pid= --ppid "$1" | tr -d ' '; }
PROXY_NGINX_PIDS=("$PROXY_PID" $(children "$PROXY_PID"))
BACKEND_NGINX_PIDS=("$BACKEND_PID" $(children "$BACKEND_PID"))
((${#PROXY_NGINX_PIDS[@]} == 2)) || die "expected 1 nginx proxy worker, found pids: ${PROXY_NGINX_PIDS[*]}"
((${#BACKEND_NGINX_PIDS[@]} == 2)) || die "expected 1 nginx backend worker, found pids: ${BACKEND_NGINX_PIDS[*]}"

cpu_ticks() { # PID... -> summed utime+stime
    local sum=0 p stat f
    for p in "$@"; do
        stat=$(<"/proc/$p/stat") || die "process $p is gone"
        read -r -a f <<<"${stat##*) }" # fields from 3 (state) on: utime is 14, stime 15
        sum=$((sum + f[11] + f[12]))
    done
    echo "$sum"
}
# Whole-machine busy and steal ticks from the first line of /proc/stat, and the children
# CPU time of this shell (wrk, once it has been waited for) from the `times` builtin.
machine_ticks() { # -> "busy steal"
    local _cpu us ni sy id io irq sirq st rest
    read -r _cpu us ni sy id io irq sirq st rest </proc/stat
    echo "$((us + ni + sy + irq + sirq)) $st"
}
children_ms() { # reads a file written by `times >FILE` (run in this shell, not a subshell)
    tail -n1 "$1" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60000 + a[2] * 1000 } printf "%.0f", t }'
}
ALL_OUR_PIDS=("${PROXY_NGINX_PIDS[@]}" "${BACKEND_NGINX_PIDS[@]}" "$TOLLGATE_PID")

proxy_pids() {
    case $1 in
        nginx) echo "${PROXY_NGINX_PIDS[*]}" ;;
        tg_*) echo "$TOLLGATE_PID" ;;
        *) echo "" ;;
    esac
}

# ---------------------------------------------------------------------------------------
# 4-5. Load
# ---------------------------------------------------------------------------------------
mkdir -p "$OUT_DIR/raw"
declare -A R # results, keyed "field:target:conns"
CONC=(1 "$LOAD_CONNS")

measure() { # TARGET CONNS RAWFILE: one warm-up and one measured wrk run; fills R[*:TARGET:CONNS]
    local t=$1 c=$2 raw=$3 url pids line kv k v before after bbefore bafter ours_before ours_after mbusy_before mbusy_after msteal_before msteal_after
    url=${URL[$t]}
    pids=$(proxy_pids "$t")
    local extra
    mapfile -t extra < <(hdr_args "$t")
    "${WRK[@]}" -t1 -c"$c" -d"${WARMUP}s" --timeout "$WRK_TIMEOUT" "${extra[@]}" "$url" >"$TMP/warmup.txt" 2>&1 \
        || { cat "$TMP/warmup.txt" >&2; die "wrk warm-up failed for ${NAME[$t]}"; }
    before=0 after=0
    if [[ -n $pids ]]; then before=$(cpu_ticks $pids); fi
    bbefore=$(cpu_ticks "${BACKEND_NGINX_PIDS[@]}")
    ours_before=$(cpu_ticks "${ALL_OUR_PIDS[@]}")
    read -r mbusy_before msteal_before < <(machine_ticks)
    times >"$TMP/times.before"
    "${WRK[@]}" -t1 -c"$c" -d"${DURATION}s" --timeout "$WRK_TIMEOUT" --latency -s "$BENCH_DIR/report.lua" "${extra[@]}" "$url" >"$raw" 2>&1 \
        || { cat "$raw" >&2; die "wrk failed for ${NAME[$t]}"; }
    times >"$TMP/times.after"
    read -r mbusy_after msteal_after < <(machine_ticks)
    if [[ -n $pids ]]; then after=$(cpu_ticks $pids); fi
    bafter=$(cpu_ticks "${BACKEND_NGINX_PIDS[@]}")
    ours_after=$(cpu_ticks "${ALL_OUR_PIDS[@]}")
    line=$(grep '^BENCH ' "$raw") || { cat "$raw" >&2; die "no BENCH line in wrk output for ${NAME[$t]}"; }
    for kv in ${line#BENCH }; do
        k=${kv%%=*} v=${kv#*=}
        R[$k:$t:$c]=$v
    done
    ((R[requests:$t:$c] > 0)) || die "wrk completed no request against ${NAME[$t]}"
    R[errors:$t:$c]=$((R[err_connect:$t:$c] + R[err_read:$t:$c] + R[err_write:$t:$c] + R[err_status:$t:$c] + R[err_timeout:$t:$c]))
    R[rps:$t:$c]=$(awk -v n="${R[requests:$t:$c]}" -v d="${R[duration_us:$t:$c]}" 'BEGIN { printf "%.0f", n / (d / 1e6) }')
    if [[ -n $pids ]]; then
        R[cpu:$t:$c]=$(awk -v t=$((after - before)) -v hz="$HZ" -v n="${R[requests:$t:$c]}" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
        R[cpupct:$t:$c]=$(awk -v t=$((after - before)) -v hz="$HZ" -v d="${R[duration_us:$t:$c]}" 'BEGIN { printf "%.0f", t / hz * 100 / (d / 1e6) }')
    fi
    # Noise: wrk's own CPU, and whatever the machine spent outside wrk and the three
    # servers (other processes, interrupts), and time stolen by the hypervisor, as % of
    # one CPU over the run.
    local wrk_ms secs
    wrk_ms=$(($(children_ms "$TMP/times.after") - $(children_ms "$TMP/times.before")))
    secs=$(awk -v d="${R[duration_us:$t:$c]}" 'BEGIN { print d / 1e6 }')
    R[wrkpct:$t:$c]=$(awk -v ms="$wrk_ms" -v s="$secs" 'BEGIN { printf "%.0f", ms / 10 / s }')
    R[otherpct:$t:$c]=$(awk -v b=$((mbusy_after - mbusy_before)) -v o=$((ours_after - ours_before)) -v w="$wrk_ms" -v hz="$HZ" -v s="$secs" \
        'BEGIN { x = (b - o) / hz * 100 / s - w / 10 / s; if (x < 0) x = 0; printf "%.0f", x }')
    R[stealpct:$t:$c]=$(awk -v t=$((msteal_after - msteal_before)) -v hz="$HZ" -v s="$secs" 'BEGIN { printf "%.0f", t / hz * 100 / s }')
    R[bcpu:$t:$c]=$(awk -v t=$((bafter - bbefore)) -v hz="$HZ" -v n="${R[requests:$t:$c]}" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
    log "$(printf '%-30s c=%-3s %8s req/s  p50 %5s µs  p99 %6s µs  proxy CPU %5s µs/req  errors %s  (wrk %s%%, other %s%%, steal %s%%)' \
        "${NAME[$t]}" "$c" "${R[rps:$t:$c]}" "${R[p50_us:$t:$c]}" "${R[p99_us:$t:$c]}" "${R[cpu:$t:$c]:--}" "${R[errors:$t:$c]}" \
        "${R[wrkpct:$t:$c]}" "${R[otherpct:$t:$c]}" "${R[stealpct:$t:$c]}")"
}

# run_one TARGET CONNS: measure; while the machine was busy with something else during the
# run (other CPU > NOISE_LIMIT % of one CPU), measure again, up to NOISE_RETRIES more
# times, and keep the quietest attempt.
run_one() {
    local t=$1 c=$2 n best=-1 best_other=1000000 k
    local -A kept=()
    for ((n = 1; n <= NOISE_RETRIES + 1; n++)); do
        measure "$t" "$c" "$OUT_DIR/raw/$t-c$c.try$n.txt"
        if ((R[otherpct:$t:$c] < best_other)); then
            best=$n best_other=${R[otherpct:$t:$c]}
            kept=()
            for k in "${!R[@]}"; do [[ $k == *":$t:$c" ]] && kept[$k]=${R[$k]}; done
        fi
        ((R[otherpct:$t:$c] <= NOISE_LIMIT)) && break
        ((n <= NOISE_RETRIES)) && log "  other processes used ${R[otherpct:$t:$c]}% of a CPU during that run (limit $NOISE_LIMIT%); measuring again"
    done
    for k in "${!kept[@]}"; do R[$k]=${kept[$k]}; done
    R[attempts:$t:$c]=$((n > NOISE_RETRIES + 1 ? NOISE_RETRIES + 1 : n))
    cp "$OUT_DIR/raw/$t-c$c.try$best.txt" "$OUT_DIR/raw/$t-c$c.txt"
}

# Is something else already using the machine? (Sampled for 2 s before any load.)
read -r b0 _ < <(machine_ticks)
sleep 2
read -r b1 _ < <(machine_ticks)
IDLE_BUSY=$(awk -v t=$((b1 - b0)) -v hz="$HZ" 'BEGIN { printf "%.0f", t / hz * 100 / 2 }')
if ((IDLE_BUSY > NOISE_LIMIT)); then
    log "WARNING: before any load, the machine is already busy (${IDLE_BUSY}% of one CPU): other processes will add noise"
fi

rm -f "$OUT_DIR"/raw/*.txt
log "load: ${DURATION}s per run after ${WARMUP}s warm-up; wrk 1 thread${WRK_CPU:+, pinned to CPU $WRK_CPU}; connections: ${CONC[*]}"
for c in "${CONC[@]}"; do
    for t in "${TARGETS[@]}"; do
        run_one "$t" "$c"
    done
done

# ---------------------------------------------------------------------------------------
# 6. Report
# ---------------------------------------------------------------------------------------
fmt_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "n/a" }'; }
diff_us() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", a - b }'; }

RESULTS=$OUT_DIR/results.md
{
    echo "# Tollgate benchmark results"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); tollgate commit $commit"
    echo "- machine: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
    echo "- $("$NGINX" -v 2>&1 | sed 's/nginx version: //'), wrk $(wrk -v 2>&1 | head -n1 | awk '{ print $2 }'), tollgate ${TOKIO_WORKER_THREADS:+with TOKIO_WORKER_THREADS=$TOKIO_WORKER_THREADS }(\`$TOLLGATE_BIN\`)"
    echo "- before the load, other processes used ${IDLE_BUSY}% of one CPU; runs are redone when they exceed ${NOISE_LIMIT}% (up to ${NOISE_RETRIES} times)"
    echo "- load: wrk, 1 thread${WRK_CPU:+ pinned to CPU $WRK_CPU (taskset)}, ${DURATION} s per run after ${WARMUP} s warm-up; response body ${#BODY} bytes"
    echo
    echo "| target | conns | req/s | p50 µs | p99 µs | proxy CPU µs/req | proxy CPU % | backend CPU µs/req | errors |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for c in "${CONC[@]}"; do
        for t in "${TARGETS[@]}"; do
            flag=""
            ((R[otherpct:$t:$c] > NOISE_LIMIT)) && flag=" ⚠"
            echo "| ${NAME[$t]}$flag | $c | ${R[rps:$t:$c]} | ${R[p50_us:$t:$c]} | ${R[p99_us:$t:$c]} | ${R[cpu:$t:$c]:--} | ${R[cpupct:$t:$c]:--} | ${R[bcpu:$t:$c]} | ${R[errors:$t:$c]} |"
        done
    done
    echo
    for c in "${CONC[@]}"; do
        echo "- CPU per request, $c conn: Tollgate HTTP_PROXY / nginx reverse proxy **$(fmt_ratio "${R[cpu:tg_proxy:$c]}" "${R[cpu:nginx:$c]}")** (${R[cpu:tg_proxy:$c]} vs ${R[cpu:nginx:$c]} µs); Tollgate MOCK / nginx \`return\` (the backend's own CPU in the direct run) $(fmt_ratio "${R[cpu:tg_mock:$c]}" "${R[bcpu:direct:$c]}") (${R[cpu:tg_mock:$c]} vs ${R[bcpu:direct:$c]} µs)"
        echo "- CPU per request, $c conn: Tollgate keyed route (API key + plan throttle + quota) / plain HTTP_PROXY route **$(fmt_ratio "${R[cpu:tg_keyed:$c]}" "${R[cpu:tg_proxy:$c]}")** (${R[cpu:tg_keyed:$c]} vs ${R[cpu:tg_proxy:$c]} µs)"
        echo "- CPU per request, $c conn: Tollgate templated HTTP route (request template rendered, non-proxy response) / plain HTTP_PROXY route **$(fmt_ratio "${R[cpu:tg_tpl:$c]}" "${R[cpu:tg_proxy:$c]}")** (${R[cpu:tg_tpl:$c]} vs ${R[cpu:tg_proxy:$c]} µs)"
        echo "- CPU per request, $c conn: HTTP API (v2) HTTP_PROXY / REST HTTP_PROXY **$(fmt_ratio "${R[cpu:tg_http:$c]}" "${R[cpu:tg_proxy:$c]}")** (${R[cpu:tg_http:$c]} vs ${R[cpu:tg_proxy:$c]} µs); MOCK behind a cached Lambda authorizer / plain MOCK **$(fmt_ratio "${R[cpu:tg_auth:$c]}" "${R[cpu:tg_mock:$c]}")** (${R[cpu:tg_auth:$c]} vs ${R[cpu:tg_mock:$c]} µs), / plain MOCK sent the same header **$(fmt_ratio "${R[cpu:tg_auth:$c]}" "${R[cpu:tg_mockh:$c]}")** (${R[cpu:tg_mockh:$c]} µs); MOCK behind a Cognito authorizer / plain MOCK **$(fmt_ratio "${R[cpu:tg_cognito:$c]}" "${R[cpu:tg_mock:$c]}")** (${R[cpu:tg_cognito:$c]} µs)"
        echo "- CPU per request, $c conn: HTTP_PROXY with per-method metrics and an access log / the same route without **$(fmt_ratio "${R[cpu:tg_obs:$c]}" "${R[cpu:tg_proxy:$c]}")** (${R[cpu:tg_obs:$c]} vs ${R[cpu:tg_proxy:$c]} µs)"
        echo "- CPU per request, $c conn: REST HTTP_PROXY answered from the stage cache / plain MOCK **$(fmt_ratio "${R[cpu:tg_cached:$c]}" "${R[cpu:tg_mock:$c]}")** (${R[cpu:tg_cached:$c]} vs ${R[cpu:tg_mock:$c]} µs)"
    done
    add_tg=$(diff_us "${R[p50_us:tg_proxy:1]}" "${R[p50_us:direct:1]}")
    add_ng=$(diff_us "${R[p50_us:nginx:1]}" "${R[p50_us:direct:1]}")
    echo "- p50 added latency over backend direct, 1 conn: Tollgate HTTP_PROXY **+${add_tg} µs**, nginx **+${add_ng} µs** (ratio $(fmt_ratio "$add_tg" "$add_ng")); Tollgate MOCK p50 ${R[p50_us:tg_mock:1]} µs vs backend direct ${R[p50_us:direct:1]} µs"
    echo
    echo "Noise check, in % of one CPU over each run: wrk itself, CPU spent outside wrk and the"
    echo "three servers (other processes, interrupts), and time stolen by the hypervisor. On a"
    echo "quiet machine \"other\" and \"steal\" stay near 0; if not, rerun."
    echo
    echo "| target | conns | wrk CPU % | other CPU % | steal % | attempts | p90 µs | max µs |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    noisy=0
    for c in "${CONC[@]}"; do
        for t in "${TARGETS[@]}"; do
            ((R[otherpct:$t:$c] > NOISE_LIMIT)) && noisy=$((noisy + 1))
            echo "| ${NAME[$t]} | $c | ${R[wrkpct:$t:$c]} | ${R[otherpct:$t:$c]} | ${R[stealpct:$t:$c]} | ${R[attempts:$t:$c]} | ${R[p90_us:$t:$c]} | ${R[max_us:$t:$c]} |"
        done
    done
    if ((noisy > 0)); then
        echo
        echo "**Warning: $noisy run(s) marked ⚠ shared the machine with other work (other CPU > $NOISE_LIMIT% of one CPU, even after $NOISE_RETRIES retries); their req/s and latencies are not trustworthy.**"
    fi
    errs=0
    for c in "${CONC[@]}"; do for t in "${TARGETS[@]}"; do errs=$((errs + R[errors:$t:$c])); done; done
    if ((errs > 0)); then
        echo
        echo "**Warning: $errs wrk errors (non-2xx, socket errors or timeouts); see bench/out/raw/.**"
    fi
} >"$RESULTS"

echo
cat "$RESULTS"
echo
log "written $RESULTS (raw wrk output in $OUT_DIR/raw/)"
