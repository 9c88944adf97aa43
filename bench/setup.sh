#!/usr/bin/env bash
# Shared by bench/run.sh (wrk load, CPU from /proc) and bench/callgrind.sh (instruction
# counts): installs what is missing, builds Tollgate (or takes TOLLGATE_BIN), starts the
# nginx backend, the nginx reverse proxy and Tollgate (under TOLLGATE_WRAPPER, e.g.
# valgrind, when set), configures the benchmark API with the aws CLI and checks every
# target once. Sourced, not run: the caller sets WRK_CPU and may set OUT_DIR.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
OUT_DIR=${OUT_DIR:-$BENCH_DIR/out}

# The ~100-byte JSON body that both the backend and the MOCK route return. It must not
# contain ' (nginx quoting), | & \ (sed) or $ # (template syntax).
BODY='{"service":"tollgate-bench","status":"ok","items":[1,2,3,4,5],"note":"fixed body, 100 bytes in all"}'

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }


# ---------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------
need_apt=()
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need_apt+=(nginx)
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
if ((${#need_apt[@]})); then
    command -v apt-get >/dev/null 2>&1 || die "missing ${need_apt[*]} and no apt-get to install them"
    [[ $(id -u) == 0 ]] || die "missing ${need_apt[*]}; run as root (or install them) so apt-get can install them"
    log "installing ${need_apt[*]} with apt-get"
    # The Debian package would start the system nginx service; this harness runs its own.
    if ! apt-get install -y -qq "${need_apt[@]}" >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null \
            || die "apt-get install ${need_apt[*]} failed"
    fi
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $NGINX ]] || die "nginx not found after install"
command -v python3 >/dev/null 2>&1 || die "python3 is needed (free ports, JSON quoting)"

# The aws CLI, as .ci/run gets it: PATH, else the repo's .venv, else install it there.
if ! command -v aws >/dev/null 2>&1; then
    if [[ ! -x $REPO/.venv/bin/aws ]]; then
        log "aws CLI not found; installing it into $REPO/.venv (like .ci/run)"
        python3 -m venv "$REPO/.venv"
        "$REPO/.venv/bin/pip" install --quiet --disable-pip-version-check awscli \
            || die "could not install the aws CLI"
    fi
    export PATH="$REPO/.venv/bin:$PATH"
fi

if [[ -n $WRK_CPU ]]; then
    command -v taskset >/dev/null 2>&1 || die "WRK_CPU=$WRK_CPU but taskset is missing (set WRK_CPU= to disable pinning)"
    taskset -c "$WRK_CPU" true 2>/dev/null || die "cannot pin to CPU '$WRK_CPU' (this machine has $(nproc) CPUs; set WRK_CPU= to disable)"
    WRK=(taskset -c "$WRK_CPU" wrk)
else
    WRK=(wrk)
fi

# The source state being measured (taken before the build; a given TOLLGATE_BIN may differ).
commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z $(git -C "$REPO" status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null) ]] || commit="$commit (+ uncommitted changes)"
[[ -n ${TOLLGATE_BIN:-} ]] && commit="$commit (but TOLLGATE_BIN was given)"

# Tollgate: a release build, unless TOLLGATE_BIN names one. Honours CARGO_TARGET_DIR.
if [[ -n ${TOLLGATE_BIN:-} ]]; then
    [[ -x $TOLLGATE_BIN ]] || die "TOLLGATE_BIN=$TOLLGATE_BIN is not an executable"
else
    log "building tollgate (release; target dir ${CARGO_TARGET_DIR:-$REPO/target})"
    (cd "$REPO" && cargo build --release -p tollgate --quiet) || die "cargo build --release -p tollgate failed"
    TOLLGATE_BIN=${CARGO_TARGET_DIR:-$REPO/target}/release/tollgate
    [[ -x $TOLLGATE_BIN ]] || die "build finished but $TOLLGATE_BIN is missing"
fi

