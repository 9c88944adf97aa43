# Sourced by bench/ws_idle.sh and bench/ws_echo.sh: checks TOLLGATE_BIN, starts Tollgate on a
# free loopback port with a fresh data directory (prefixed by TOLLGATE_PREFIX, e.g. a taskset
# command), stops it on exit, and sets up the aws CLI against it ($EP).
# In: BENCH_DIR, REPO, NAME (for the temporary directory). Out: BIN, TMP, PORT, PID, EP.
BIN=${TOLLGATE_BIN:-$REPO/target/release/tollgate}
[[ -x $BIN ]] || { echo "TOLLGATE_BIN=$BIN is not an executable (cargo build --release -p tollgate)" >&2; exit 1; }
command -v aws >/dev/null || export PATH="$REPO/.venv/bin:$PATH"
TMP=$(mktemp -d "/tmp/tollgate-$NAME.XXXXXX")
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
${TOLLGATE_PREFIX:-} "$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$TMP/data" --log warn \
    --websocket-connect-rate 100000 >"$TMP/tollgate.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
EP="--endpoint-url http://127.0.0.1:$PORT"
