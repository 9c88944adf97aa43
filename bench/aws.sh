#!/usr/bin/env bash
# AWS-integration bench (issue 19): a REST route whose AWS integration sends an SQS
# message (`sqs:path/{account}/{queue}`, form body from a mapping template, SigV4-signed
# for sqs) to moto's server, beside an HTTP integration route posting the same form to
# the same moto (with a fixed Authorization header, unsigned), in one run.
#
# moto (Python, one request at a time) answers a few dozen requests a second, far too few
# for CPU time from /proc (10 ms ticks) to say anything per request; so Tollgate runs under
# callgrind and the figure is instructions per request (every thread), as
# bench/callgrind.sh counts them: WARM requests, counters zeroed, REQUESTS requests on one
# keep-alive connection, counters dumped.
#
#   bash bench/aws.sh
#   REQUESTS=100 TOLLGATE_BIN=target/release/tollgate bash bench/aws.sh
#
# Needs valgrind and moto_server on PATH (`.venv/bin/pip install 'moto[server]'`, as
# .ci/run does). Results: bench/out/aws.md.
set -euo pipefail

REQUESTS=${REQUESTS:-200}
WARM=${WARM:-20}
WRK_CPU=
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MOTO_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
MOTO="http://127.0.0.1:$MOTO_PORT"
TOLLGATE_FLAGS="--aws-endpoint $MOTO --aws-access-key-id moto --aws-secret-access-key moto-secret"
CHECK_TARGETS="tg_proxy"
command -v valgrind >/dev/null 2>&1 && command -v callgrind_control >/dev/null 2>&1 \
    || { echo "[bench] ERROR: valgrind (with callgrind_control) is needed" >&2; exit 1; }
CG_DIR=$(mktemp -d /tmp/tollgate-aws-cg.XXXXXX)
TOLLGATE_WRAPPER="valgrind --tool=callgrind --quiet --callgrind-out-file=$CG_DIR/callgrind.out.%p"
WAIT_TENTHS=600 CHECK_TIMEOUT=60
# shellcheck source=setup.sh
source "$BENCH_DIR/setup.sh"
command -v moto_server >/dev/null || die "moto_server is needed (pip install 'moto[server]')"

moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$TMP/moto.log" 2>&1 &
MOTO_PID=$!
PIDS+=("$MOTO_PID")
wait_port moto "$MOTO_PID" "$MOTO_PORT"
mq() { AWS_ACCESS_KEY_ID=moto AWS_SECRET_ACCESS_KEY=moto-secret aws --endpoint-url "$MOTO" "$@"; }
QUEUE_URL=$(mq sqs create-queue --queue-name bench --query QueueUrl --output text)
ACCOUNT=$(cut -d/ -f4 <<<"$QUEUE_URL")
log "moto on $MOTO (pid $MOTO_PID), queue $QUEUE_URL"

# One API, two GET routes building the same form body.
A=$(gw create-rest-api --name aws-bench --query id --output text)
R=$(gw get-resources --rest-api-id "$A" --query 'items[?path==`/`].id' --output text)
FORM='Action=SendMessage&MessageBody=hello'
# moto finds the service in the Authorization header's scope (it checks no signature): the
# HTTP route sends a fixed one, so only the AWS route signs.
SCOPE_AUTH="'AWS4-HMAC-SHA256 Credential=moto/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0'"
route() { # PATH-PART TYPE URI [EXTRA-PARAMETERS]
    local res
    res=$(gw create-resource --rest-api-id "$A" --parent-id "$R" --path-part "$1" --query id --output text)
    gw put-method --rest-api-id "$A" --resource-id "$res" --http-method GET --authorization-type NONE >/dev/null
    gw put-integration --rest-api-id "$A" --resource-id "$res" --http-method GET --type "$2" \
        --integration-http-method POST --uri "$3" \
        --request-parameters "{\"integration.request.header.Content-Type\": \"'application/x-www-form-urlencoded'\"${4:-}}" \
        --request-templates "{\"application/json\": \"$FORM\"}" >/dev/null
    gw put-method-response --rest-api-id "$A" --resource-id "$res" --http-method GET --status-code 200 >/dev/null
    gw put-integration-response --rest-api-id "$A" --resource-id "$res" --http-method GET \
        --status-code 200 --selection-pattern '' >/dev/null
}
route aws AWS "arn:aws:apigateway:us-east-1:sqs:path/$ACCOUNT/bench"
route http HTTP "$MOTO/$ACCOUNT/bench" ", \"integration.request.header.Authorization\": \"$SCOPE_AUTH\""
gw create-deployment --rest-api-id "$A" --stage-name bench >/dev/null
url() { echo "http://127.0.0.1:$TOLLGATE_PORT/_aws/execute-api/$A/bench/$1"; }
for t in aws http; do
    body=$(curl -s "$(url "$t")")
    grep -q SendMessageResponse <<<"$body" || die "route $t did not send: $body"
done

# instructions ROUTE: instructions per request of ROUTE (sequential GETs, each must send).
drive() {
    python3 - "$TOLLGATE_PORT" "/_aws/execute-api/$A/bench/$1" "$2" <<'PY'
import http.client, sys
port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
for _ in range(n):
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    if r.status != 200 or b"SendMessageResponse" not in body:
        sys.exit(f"{path}: status {r.status}: {body[:200]!r}")
PY
}
instructions() {
    drive "$1" "$WARM"
    callgrind_control -z "$TOLLGATE_PID" >/dev/null
    drive "$1" "$REQUESTS"
    callgrind_control -d "$1" "$TOLLGATE_PID" >/dev/null
    local dump total
    dump=$(ls -t "$CG_DIR"/callgrind.out.* | head -n1)
    total=$(awk '/^(summary|totals):/ { print $2; exit }' "$dump")
    [[ -n $total ]] || die "no total in $dump"
    echo $((total / REQUESTS))
}
log "HTTP integration to moto: $REQUESTS requests under callgrind"
h_ir=$(instructions http)
log "AWS integration (SQS SendMessage) to moto"
a_ir=$(instructions aws)
# KEEP_DUMPS=1 keeps the callgrind dumps (for callgrind_annotate).
if [[ -n ${KEEP_DUMPS:-} ]]; then log "callgrind dumps in $CG_DIR"; else rm -rf "$CG_DIR"; fi

mkdir -p "$OUT_DIR"
{
    echo "AWS-integration bench ($commit, $(date -u +%Y-%m-%d)): instructions per request (callgrind, every thread), $REQUESTS sequential requests per route after $WARM:"
    echo
    echo "| route (to moto's SQS) | instructions/request |"
    echo "|---|---:|"
    echo "| HTTP integration, form body from a template | $h_ir |"
    echo "| AWS integration \`sqs:path/…\` (SigV4-signed) | $a_ir |"
    echo
    python3 -c "print(f'The AWS integration costs **{$a_ir - $h_ir:+,} instructions** per request over the HTTP route ({$a_ir / $h_ir:.2f}×).')"
} >"$OUT_DIR/aws.md"
cat "$OUT_DIR/aws.md"
