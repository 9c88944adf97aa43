//! Who may use a WebSocket API and how much: `--principals` callers on `@connections`
//! (allowed `execute-api:ManageConnections` or refused 403), the account's throttle on
//! `@connections` (429), an API key supplied by `$connect`'s authorizer
//! (`$context.authorizer.usageIdentifierKey`), and a usage plan's throttle per message.

mod common;

use common::lambda::*;
use common::websocket::*;
use common::*;
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// PostToConnection with boto3 as `key`/`secret`: `[status, error code or ""]`.
const POST_AS: &str = r#"
import json, sys, boto3
from botocore.exceptions import ClientError
endpoint, connection, key, secret, data = sys.argv[1:6]
c = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, region_name="us-east-1",
                 aws_access_key_id=key, aws_secret_access_key=secret)
try:
    r = c.post_to_connection(ConnectionId=connection, Data=data.encode())
    print(json.dumps([r["ResponseMetadata"]["HTTPStatusCode"], ""]))
except ClientError as e:
    print(json.dumps([e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]]))
"#;

fn post_as(endpoint: &str, id: &str, who: (&str, &str), data: &str) -> Value {
    python_script(POST_AS, &[endpoint, id, who.0, who.1, data])
}

const OPS: (&str, &str) = ("AKIAOPS", "ops-secret");
const VIEWER: (&str, &str) = ("AKIAVIEWER", "viewer-secret");

