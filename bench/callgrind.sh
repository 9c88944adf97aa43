#!/usr/bin/env bash
# Instructions per request for each Tollgate target, counted by callgrind: independent of
# load, machine noise and CPU frequency, so two builds compare exactly (see bench/README.md).
#
#   bash bench/callgrind.sh                         # builds release, REQUESTS=2000 per target
#   TOLLGATE_BIN=/path/to/old/tollgate bash bench/callgrind.sh
#   CG_TARGETS="tg_mock tg_proxy" bash bench/callgrind.sh   # some targets only
#
# The servers and the API are the ones bench/run.sh measures (bench/setup.sh); Tollgate runs
# under `valgrind --tool=callgrind`. Per target: WARM requests on one keep-alive connection,
# then ROUNDS windows of: counters zeroed, REQUESTS requests, counters dumped; the figure is
# the cheapest window's total instruction count (every thread) divided by REQUESTS.
# Results: bench/out/callgrind.md, and bench/out/callgrind.txt (`target instructions` per line, for bench/instructions.sh).
set -euo pipefail

REQUESTS=${REQUESTS:-2000}
WARM=${WARM:-200}
# Windows per target; the figure is the cheapest. Work that is not the requests' own (a
# timer's housekeeping, a thread spinning while valgrind runs another) can fall into a
# window and add millions of instructions at once: the minimum is the requests' cost.
ROUNDS=${ROUNDS:-1}
WRK_CPU=
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }
for v in REQUESTS WARM ROUNDS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
command -v valgrind >/dev/null 2>&1 && command -v callgrind_control >/dev/null 2>&1 \
    || die "valgrind (with callgrind_control) is needed"

CG_DIR=${OUT_DIR:-$BENCH_DIR/out}/callgrind
mkdir -p "$CG_DIR"
rm -f "$CG_DIR"/callgrind.out.*
TOLLGATE_WRAPPER="valgrind --tool=callgrind --quiet --callgrind-out-file=$CG_DIR/callgrind.out.%p"
WAIT_TENTHS=600 CHECK_TIMEOUT=60
# Only the measured targets are checked (a Lambda authorizer's first call is slow under valgrind).
CHECK_TARGETS=${CG_TARGETS:-}
# shellcheck source=setup.sh
source "$BENCH_DIR/setup.sh"

# drive TARGET COUNT: COUNT sequential GETs on one keep-alive connection, each must be 200.
drive() {
    python3 - "$TOLLGATE_PORT" "${URL[$1]}" "$2" "${HDR[$1]:-}" <<'PY'
import http.client, sys, urllib.parse
port, url, n, hdr = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
path = urllib.parse.urlsplit(url).path
headers = dict([hdr.split(": ", 1)]) if hdr else {}
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for _ in range(n):
    c.request("GET", path, headers=headers)
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit(f"{url}: status {r.status}")
PY
}

# Let the checks' after-effects settle before the first window: the keyed target's check
# changes usage counts, whose save (each second) and what follows it in the store are
# background work that would otherwise be counted in whichever window it falls into.
sleep "${SETTLE:-10}"

declare -A IR
read -r -a TG_TARGETS <<<"${CG_TARGETS:-tg_proxy tg_obs tg_keyed tg_tpl tg_mock tg_mockh tg_http tg_auth tg_cognito tg_cached}"
for t in "${TG_TARGETS[@]}"; do
    [[ -n ${URL[$t]:-} ]] || die "unknown target '$t' (CG_TARGETS)"
done
for t in "${TG_TARGETS[@]}"; do
    drive "$t" "$WARM"
    best= all=
    for ((round = 1; round <= ROUNDS; round++)); do
        callgrind_control -z "$TOLLGATE_PID" >/dev/null
        drive "$t" "$REQUESTS"
        callgrind_control -d "$t-$round" "$TOLLGATE_PID" >/dev/null
        dump=$(ls -t "$CG_DIR"/callgrind.out.* | head -n1)
        total=$(awk '/^(summary|totals):/ { print $2; exit }' "$dump")
        [[ -n $total ]] || die "no total in $dump"
        ir=$((total / REQUESTS))
        all+=" $ir"
        [[ -z $best || $ir -lt $best ]] && best=$ir
    done
    IR[$t]=$best
    log "$(printf '%-52s %9s instructions/request (windows:%s)' "${NAME[$t]}" "${IR[$t]}" "$all")"
done

{
    echo "# Tollgate instructions per request (callgrind)"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); tollgate commit $commit (\`$TOLLGATE_BIN\`)"
    echo "- $REQUESTS requests per target on one keep-alive connection after $WARM warm-up requests, the cheapest of $ROUNDS windows; every thread of the process counted"
    echo
    echo "| target | instructions/request |"
    echo "|---|---:|"
    for t in "${TG_TARGETS[@]}"; do echo "| ${NAME[$t]} | ${IR[$t]} |"; done
} >"$CG_DIR/../callgrind.md"
for t in "${TG_TARGETS[@]}"; do echo "$t ${IR[$t]}"; done >"$CG_DIR/../callgrind.txt"
cat "$CG_DIR/../callgrind.md"
