#!/usr/bin/env bash
# Startup benchmark: time from exec of `tollgate serve` to its first answered request, on a
# fresh data dir and on one with state (REST APIs with a deployment, a Python function); the
# idle process's resident memory after that first answer; and how many programs the start
# executes (strace, when installed). See BENCHMARKS.md, "Startup".
#
#   bash bench/startup.sh                    # 9 runs per case
#   RUNS=5 TOLLGATE_BIN=path/to/tollgate bash bench/startup.sh
#   BASELINE_BIN=path/to/older/tollgate bash bench/startup.sh   # both, interleaved, one table
#
# Everything listens on 127.0.0.1; every wait is bounded; every server started here is
# stopped. The state is created with the real aws CLI (installed into .venv if missing).
set -euo pipefail

RUNS=${RUNS:-9}
APIS=${APIS:-20}
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}

log() { printf '[startup-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[startup-bench] ERROR: %s\n' "$*" >&2; exit 1; }

if [[ -z ${TOLLGATE_BIN:-} ]]; then
    log "building tollgate (release)"
    (cd "$REPO" && cargo build --release --quiet -p tollgate) || die "cargo build --release failed"
    TOLLGATE_BIN=$TARGET_DIR/release/tollgate
fi
# The server runs with the PATH this script was started with (a user's PATH, with whatever
# version-manager shims it has), not with the venv added below for the aws CLI.
SERVER_PATH=$PATH
if ! command -v aws >/dev/null 2>&1; then
    [[ -x $REPO/.venv/bin/aws ]] || { python3 -m venv "$REPO/.venv" && "$REPO/.venv/bin/pip" install --quiet awscli; }
    export PATH="$REPO/.venv/bin:$PATH"
fi
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1

TMP=$(mktemp -d /tmp/tollgate-startup-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# One measured start of binary $1 on data dir $2: exec, poll until a request is answered,
# read the idle RSS, stop. Prints `ms rss_kib threads anon_kib`. Python measures, so its own start-up
# is not counted.
measure() {
    SERVER_PATH=$SERVER_PATH python3 - "$1" "$2" <<'EOF'
import os, signal, socket, subprocess, sys, time

binary, data = sys.argv[1], sys.argv[2]
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
req = b"GET /_aws/execute-api/none/dev/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
t0 = time.monotonic()
p = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data,
                      "--log", "warn"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     env=dict(os.environ, PATH=os.environ["SERVER_PATH"]))
answered = None
while time.monotonic() - t0 < 20 and p.poll() is None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
            c.sendall(req)
            if c.recv(12).startswith(b"HTTP/1.1"):
                answered = time.monotonic()
                break
    except OSError:
        time.sleep(0.0005)
if answered is None:
    p.kill(); p.wait(); sys.exit("tollgate did not answer within 20 s")
time.sleep(1)  # idle: let start-up work that runs after the first answer finish
status = open(f"/proc/{p.pid}/status").read()
field = lambda n: next(l.split()[1] for l in status.splitlines() if l.startswith(n + ":"))
p.send_signal(signal.SIGTERM)
try:
    p.wait(timeout=20)
except subprocess.TimeoutExpired:
    p.kill(); p.wait()
print(f"{(answered - t0) * 1000:.1f} {field('VmRSS')} {field('Threads')} {field('RssAnon')}")
EOF
}

# `median min max` of the times, and the medians of RSS (KiB), threads and anonymous RSS.
summarise() {
    python3 -c '
import statistics, sys
rows = [l.split() for l in sys.stdin if l.strip()]
ms = [float(r[0]) for r in rows]
med = lambda i: int(statistics.median_low(int(r[i]) for r in rows))
print(f"{statistics.median(ms):.1f} {min(ms):.1f} {max(ms):.1f} {med(1)} {med(2)} {med(3)}")'
}