#[test]
fn connections_api_callers_from_principals() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let file = dir.path().join("principals.json");
    let allow = |action: &str, resource: &str| json!([{"Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}]);
    let principals = json!({"principals": [
        {"accessKeyId": OPS.0, "secretAccessKey": OPS.1,
         "arn": "arn:aws:iam::000000000000:user/ops",
         "policies": allow("execute-api:ManageConnections",
                           "arn:aws:execute-api:*:*:*/prod/POST/@connections/*")},
        {"accessKeyId": VIEWER.0, "secretAccessKey": VIEWER.1,
         "arn": "arn:aws:iam::000000000000:user/viewer",
         "policies": allow("execute-api:Invoke", "*")},
    ]});
    std::fs::write(&file, principals.to_string()).unwrap();
    let s = Server::start_with(dir.clone(), &["--principals", file.to_str().unwrap()]);
    let api = echo_api(&s);
    let endpoint = format!("{}/_aws/execute-api/{api}/prod", s.endpoint());
    rt().block_on(async {
        let (mut ws, id) = connect_with_id(&url(&s, &api)).await;
        assert_eq!(
            post_as(&endpoint, &id, VIEWER, "not allowed"),
            json!([403, "ForbiddenException"])
        );
        assert_eq!(post_as(&endpoint, &id, OPS, "from ops"), json!([200, ""]));
        // Only the allowed call reached the socket.
        assert_eq!(next_text(&mut ws).await, "from ops");
        ws.close(None).await.unwrap();
    });
}

/// `@connections` calls spend the account's throttle (UpdateAccount's `throttleSettings`)
/// like messages: past it, 429 `LimitExceededException`.
#[test]
fn connections_api_past_the_account_throttle_is_429() {
    let s = Server::start();
    let api = echo_api(&s);
    let endpoint = format!("{}/_aws/execute-api/{api}/prod", s.endpoint());
    rt().block_on(async {
        let (mut ws, id) = connect_with_id(&url(&s, &api)).await;
        apigw(
            &s,
            &[
                "update-account",
                "--patch-operations",
                "op=replace,path=/throttleSettings/burstLimit,value=1",
                "op=replace,path=/throttleSettings/rateLimit,value=0.01",
            ],
        );
        let root = ("test", "test");
        let answers: Vec<Value> = (0..3)
            .map(|i| post_as(&endpoint, &id, root, &format!("push {i}")))
            .collect();
        assert_eq!(answers[0], json!([200, ""]), "{answers:?}");
        assert_eq!(next_text(&mut ws).await, "push 0");
        for refused in &answers[1..] {
            assert_eq!(
                *refused,
                json!([429, "LimitExceededException"]),
                "{answers:?}"
            );
        }
        ws.close(None).await.unwrap();
    });
}

/// `$connect`'s authorizer: allows everyone, and returns the `key` query parameter as
/// `usageIdentifierKey` when there is one.
const KEY_AUTH_PY: &str = r#"
def handler(event, context):
    out = {"principalId": "user",
           "policyDocument": {"Version": "2012-10-17", "Statement": [
               {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}]}}
    key = (event.get("queryStringParameters") or {}).get("key")
    if key:
        out["usageIdentifierKey"] = key
    return out
"#;

#[test]
fn the_api_key_comes_from_the_authorizer() {
    let s = Server::start();
    let api = v2(
        &s,
        &[
            "create-api",
            "--name",
            "keyed",
            "--protocol-type",
            "WEBSOCKET",
            "--route-selection-expression",
            "$request.body.action",
            "--api-key-selection-expression",
            "$context.authorizer.usageIdentifierKey",
        ],
    )["ApiId"]
        .as_str()
        .unwrap()
        .to_string();
    let echo = mock_echo(&s, &api, "hello $context.identity.apiKey");
    two_way_route(&s, &api, "$default", &echo);
    let zip = zip_file(
        s.data_path(),
        "auth.zip",
        &[("auth.py", KEY_AUTH_PY, 0o644)],
    );
    create_function(&s, "auth", "python3.12", "auth.handler", &zip, &[]);
    grant_authorizer(&s, "auth", &api);
    let authorizer = v2(
        &s,
        &[
            "create-authorizer",
            "--api-id",
            &api,
            "--name",
            "keys",
            "--authorizer-type",
            "REQUEST",
            "--authorizer-uri",
            &fn_uri("auth"),
            "--identity-source",
            "route.request.querystring.user",
        ],
    )["AuthorizerId"]
        .as_str()
        .unwrap()
        .to_string();
    connect_route(
        &s,
        &api,
        &[
            "--api-key-required",
            "--authorization-type",
            "CUSTOM",
            "--authorizer-id",
            &authorizer,
        ],
    );
    stage(&s, &api);
    let value = "wsauthorizerkey0123456789";
    keyed_plan(&s, &api, value, &[]);
    let base = url(&s, &api);
    rt().block_on(async {
        // No key from the authorizer, or one no plan knows: 403.
        assert_eq!(refused(&format!("{base}?user=a")).await, 403);
        assert_eq!(
            refused(&format!("{base}?user=a&key=wsnotakey0123456789abc")).await,
            403
        );
        // A header key does not count: the selection expression names the authorizer's.
        let header_key = keyed_request(&format!("{base}?user=a"), value);
        assert_eq!(refused_request(header_key).await, 403);
        let mut ws = connect(&format!("{base}?user=a&key={value}")).await;
        ws.send(Message::text("{}")).await.unwrap();
        assert!(next_text(&mut ws).await.starts_with("hello"));
        ws.close(None).await.unwrap();
    });
}

/// A usage plan's throttle meters every message of a connection admitted with its key:
/// beyond it, AWS's `Too Many Requests` frame, and the connection stays open.
#[test]
fn a_usage_plan_throttles_messages() {
    let s = Server::start();
    let api = echo_api(&s);
    connect_route(&s, &api, &["--api-key-required"]);
    let value = "wsthrottledkey0123456789";
    keyed_plan(
        &s,
        &api,
        value,
        &["--throttle", "burstLimit=2,rateLimit=0.01"],
    );
    rt().block_on(async {
        let req = keyed_request(&url(&s, &api), value);
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        // `$connect` spent one token, this message the other.
        let ctx = r#"{"service":"chat","action":"ctx"}"#;
        ws.send(Message::text(ctx)).await.unwrap();
        assert_eq!(next_text(&mut ws).await, "chat/ctx MESSAGE");
        for _ in 0..2 {
            ws.send(Message::text(ctx)).await.unwrap();
            let frame = next_text(&mut ws).await;
            let parsed: Value = serde_json::from_str(&frame).unwrap();
            let expected = format!(
                r#"{{"message": "Too Many Requests", "connectionId":"{}", "requestId":"{}"}}"#,
                parsed["connectionId"].as_str().unwrap(),
                parsed["requestId"].as_str().unwrap()
            );
            assert_eq!(frame, expected);
        }
        ws.close(None).await.unwrap();
    });
}