# ---------------------------------------------------------------------------------------
# Temp dir, processes, cleanup
# ---------------------------------------------------------------------------------------
TMP=$(mktemp -d /tmp/tollgate-bench.XXXXXX)
PIDS=()   # every long-running process this script started

cleanup() {
    local rc=$? p i
    trap - EXIT INT TERM
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do
        for ((i = 0; i < 50; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$p" 2>/dev/null; then
            log "pid $p did not stop on TERM; killing it"
            kill -KILL "$p" 2>/dev/null || true
        fi
        wait "$p" 2>/dev/null || true
    done
    if ((rc != 0)); then
        log "failed (exit $rc); logs of the run:"
        local f
        for f in "$TMP"/*.log; do
            [[ -s $f ]] || continue
            printf -- '--- %s (last 20 lines)\n' "$f" >&2
            tail -n 20 "$f" >&2
        done
    fi
    if [[ -n ${KEEP_TMP:-} ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Three free loopback ports (or BACKEND_PORT / PROXY_PORT / TOLLGATE_PORT).
read -r P1 P2 P3 < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
BACKEND_PORT=${BACKEND_PORT:-$P1}
PROXY_PORT=${PROXY_PORT:-$P2}
TOLLGATE_PORT=${TOLLGATE_PORT:-$P3}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_port NAME PID PORT: until PORT accepts connections, or PID died, or 20 s passed.
wait_port() {
    local name=$1 pid=$2 port=$3 i
    for ((i = 0; i < ${WAIT_TENTHS:-200}; i++)); do
        kill -0 "$pid" 2>/dev/null || die "$name (pid $pid) exited before listening on 127.0.0.1:$port"
        port_open "$port" && return 0
        sleep 0.1
    done
    die "$name (pid $pid) is not listening on 127.0.0.1:$port after $((${WAIT_TENTHS:-200} / 10)) s"
}

for p in "$BACKEND_PORT" "$PROXY_PORT" "$TOLLGATE_PORT"; do
    port_open "$p" && die "port 127.0.0.1:$p is already in use"
done

render_nginx() { # TEMPLATE OUT
    sed -e "s|@@DIR@@|$TMP|g" -e "s|@@BACKEND_PORT@@|$BACKEND_PORT|g" \
        -e "s|@@PROXY_PORT@@|$PROXY_PORT|g" -e "s|@@BODY@@|$BODY|g" "$1" >"$2"
}

# start_nginx NAME: renders bench/nginx-NAME.conf.in, checks and starts it in the foreground
# (daemon off) in the background of this script; sets NGINX_PID to its master's pid.
start_nginx() {
    local name=$1 conf=$TMP/nginx-$1.conf
    mkdir -p "$TMP/$name-tmp"
    render_nginx "$BENCH_DIR/nginx-$name.conf.in" "$conf"
    "$NGINX" -t -q -p "$TMP" -e "$TMP/$name-error.log" -c "$conf" >"$TMP/$name-nginx.log" 2>&1 \
        || { cat "$TMP/$name-nginx.log" >&2; die "nginx config for $name is invalid ($conf)"; }
    "$NGINX" -p "$TMP" -e "$TMP/$name-error.log" -c "$conf" >>"$TMP/$name-nginx.log" 2>&1 &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
}

# ---------------------------------------------------------------------------------------
# 1-3. Backend, nginx proxy, Tollgate
# ---------------------------------------------------------------------------------------
start_nginx backend
BACKEND_PID=$NGINX_PID
wait_port "backend nginx" "$BACKEND_PID" "$BACKEND_PORT"
log "backend nginx on 127.0.0.1:$BACKEND_PORT (master pid $BACKEND_PID)"

start_nginx proxy
PROXY_PID=$NGINX_PID
wait_port "proxy nginx" "$PROXY_PID" "$PROXY_PORT"
log "proxy nginx on 127.0.0.1:$PROXY_PORT (master pid $PROXY_PID)"

mkdir -p "$TMP/tollgate-data"
# TOLLGATE_WRAPPER (word-split on purpose) runs it under a tool, e.g. callgrind;
# TOLLGATE_FLAGS (word-split too) adds flags (bench/aws.sh: the AWS endpoint).
# shellcheck disable=SC2086
${TOLLGATE_WRAPPER:-} "$TOLLGATE_BIN" serve --listen "127.0.0.1:$TOLLGATE_PORT" --data-dir "$TMP/tollgate-data" \
    --cognito-endpoint "http://127.0.0.1:$BACKEND_PORT/idp" --log warn ${TOLLGATE_FLAGS:-} >"$TMP/tollgate.log" 2>&1 &
TOLLGATE_PID=$!
PIDS+=("$TOLLGATE_PID")
wait_port tollgate "$TOLLGATE_PID" "$TOLLGATE_PORT"
log "tollgate on 127.0.0.1:$TOLLGATE_PORT (pid $TOLLGATE_PID, $TOLLGATE_BIN)"

# The control plane, driven with the real aws CLI; nothing from ~/.aws is read.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true AWS_PAGER=
gw() {
    local out
    if ! out=$(aws --endpoint-url "http://127.0.0.1:$TOLLGATE_PORT" apigateway "$@" 2>>"$TMP/aws.log"); then
        die "aws apigateway $1 failed (see the aws.log below)"
    fi
    printf '%s\n' "$out" >>"$TMP/aws.log"
    printf '%s' "$out"
}
# The same for another service (apigatewayv2, lambda).
svc() {
    local out
    if ! out=$(aws --endpoint-url "http://127.0.0.1:$TOLLGATE_PORT" "$@" 2>>"$TMP/aws.log"); then
        die "aws $1 $2 failed (see the aws.log below)"
    fi
    printf '%s\n' "$out" >>"$TMP/aws.log"
    printf '%s' "$out"
}

# The account-wide throttle defaults to AWS's 10000 requests/s (burst 5000), which this
# load exceeds; raise it so every target is measured answering 200, not 429.
gw update-account --patch-operations op=replace,path=/throttleSettings/rateLimit,value=10000000 \
    op=replace,path=/throttleSettings/burstLimit,value=10000000 >/dev/null

log "creating the REST API with the aws CLI"
API=$(gw create-rest-api --name tollgate-bench --query id --output text)
ROOT=$(gw get-resources --rest-api-id "$API" --query 'items[?path==`/`].id' --output text)
[[ -n $API && -n $ROOT ]] || die "could not create the REST API (api '$API', root '$ROOT')"

# GET /proxy/{proxy+} -> HTTP_PROXY http://127.0.0.1:BACKEND_PORT/{proxy}
PROXY_PARENT=$(gw create-resource --rest-api-id "$API" --parent-id "$ROOT" --path-part proxy --query id --output text)
PROXY_RES=$(gw create-resource --rest-api-id "$API" --parent-id "$PROXY_PARENT" --path-part '{proxy+}' --query id --output text)
gw put-method --rest-api-id "$API" --resource-id "$PROXY_RES" --http-method GET \
    --authorization-type NONE --request-parameters method.request.path.proxy=true >/dev/null
gw put-integration --rest-api-id "$API" --resource-id "$PROXY_RES" --http-method GET \
    --type HTTP_PROXY --integration-http-method GET --uri "http://127.0.0.1:$BACKEND_PORT/{proxy}" \
    --request-parameters integration.request.path.proxy=method.request.path.proxy >/dev/null

# GET /mock -> MOCK {"statusCode": 200}, integration response 200 returning BODY
MOCK_RES=$(gw create-resource --rest-api-id "$API" --parent-id "$ROOT" --path-part mock --query id --output text)
gw put-method --rest-api-id "$API" --resource-id "$MOCK_RES" --http-method GET --authorization-type NONE >/dev/null
gw put-integration --rest-api-id "$API" --resource-id "$MOCK_RES" --http-method GET --type MOCK \
    --request-templates '{"application/json": "{\"statusCode\": 200}"}' >/dev/null
gw put-method-response --rest-api-id "$API" --resource-id "$MOCK_RES" --http-method GET --status-code 200 >/dev/null
gw put-integration-response --rest-api-id "$API" --resource-id "$MOCK_RES" --http-method GET --status-code 200 \
    --response-templates "$(python3 -c 'import json,sys; print(json.dumps({"application/json": sys.argv[1]}))' "$BODY")" >/dev/null

# GET /keyed/{proxy+} -> the same HTTP_PROXY, but apiKeyRequired, with the key in a usage
# plan that has a throttle and a quota (limits high enough never to refuse during the run),
# so the API key, throttle and quota phases all do their work on every request.
KEYED_PARENT=$(gw create-resource --rest-api-id "$API" --parent-id "$ROOT" --path-part keyed --query id --output text)
KEYED_RES=$(gw create-resource --rest-api-id "$API" --parent-id "$KEYED_PARENT" --path-part '{proxy+}' --query id --output text)
gw put-method --rest-api-id "$API" --resource-id "$KEYED_RES" --http-method GET \
    --authorization-type NONE --api-key-required --request-parameters method.request.path.proxy=true >/dev/null
gw put-integration --rest-api-id "$API" --resource-id "$KEYED_RES" --http-method GET \
    --type HTTP_PROXY --integration-http-method GET --uri "http://127.0.0.1:$BACKEND_PORT/{proxy}" \
    --request-parameters integration.request.path.proxy=method.request.path.proxy >/dev/null

# GET /tpl/{proxy+} -> HTTP (non-proxy) POST to the backend with a request template that
# reads parameters, $context and $util and builds a JSON body; the integration response
# passes the backend's body through. Its cost against tg_proxy is the templating pipeline's.
TPL_PARENT=$(gw create-resource --rest-api-id "$API" --parent-id "$ROOT" --path-part tpl --query id --output text)
TPL_RES=$(gw create-resource --rest-api-id "$API" --parent-id "$TPL_PARENT" --path-part '{proxy+}' --query id --output text)
gw put-method --rest-api-id "$API" --resource-id "$TPL_RES" --http-method GET \
    --authorization-type NONE --request-parameters method.request.path.proxy=true >/dev/null
TEMPLATE='{"path": "$input.params('"'"'proxy'"'"')", "agent": "$util.escapeJavaScript($input.params('"'"'User-Agent'"'"'))", "stage": "$context.stage", "requestId": "$context.requestId", "source": "$context.identity.sourceIp", "method": "$context.httpMethod", "items": [#foreach($i in [1..5])$i#if($foreach.hasNext),#end#end]}'
gw put-integration --rest-api-id "$API" --resource-id "$TPL_RES" --http-method GET \
    --type HTTP --integration-http-method POST --uri "http://127.0.0.1:$BACKEND_PORT/{proxy}" \
    --request-parameters integration.request.path.proxy=method.request.path.proxy \
    --request-templates "$(python3 -c 'import json,sys; print(json.dumps({"application/json": sys.argv[1]}))' "$TEMPLATE")" >/dev/null
gw put-method-response --rest-api-id "$API" --resource-id "$TPL_RES" --http-method GET --status-code 200 >/dev/null
gw put-integration-response --rest-api-id "$API" --resource-id "$TPL_RES" --http-method GET --status-code 200 >/dev/null

# GET /auth -> the MOCK route's answer behind a TOKEN Lambda authorizer whose results are
# cached (TTL 300 s): after the first request, authorization is a cache hit plus the
# evaluation of the cached policy against the method ARN. Against tg_mock: its cost.
mkdir -p "$TMP/authorizer"
cat >"$TMP/authorizer/app.py" <<'PY'
def handler(event, context):
    return {"principalId": "bench", "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "arn:aws:execute-api:*"}]}}
PY
python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], "w"); z.write(sys.argv[2], "app.py"); z.close()' \
    "$TMP/authorizer/fn.zip" "$TMP/authorizer/app.py"
svc lambda create-function --function-name bench-authorizer --runtime python3.12 --handler app.handler \
    --role arn:aws:iam::000000000000:role/bench --zip-file "fileb://$TMP/authorizer/fn.zip" >/dev/null
svc lambda add-permission --function-name bench-authorizer --statement-id apigateway \
    --action lambda:InvokeFunction --principal apigateway.amazonaws.com >/dev/null
AUTHORIZER=$(gw create-authorizer --rest-api-id "$API" --name bench --type TOKEN \
    --identity-source method.request.header.Authorization --authorizer-result-ttl-in-seconds 300 \
    --authorizer-uri "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:bench-authorizer/invocations" \
    --query id --output text)
AUTH_RES=$(gw create-resource --rest-api-id "$API" --parent-id "$ROOT" --path-part auth --query id --output text)
gw put-method --rest-api-id "$API" --resource-id "$AUTH_RES" --http-method GET \
    --authorization-type CUSTOM --authorizer-id "$AUTHORIZER" >/dev/null
gw put-integration --rest-api-id "$API" --resource-id "$AUTH_RES" --http-method GET --type MOCK \
    --request-templates '{"application/json": "{\"statusCode\": 200}"}' >/dev/null
gw put-method-response --rest-api-id "$API" --resource-id "$AUTH_RES" --http-method GET --status-code 200 >/dev/null
gw put-integration-response --rest-api-id "$API" --resource-id "$AUTH_RES" --http-method GET --status-code 200 \
    --response-templates "$(python3 -c 'import json,sys; print(json.dumps({"application/json": sys.argv[1]}))' "$BODY")" >/dev/null

# GET /cognito -> the MOCK route behind a Cognito user-pool authorizer. The pool's JWKS is
# a file the backend nginx serves under Tollgate's --cognito-endpoint; the client sends an
# ID token signed with its key (RS256, made here with the aws CLI's own `rsa` package), so
# after the first request the token is a verified-token cache hit. Against tg_mock: its cost.
POOL=us-east-1_bench
mkdir -p "$TMP/idp/$POOL/.well-known"
PY=$(dirname "$(command -v aws)")/python3
[[ -x $PY ]] && "$PY" -c 'import rsa' 2>/dev/null || PY=python3
"$PY" -c 'import rsa' 2>/dev/null || die "python's rsa package (an aws CLI dependency) is needed to sign the Cognito token"
COGNITO_TOKEN=$("$PY" - "$TMP/idp/$POOL/.well-known/jwks.json" "http://127.0.0.1:$BACKEND_PORT/idp/$POOL" <<'PY'
import base64, json, sys, time
import rsa
pub, priv = rsa.newkeys(2048)
def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def num(n): return b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))
with open(sys.argv[1], "w") as f:
    json.dump({"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "bench",
                         "n": num(pub.n), "e": num(pub.e)}]}, f)
head = b64(json.dumps({"alg": "RS256", "kid": "bench", "typ": "JWT"}).encode())
claims = b64(json.dumps({"sub": "bench", "token_use": "id", "aud": "bench-client",
                         "iss": sys.argv[2], "exp": int(time.time()) + 86400}).encode())
print(f"{head}.{claims}.{b64(rsa.sign(f'{head}.{claims}'.encode(), priv, 'SHA-256'))}")
PY
) || die "could not make the Cognito token"
# nginx's workers (user nobody when started as root) must reach the keys.
chmod o+x "$TMP" && chmod -R a+rX "$TMP/idp"
COGNITO=$(gw create-authorizer --rest-api-id "$API" --name bench-pool --type COGNITO_USER_POOLS \
    --provider-arns "arn:aws:cognito-idp:us-east-1:000000000000:userpool/$POOL" \
    --identity-source method.request.header.Authorization --query id --output text)
COGNITO_RES=$(gw create-resource --rest-api-id "$API" --parent-id "$ROOT" --path-part cognito --query id --output text)
gw put-method --rest-api-id "$API" --resource-id "$COGNITO_RES" --http-method GET \
    --authorization-type COGNITO_USER_POOLS --authorizer-id "$COGNITO" >/dev/null
gw put-integration --rest-api-id "$API" --resource-id "$COGNITO_RES" --http-method GET --type MOCK \
    --request-templates '{"application/json": "{\"statusCode\": 200}"}' >/dev/null
gw put-method-response --rest-api-id "$API" --resource-id "$COGNITO_RES" --http-method GET --status-code 200 >/dev/null
gw put-integration-response --rest-api-id "$API" --resource-id "$COGNITO_RES" --http-method GET --status-code 200 \
    --response-templates "$(python3 -c 'import json,sys; print(json.dumps({"application/json": sys.argv[1]}))' "$BODY")" >/dev/null

DEPLOYMENT=$(gw create-deployment --rest-api-id "$API" --stage-name bench --query id --output text)
# Stage `cached`: the same deployment with the stage response cache on for GETs (`*/*`),
# so after the first request the HTTP_PROXY route is answered from the cache without
# calling the backend. Against tg_mock: the cost of a cache hit.
gw create-stage --rest-api-id "$API" --stage-name cached --deployment-id "$DEPLOYMENT" \
    --cache-cluster-enabled --cache-cluster-size 0.5 >/dev/null
# A `*/*` method setting carries AWS's default method throttle (10,000 requests/s, burst
# 5,000), which this load exceeds: raised, so both stages are measured answering 200.
NO_METHOD_THROTTLE=('op=replace,path=/*/*/throttling/rateLimit,value=10000000'
    'op=replace,path=/*/*/throttling/burstLimit,value=10000000')
gw update-stage --rest-api-id "$API" --stage-name cached \
    --patch-operations 'op=replace,path=/*/*/caching/enabled,value=true' "${NO_METHOD_THROTTLE[@]}" >/dev/null
# The same deployment on a stage with per-method metrics (every method's own series) and an
# access log: tg_obs against tg_proxy is what observability costs a request (`bench` still
# counts each request in its stage's series, as AWS always counts a stage).
gw create-deployment --rest-api-id "$API" --stage-name observed >/dev/null
gw update-stage --rest-api-id "$API" --stage-name observed --patch-operations \
    "$(python3 -c 'import json; print(json.dumps([
        {"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"},
        {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": "arn:aws:logs:us-east-1:000000000000:log-group:bench"},
        {"op": "replace", "path": "/accessLogSettings/format", "value": "$context.requestId $context.identity.sourceIp [$context.requestTime] \"$context.httpMethod $context.resourcePath $context.protocol\" $context.status $context.responseLength"}]))')" >/dev/null
