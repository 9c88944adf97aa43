#!/usr/bin/env bash
# Holds N idle WebSocket connections (default 10,000) open against a WebSocket API whose
# `$connect` is a MOCK integration, and reports the Tollgate process's RSS before and with
# them (VmRSS from /proc). Loopback only; bounded: every connection is closed at the end.
# Usage: TOLLGATE_BIN=target/release/tollgate N=10000 bash bench/ws_idle.sh
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
N=${N:-10000}
ulimit -n $((N + 1024))
NAME=ws-idle
# shellcheck source=ws_server.sh
source "$BENCH_DIR/ws_server.sh"
API=$(aws $EP apigatewayv2 create-api --name idle --protocol-type WEBSOCKET \
    --route-selection-expression '$request.body.action' --query ApiId --output text)
INT=$(aws $EP apigatewayv2 create-integration --api-id "$API" --integration-type MOCK \
    --request-templates '{"$default": "{\"statusCode\": 200}"}' --template-selection-expression '\$default' \
    --query IntegrationId --output text)
aws $EP apigatewayv2 create-route --api-id "$API" --route-key '$connect' --target "integrations/$INT" >/dev/null
aws $EP apigatewayv2 create-stage --api-id "$API" --stage-name idle --auto-deploy >/dev/null
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$PID/status"; }
python3 - "$PORT" "$API" "$N" "$PID" <<'PY'
import base64, os, socket, sys, time
port, api, n, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
def rss_kib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1])
before = rss_kib()
socks = []
t0 = time.time()
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /_aws/execute-api/{api}/idle HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit(f"connection {i} closed during the handshake: {head!r}")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        sys.exit(f"connection {i}: {head[:200]!r}")
    socks.append(s)
opened = time.time() - t0
time.sleep(2)
held = rss_kib()
print(f"{n} idle WebSocket connections opened in {opened:.1f} s; Tollgate RSS {before/1024:.1f} MiB before, "
      f"{held/1024:.1f} MiB holding them ({(held-before)/n:.2f} KiB per connection)")
for s in socks:
    s.close()
PY
