#!/usr/bin/env bash
# The instruction-count regression check `.ci/run` runs: callgrind's instructions per request
# (bench/callgrind.sh) for REST MOCK, HTTP_PROXY and the keyed route (API key, plan throttle,
# quota), against the committed bench/baseline-instructions.txt. Fails when a route costs
# more than LIMIT% (10) over its baseline. Instructions do not depend on load, CPU speed or
# other processes, so a busy CI machine cannot make it flake.
#
# It measures the binary `cargo test --workspace` has just built (target/debug/tollgate):
# a release build (fat LTO) would add 10-20 minutes to CI. The debug counts are steady
# run to run and move with the release ones (BENCHMARKS.md, "Instruction-count check").
# They depend on the toolchain: after a Rust upgrade, or a deliberate change in cost, write
# a new baseline and say why in the commit:
#
#   bash bench/instructions.sh            # check
#   UPDATE=1 bash bench/instructions.sh   # rewrite the baseline from this build
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
BASELINE=${BASELINE:-$BENCH_DIR/baseline-instructions.txt}
LIMIT=${LIMIT:-10}
REQUESTS=${REQUESTS:-1000}
# Windows per target, the cheapest counts (bench/callgrind.sh): background work landing in
# one window once added 10% to a route on a CI run.
WARM=${WARM:-100}
ROUNDS=${ROUNDS:-3}
TOLLGATE_BIN=${TOLLGATE_BIN:-${CARGO_TARGET_DIR:-$REPO/target}/debug/tollgate}
die() { printf '[instructions] ERROR: %s\n' "$*" >&2; exit 1; }
[[ -x $TOLLGATE_BIN ]] || die "$TOLLGATE_BIN is missing (cargo test --workspace builds it)"

out=$(mktemp -d /tmp/tollgate-instructions.XXXXXX)
trap 'rm -rf "$out"' EXIT
targets="tg_mock tg_proxy tg_keyed"
if ! OUT_DIR=$out CG_TARGETS=$targets REQUESTS=$REQUESTS WARM=$WARM ROUNDS=$ROUNDS TOLLGATE_BIN=$TOLLGATE_BIN \
    bash "$BENCH_DIR/callgrind.sh" >"$out/run.log" 2>&1; then
    tail -n 60 "$out/run.log" >&2
    die "bench/callgrind.sh failed"
fi
measured=$out/callgrind.txt
grep 'instructions/request' "$out/run.log" || true

if [[ -n ${UPDATE:-} ]]; then
    {
        echo "# Instructions per request (callgrind; bench/instructions.sh), debug build as"
        echo "# \`cargo test --workspace\` makes it, REQUESTS=$REQUESTS WARM=$WARM;"
        echo "# $(rustc --version), commit $(git -C "$REPO" rev-parse --short HEAD), $(date -u +%Y-%m-%d)."
        cat "$measured"
    } >"$BASELINE"
    cat "$BASELINE"
    exit 0
fi

[[ -f $BASELINE ]] || die "no baseline $BASELINE (UPDATE=1 writes one)"
# Every baselined target must be measured and within LIMIT% of its baseline.
awk -v limit="$LIMIT" '
    FNR == NR { if ($0 !~ /^#/ && NF == 2) base[$1] = $2; next }
    { now[$1] = $2 }
    END {
        bad = 0
        for (t in base) {
            if (!(t in now)) { printf "%-9s not measured\n", t; bad = 1; continue }
            change = (now[t] - base[t]) * 100 / base[t]
            verdict = change > limit ? "FAIL" : "ok"
            if (change < -limit) verdict = "ok (cheaper: refresh the baseline with UPDATE=1)"
            printf "%-9s baseline %9d  now %9d  %+6.1f%%  %s\n", t, base[t], now[t], change, verdict
            if (change > limit) bad = 1
        }
        exit bad
    }' "$BASELINE" "$measured" || die "instructions per request grew by more than $LIMIT% (see above)"