gw update-stage --rest-api-id "$API" --stage-name observed --patch-operations "${NO_METHOD_THROTTLE[@]}" >/dev/null

# An HTTP API (v2) in front of the same backend: quick create with an HTTP_PROXY target
# makes the auto-deployed `$default` stage and route, which appends the request's path.
HTTP_API=$(svc apigatewayv2 create-api --name tollgate-bench-http --protocol-type HTTP \
    --target "http://127.0.0.1:$BACKEND_PORT" --query ApiId --output text)
log "created HTTP API $HTTP_API"
log "deployed API $API to stage bench"

KEY_ID=$(gw create-api-key --name bench-key --enabled --query id --output text)
KEY_VALUE=$(gw get-api-key --api-key "$KEY_ID" --include-value --query value --output text)
PLAN_ID=$(gw create-usage-plan --name bench-plan --throttle burstLimit=1000000,rateLimit=1000000 \
    --quota limit=2000000000,offset=0,period=DAY --api-stages "apiId=$API,stage=bench" --query id --output text)
gw create-usage-plan-key --usage-plan-id "$PLAN_ID" --key-id "$KEY_ID" --key-type API_KEY >/dev/null

# ---------------------------------------------------------------------------------------
# Targets; each answers GET with BODY. Checked once with curl before any load.
# ---------------------------------------------------------------------------------------
TARGETS=(direct nginx tg_proxy tg_obs tg_keyed tg_tpl tg_mock tg_mockh tg_http tg_auth tg_cognito tg_cached)
declare -A NAME URL HDR
NAME[direct]="backend direct (nginx return)"
NAME[nginx]="nginx reverse proxy"
NAME[tg_proxy]="Tollgate HTTP_PROXY"
NAME[tg_mock]="Tollgate MOCK"
NAME[tg_obs]="Tollgate HTTP_PROXY, method metrics + access log"
URL[tg_obs]="http://127.0.0.1:$TOLLGATE_PORT/_aws/execute-api/$API/observed/proxy/bench"
URL[direct]="http://127.0.0.1:$BACKEND_PORT/bench"
URL[nginx]="http://127.0.0.1:$PROXY_PORT/proxy/bench"
URL[tg_proxy]="http://127.0.0.1:$TOLLGATE_PORT/_aws/execute-api/$API/bench/proxy/bench"
URL[tg_mock]="http://127.0.0.1:$TOLLGATE_PORT/_aws/execute-api/$API/bench/mock"
NAME[tg_keyed]="Tollgate HTTP_PROXY + API key, plan throttle, quota"
URL[tg_keyed]="http://127.0.0.1:$TOLLGATE_PORT/_aws/execute-api/$API/bench/keyed/bench"
HDR[tg_keyed]="x-api-key: $KEY_VALUE"
NAME[tg_tpl]="Tollgate HTTP + request template"
NAME[tg_http]="Tollgate HTTP API (v2) HTTP_PROXY"
URL[tg_http]="http://127.0.0.1:$TOLLGATE_PORT/_aws/execute-api/$HTTP_API/\$default/bench"
# The plain MOCK route sent the authorized route's request bytes (its Authorization
# header), so tg_auth against tg_mockh is the authorizer's cost alone.
NAME[tg_mockh]="Tollgate MOCK, same Authorization header"
URL[tg_mockh]="http://127.0.0.1:$TOLLGATE_PORT/_aws/execute-api/$API/bench/mock"
HDR[tg_mockh]="Authorization: bench-token"
NAME[tg_auth]="Tollgate MOCK + cached TOKEN authorizer"
URL[tg_auth]="http://127.0.0.1:$TOLLGATE_PORT/_aws/execute-api/$API/bench/auth"
HDR[tg_auth]="Authorization: bench-token"
NAME[tg_cognito]="Tollgate MOCK + Cognito authorizer (verified token cached)"
URL[tg_cognito]="http://127.0.0.1:$TOLLGATE_PORT/_aws/execute-api/$API/bench/cognito"
HDR[tg_cognito]="Authorization: $COGNITO_TOKEN"
URL[tg_tpl]="http://127.0.0.1:$TOLLGATE_PORT/_aws/execute-api/$API/bench/tpl/bench"
NAME[tg_cached]="Tollgate HTTP_PROXY, stage cache hit"
URL[tg_cached]="http://127.0.0.1:$TOLLGATE_PORT/_aws/execute-api/$API/cached/proxy/bench"
# Extra curl/wrk arguments of a target (its header, if any).
hdr_args() { if [[ -n ${HDR[$1]:-} ]]; then printf '%s\n' -H "${HDR[$1]}"; fi; }

# CHECK_TARGETS (space-separated): check only those (bench/callgrind.sh with CG_TARGETS).
read -r -a CHECKED <<<"${CHECK_TARGETS:-${TARGETS[*]}}"
for t in "${CHECKED[@]}"; do
    mapfile -t extra < <(hdr_args "$t")
    code=$(curl -sS --max-time "${CHECK_TIMEOUT:-5}" "${extra[@]}" -o "$TMP/check-$t.body" -w '%{http_code}' "${URL[$t]}") \
        || die "${NAME[$t]}: curl ${URL[$t]} failed"
    [[ $code == 200 ]] || die "${NAME[$t]}: ${URL[$t]} answered $code: $(head -c 300 "$TMP/check-$t.body")"
    [[ $(cat "$TMP/check-$t.body") == "$BODY" ]] \
        || die "${NAME[$t]}: unexpected body from ${URL[$t]}: $(head -c 300 "$TMP/check-$t.body")"
done
log "all ${#CHECKED[@]} targets checked answer 200 with the ${#BODY}-byte body"
