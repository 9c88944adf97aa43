#!/usr/bin/env bash
# Makes tests/data/v1.db: a database in the first store layout (schema v1: one `rows` table of
# whole-API JSON documents, deployments embedding their snapshots, no `meta` table).
#
# It was run once, against the `tollgate` binary built from the commit before the store
# format changed, and its output is checked in; `tests/migrate_v1.rs` opens that file with
# the current code. Rerunning it with a newer binary would make a file in the NEW layout.
#
# Usage: make-v1.sh path/to/tollgate [output.db]   (needs the aws CLI, zip and sqlite3)
set -euo pipefail
BIN=$(realpath "$1")
OUT=$(realpath -m "${2:-$(dirname "$0")/v1.db}")
DIR=$(mktemp -d)
PORT=${PORT:-45771}
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
EP="--endpoint-url http://127.0.0.1:$PORT"

"$BIN" serve --data-dir "$DIR/data" --listen "127.0.0.1:$PORT" >"$DIR/log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
    sleep 0.1
done

API=$(aws $EP apigateway create-rest-api --name pets --description "v1 fixture" --query id --output text)
ROOT=$(aws $EP apigateway get-resources --rest-api-id $API --query 'items[0].id' --output text)
PETS=$(aws $EP apigateway create-resource --rest-api-id $API --parent-id $ROOT \
    --path-part pets --query id --output text)
PET=$(aws $EP apigateway create-resource --rest-api-id $API --parent-id $PETS \
    --path-part '{id}' --query id --output text)
aws $EP apigateway put-method --rest-api-id $API --resource-id $PETS \
    --http-method GET --authorization-type NONE --api-key-required >/dev/null
aws $EP apigateway put-integration --rest-api-id $API --resource-id $PETS --http-method GET \
    --type MOCK --request-templates '{"application/json":"{\"statusCode\": 200}"}' >/dev/null
aws $EP apigateway put-method-response --rest-api-id $API --resource-id $PETS \
    --http-method GET --status-code 200 >/dev/null
aws $EP apigateway put-integration-response --rest-api-id $API --resource-id $PETS \
    --http-method GET --status-code 200 \
    --response-templates '{"application/json":"[{\"id\": 1}]"}' >/dev/null
aws $EP apigateway put-method --rest-api-id $API --resource-id $PET \
    --http-method DELETE --authorization-type NONE \
    --request-parameters method.request.path.id=true >/dev/null
aws $EP apigateway put-integration --rest-api-id $API --resource-id $PET --http-method DELETE \
    --type HTTP_PROXY --integration-http-method DELETE --uri 'http://127.0.0.1:9/pets/{id}' \
    --request-parameters integration.request.path.id=method.request.path.id >/dev/null
aws $EP apigateway create-model --rest-api-id $API --name Pet --content-type application/json \
    --schema '{"type": "object", "required": ["name"]}' >/dev/null
aws $EP apigateway create-request-validator --rest-api-id $API --name body \
    --validate-request-body >/dev/null
aws $EP apigateway put-gateway-response --rest-api-id $API --response-type MISSING_AUTHENTICATION_TOKEN \
    --status-code 404 --response-templates '{"application/json":"{\"message\":\"no route\"}"}' >/dev/null
# Two deployments of the same definition (one snapshot after migration), then an edit and
# a third deployment that the stage points to.
aws $EP apigateway create-deployment --rest-api-id $API --description first >/dev/null
aws $EP apigateway create-deployment --rest-api-id $API --description same >/dev/null
aws $EP apigateway update-method --rest-api-id $API --resource-id $PETS --http-method GET \
    --patch-operations op=replace,path=/operationName,value=ListPets >/dev/null
aws $EP apigateway create-deployment --rest-api-id $API --stage-name dev --description third \
    --variables color=blue >/dev/null
KEY=$(aws $EP apigateway create-api-key --name demo --enabled --value v1-fixture-key-0000000001 \
    --query id --output text)
PLAN=$(aws $EP apigateway create-usage-plan --name basic --throttle burstLimit=10,rateLimit=5 \
    --quota limit=1000,period=DAY --api-stages apiId=$API,stage=dev --query id --output text)
aws $EP apigateway create-usage-plan-key --usage-plan-id $PLAN --key-id $KEY --key-type API_KEY >/dev/null
for _ in 1 2 3; do
    curl -s -o /dev/null -H "x-api-key: v1-fixture-key-0000000001" \
        "http://127.0.0.1:$PORT/_aws/execute-api/$API/dev/pets"
done
printf 'def handler(event, context):\n    return {"ok": True}\n' >"$DIR/app.py"
(cd "$DIR" && zip -q fn.zip app.py)
aws $EP lambda create-function --function-name hello --runtime python3.12 --handler app.handler \
    --role arn:aws:iam::000000000000:role/any --zip-file "fileb://$DIR/fn.zip" \
    --environment 'Variables={GREETING=hi}' >/dev/null
aws $EP lambda publish-version --function-name hello >/dev/null
aws $EP lambda add-permission --function-name hello --statement-id apigw \
    --action lambda:InvokeFunction --principal apigateway.amazonaws.com \
    --source-arn "arn:aws:execute-api:us-east-1:000000000000:$API/*/*/*" >/dev/null
sleep 1.5 # the usage flusher saves every second
kill -TERM $PID
wait $PID || true
rm -f "$OUT"
sqlite3 "$DIR/data/tollgate.db" "VACUUM INTO '$OUT'"
sqlite3 "$OUT" "PRAGMA journal_mode=DELETE" >/dev/null
sqlite3 "$OUT" "SELECT kind, count(*) FROM rows GROUP BY kind; SELECT * FROM usage;"