# Executions of other programs by binary $1 on data dir $2 between exec and the first
# answer (and one idle second).
count_execs() {
    local bin=$1
    shift
    command -v strace >/dev/null 2>&1 || { echo "n/a"; return; }
    local trace=$TMP/strace.$RANDOM
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    PATH=$SERVER_PATH strace -f -qq -e trace=execve -o "$trace" \
        "$bin" serve --listen "127.0.0.1:$port" --data-dir "$1" --log warn >/dev/null 2>&1 &
    local pid=$!
    for _ in $(seq 200); do
        curl -s -o /dev/null "http://127.0.0.1:$port/_aws/execute-api/none/dev/" && break
        sleep 0.1
    done
    sleep 1
    # Stop tollgate itself (strace's child): strace would only detach from it.
    local server
    server=$(ps --ppid "$pid" -o pid= | tr -d ' ')
    [[ -n $server ]] && kill -TERM "$server" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # The first execve is tollgate itself.
    local n
    n=$(grep -c 'execve(' "$trace" || true)
    echo $((n - 1))
}

# The state case: a data dir with APIs and a deployed Python function, made once.
make_state() {
    local dir=$1 port pid
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$TOLLGATE_BIN" serve --listen "127.0.0.1:$port" --data-dir "$dir" --log warn >/dev/null 2>&1 &
    pid=$!
    local ep="--endpoint-url http://127.0.0.1:$port"
    for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
    printf 'def handler(event, context):\n    return {"statusCode": 200, "body": "ok"}\n' >"$TMP/app.py"
    (cd "$TMP" && python3 -c 'import zipfile; zipfile.ZipFile("fn.zip", "w").write("app.py")')
    aws $ep lambda create-function --function-name hello --runtime python3.12 --handler app.handler \
        --role arn:aws:iam::000000000000:role/any --zip-file "fileb://$TMP/fn.zip" >/dev/null
    for i in $(seq "$APIS"); do
        local api root res
        api=$(aws $ep apigateway create-rest-api --name "api$i" --query id --output text)
        root=$(aws $ep apigateway get-resources --rest-api-id "$api" --query 'items[0].id' --output text)
        res=$(aws $ep apigateway create-resource --rest-api-id "$api" --parent-id "$root" \
            --path-part '{proxy+}' --query id --output text)
        aws $ep apigateway put-method --rest-api-id "$api" --resource-id "$res" --http-method ANY \
            --authorization-type NONE >/dev/null
        aws $ep apigateway put-integration --rest-api-id "$api" --resource-id "$res" --http-method ANY \
            --type AWS_PROXY --integration-http-method POST \
            --uri arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:hello/invocations >/dev/null
        aws $ep apigateway create-deployment --rest-api-id "$api" --stage-name dev >/dev/null
    done
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
}

log "making the state case ($APIS REST APIs with a deployment, one Python function)"
make_state "$TMP/state"

commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "## Startup ($(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit, $RUNS runs per case, $(nproc) CPUs)"
echo
BINS=("$TOLLGATE_BIN")
[[ -n ${BASELINE_BIN:-} ]] && BINS+=("$BASELINE_BIN")
echo "| binary | data dir | exec → first answer, median (min–max) | idle RSS (median) | of which anonymous | threads | programs executed |"
echo "|---|---|---|---|---|---|---|"
for case in fresh state; do
    log "measuring the $case case"
    for b in "${!BINS[@]}"; do : >"$TMP/$case-$b.txt"; done
    # The binaries take turns, so a noisy moment on the machine hits both alike.
    for run in $(seq "$RUNS"); do
        for b in "${!BINS[@]}"; do
            dir=$TMP/$case-run
            rm -rf "$dir"
            if [[ $case == state ]]; then cp -a "$TMP/state" "$dir"; else mkdir -p "$dir"; fi
            measure "${BINS[$b]}" "$dir" >>"$TMP/$case-$b.txt"
        done
    done
    for b in "${!BINS[@]}"; do
        read -r med min max rss threads anon < <(summarise <"$TMP/$case-$b.txt")
        rm -rf "$TMP/$case-run"
        if [[ $case == state ]]; then cp -a "$TMP/state" "$TMP/$case-run"; else mkdir -p "$TMP/$case-run"; fi
        execs=$(count_execs "${BINS[$b]}" "$TMP/$case-run")
        printf '| `%s` | %s | %s ms (%s–%s) | %.1f MiB | %.1f MiB | %s | %s |\n' \
            "${BINS[$b]}" "$case" "$med" "$min" "$max" "$(awk "BEGIN { print $rss / 1024 }")" \
            "$(awk "BEGIN { print $anon / 1024 }")" "$threads" "$execs"
    done
done
