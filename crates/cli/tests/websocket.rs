//! WebSocket APIs end to end: the real server, configured with the aws CLI, driven by a
//! real WebSocket client (tokio-tungstenite), pushed to with `aws apigatewaymanagementapi`
//! and boto3. MOCK routes here; Lambda routes in `websocket_lambda.rs`.

mod common;

use std::time::Duration;

use common::websocket::*;
use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

#[test]
fn control_plane_speaks_websocket() {
    let s = Server::start();
    let e = v2_err(
        &s,
        &["create-api", "--name", "w", "--protocol-type", "WEBSOCKET"],
    );
    assert_cli_error(
        &e,
        "BadRequestException",
        "RouteSelectionExpression is required for WebSocket APIs",
    );
    let e = v2_err(
        &s,
        &[
            "create-api",
            "--name",
            "w",
            "--protocol-type",
            "WEBSOCKET",
            "--route-selection-expression",
            "$request.nope",
        ],
    );
    assert!(e.stderr.contains("BadRequestException"), "{}", e.stderr);
    let api = ws_api(&s, "$request.body.action");
    let got = v2(&s, &["get-api", "--api-id", &api]);
    assert_eq!(got["ProtocolType"], "WEBSOCKET");
    assert_eq!(got["RouteSelectionExpression"], "$request.body.action");
    assert_eq!(
        got["ApiKeySelectionExpression"],
        "$request.header.x-api-key"
    );
    let e = v2_err(
        &s,
        &["create-route", "--api-id", &api, "--route-key", "$custom"],
    );
    assert!(e.stderr.contains("BadRequestException"), "{}", e.stderr);
    for key in ["$connect", "$disconnect", "$default", "sendmessage"] {
        v2(&s, &["create-route", "--api-id", &api, "--route-key", key]);
    }
    let e = v2_err(
        &s,
        &[
            "create-route",
            "--api-id",
            &api,
            "--route-key",
            "sendmessage",
        ],
    );
    assert!(e.stderr.contains("ConflictException"), "{}", e.stderr);
    let i = mock_echo(&s, &api, "hi");
    let responses = v2(
        &s,
        &[
            "get-integration-responses",
            "--api-id",
            &api,
            "--integration-id",
            &i,
        ],
    );
    assert_eq!(responses["Items"][0]["IntegrationResponseKey"], "$default");
    let e = v2_err(
        &s,
        &[
            "create-integration",
            "--api-id",
            &api,
            "--integration-type",
            "MOCK",
            "--timeout-in-millis",
            "29001",
        ],
    );
    assert!(e.stderr.contains("BadRequestException"), "{}", e.stderr);
    let e = v2_err(
        &s,
        &["create-stage", "--api-id", &api, "--stage-name", "$default"],
    );
    assert!(e.stderr.contains("BadRequestException"), "{}", e.stderr);
    // Models: WebSocket APIs only, names unique, a template generated from the schema.
    let schema = r#"{"type": "object", "properties": {"action": {"type": "string"}}}"#;
    let model = v2(
        &s,
        &[
            "create-model",
            "--api-id",
            &api,
            "--name",
            "Msg",
            "--schema",
            schema,
        ],
    );
    let model_id = model["ModelId"].as_str().unwrap();
    let e = v2_err(
        &s,
        &[
            "create-model",
            "--api-id",
            &api,
            "--name",
            "Msg",
            "--schema",
            schema,
        ],
    );
    assert!(e.stderr.contains("ConflictException"), "{}", e.stderr);
    let t = v2(
        &s,
        &[
            "get-model-template",
            "--api-id",
            &api,
            "--model-id",
            model_id,
        ],
    );
    assert!(
        t["Value"]
            .as_str()
            .unwrap()
            .contains(r#""action" : "$inputRoot.action""#),
        "{t}"
    );
    assert_eq!(
        v2(&s, &["get-models", "--api-id", &api])["Items"][0]["Name"],
        "Msg"
    );
    let http = v2_http_api(&s, "h");
    let e = v2_err(
        &s,
        &[
            "create-model",
            "--api-id",
            &http,
            "--name",
            "Msg",
            "--schema",
            schema,
        ],
    );
    assert!(e.stderr.contains("BadRequestException"), "{}", e.stderr);
}

/// One API: `echo` (two-way, echoes `$input.body`), `silent` (one-way), `$default` is
/// absent, so an unmatched message gets the Forbidden error frame.
#[test]
fn route_selection_two_way_and_error_frames() {
    let s = Server::start();
    let api = echo_api(&s);
    let format = r#"{"id":"$context.connectionId","type":"$context.eventType","route":"$context.routeKey","status":"$context.status","ip":"$context.identity.sourceIp"}"#;
    access_log(&s, &api, format);
    rt().block_on(async {
        let mut ws = connect(&url(&s, &api)).await;
        let hello = r#"{"service":"chat","action":"echo","n":1}"#;
        ws.send(Message::text(hello)).await.unwrap();
        // A MOCK's integration response has no body; the engine renders an empty
        // `$input.body` as `{}`, as for REST APIs.
        assert_eq!(next_text(&mut ws).await, "{}");
        ws.send(Message::text(r#"{"service":"chat","action":"ctx"}"#))
            .await
            .unwrap();
        assert_eq!(next_text(&mut ws).await, "chat/ctx MESSAGE");
        // One-way: nothing comes back; the next two-way answer is the next frame.
        ws.send(Message::text(r#"{"service":"chat","action":"silent"}"#))
            .await
            .unwrap();
        ws.send(Message::text(r#"{"service":"nope"}"#))
            .await
            .unwrap();
        let frame: Value = serde_json::from_str(&next_text(&mut ws).await).unwrap();
        assert_eq!(frame["message"], "Forbidden");
        assert_eq!(frame["connectionId"].as_str().unwrap().len(), 16);
        // Not JSON: `$default`, which this API lacks.
        ws.send(Message::text("plain words")).await.unwrap();
        let raw = next_text(&mut ws).await;
        assert!(
            raw.starts_with(r#"{"message": "Forbidden", "connectionId":""#),
            "{raw}"
        );
        assert!(raw.contains(r#"", "requestId":""#), "{raw}");
        // The connection stays open after error frames.
        ws.send(Message::text(r#"{"service":"chat","action":"ctx"}"#))
            .await
            .unwrap();
        assert_eq!(next_text(&mut ws).await, "chat/ctx MESSAGE");
        ws.close(None).await.unwrap();
    });
    // One access log line per `$connect` and per routed message.
    let lines = access_log_lines(&s, &api, 5);
    assert_eq!(lines[0]["type"], "CONNECT");
    assert_eq!(lines[0]["route"], "$connect");
    assert_eq!(lines[1]["type"], "MESSAGE");
    assert_eq!(lines[1]["route"], "chat/echo");
    assert_eq!(lines[1]["status"], "200");
    assert_eq!(lines[1]["ip"], "127.0.0.1");
    assert_eq!(lines[1]["id"], lines[0]["id"]);
}

#[test]
fn addressing_and_refusals() {
    let s = Server::start();
    let api = echo_api(&s);
    rt().block_on(async {
        // The path form reaches the same API.
        let path_form = format!("ws://127.0.0.1:{}/_aws/execute-api/{api}/prod", s.port);
        let mut ws = connect(&path_form).await;
        ws.send(Message::text(r#"{"service":"chat","action":"ctx"}"#))
            .await
            .unwrap();
        assert_eq!(next_text(&mut ws).await, "chat/ctx MESSAGE");
        let unknown_stage = format!("ws://{api}.execute-api.localhost:{}/nope", s.port);
        assert_eq!(refused(&unknown_stage).await, 403);
    });
    // A plain GET is not a WebSocket handshake.
    let r = Http::get(s.port, "/prod")
        .header("Host", &format!("{api}.execute-api.localhost"))
        .send();
    assert_eq!(r.status, 426, "{}", r.text());
}

/// Sends `body` as one text message in frames of `size` bytes (continuation frames after
/// the first); a send the server cut short is not an error here.
async fn send_fragmented(ws: &mut Client, body: &str, size: usize) {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    let chunks: Vec<&[u8]> = body.as_bytes().chunks(size).collect();
    let last = chunks.len() - 1;
    for (i, chunk) in chunks.into_iter().enumerate() {
        let opcode = OpCode::Data(if i == 0 { Data::Text } else { Data::Continue });
        let frame = Frame::message(chunk.to_vec(), opcode, i == last);
        if ws.send(Message::Frame(frame)).await.is_err() {
            return;
        }
    }
}

/// A `chat/ctx` message padded to `len` bytes.
fn padded(len: usize) -> String {
    let head = r#"{"service":"chat","action":"ctx","pad":""#;
    format!("{head}{}\"}}", "x".repeat(len - head.len() - 2))
}

#[test]
fn frame_and_message_limits_close_with_1009() {
    let s = Server::start();
    let api = echo_api(&s);
    rt().block_on(async {
        let mut ws = connect(&url(&s, &api)).await;
        // Ping is answered.
        ws.send(Message::Ping(b"p".to_vec().into())).await.unwrap();
        loop {
            match tokio::time::timeout(PATIENCE, ws.next()).await.unwrap() {
                Some(Ok(Message::Pong(p))) => {
                    assert_eq!(&p[..], b"p");
                    break;
                }
                Some(Ok(_)) => {}
                other => panic!("no pong: {other:?}"),
            }
        }
        // Most clients send a message as one frame: 40 KB in one frame is over 32 KB.
        ws.send(Message::text(padded(40 * 1024))).await.unwrap();
        assert_eq!(close_code(&mut ws).await, 1009);
        let mut ws = connect(&url(&s, &api)).await;
        // 120 KB in 30 KB frames: one message under the limit, routed and answered.
        send_fragmented(&mut ws, &padded(120 * 1024), 30 * 1024).await;
        assert_eq!(next_text(&mut ws).await, "chat/ctx MESSAGE");
        // 150 KB in frames of 30 KB, each under the frame limit: the message is too big.
        send_fragmented(&mut ws, &padded(150 * 1024), 30 * 1024).await;
        assert_eq!(close_code(&mut ws).await, 1009);
    });
}

#[test]
fn idle_timeout_closes_with_1001() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let s = Server::start_with(dir, &["--websocket-idle-timeout", "1"]);
    let api = echo_api(&s);
    rt().block_on(async {
        let mut ws = connect(&url(&s, &api)).await;
        assert_eq!(close_code(&mut ws).await, 1001);
    });
}

#[test]
fn connections_api_with_the_aws_cli_and_boto3() {
    let s = Server::start();
    let api = echo_api(&s);
    // The path form: SDKs resolve the host they are given, and wildcard names need not.
    let endpoint = format!("{}/_aws/execute-api/{api}/prod", s.endpoint());
    let path_endpoint = endpoint.clone();
    rt().block_on(async {
        let (mut ws, id) = connect_with_id(&url(&s, &api)).await;
        // aws CLI v1 sends `--data` as it is.
        let out = manage(&s, "post-to-connection", &endpoint, &id, &["--data", "hello from the CLI"]);
        out.unwrap_or_else(|e| panic!("{}\n{}", e.stderr, s.stderr()));
        assert_eq!(next_text(&mut ws).await, "hello from the CLI");
        let got = manage(&s, "get-connection", &path_endpoint, &id, &[])
        .unwrap();
        assert_eq!(got["Identity"]["SourceIp"], "127.0.0.1");
        assert!(got["ConnectedAt"].as_str().is_some(), "{got}");
        // boto3: a push larger than one frame arrives as one message; 128 KB + 1 is 413.
        let script = r#"
import json, sys, boto3
from botocore.exceptions import ClientError
c = boto3.client("apigatewaymanagementapi", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test")
c.post_to_connection(ConnectionId=sys.argv[2], Data=b"y" * 40000)
out = {}
try:
    c.post_to_connection(ConnectionId=sys.argv[2], Data=b"z" * 131073)
except ClientError as e:
    out["large"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
try:
    c.post_to_connection(ConnectionId="AAAAAAAAAAAAAAA=", Data=b"x")
except ClientError as e:
    out["unknown"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
unsigned = boto3.client("apigatewaymanagementapi", endpoint_url=sys.argv[1], region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="wrong")
try:
    unsigned.get_connection(ConnectionId=sys.argv[2])
except ClientError as e:
    out["badsig"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
print(json.dumps(out))
"#;
        let out = python_script(script, &[&endpoint, &id]);
        assert_eq!(next_text(&mut ws).await.len(), 40000);
        assert_eq!(out["large"], serde_json::json!(["PayloadTooLargeException", 413]));
        assert_eq!(out["unknown"], serde_json::json!(["GoneException", 410]));
        assert_eq!(out["badsig"][1], 403, "{out}");
        // DeleteConnection closes the socket; afterwards the id is gone (410).
        manage(&s, "delete-connection", &endpoint, &id, &[])
        .unwrap();
        assert_eq!(close_code(&mut ws).await, 1000);
        let e = manage(&s, "post-to-connection", &endpoint, &id, &["--data", "late"])
        .unwrap_err();
        assert!(e.stderr.contains("GoneException"), "{}", e.stderr);
    });
    // Unsigned calls are refused unless the server allows them.
    let r = Http::post(s.port, "/prod/@connections/AAAAAAAAAAAAAAA%3D")
        .header("Host", &format!("{api}.execute-api.localhost"))
        .body("x")
        .send();
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(
        r.header("x-amzn-ErrorType"),
        Some("MissingAuthenticationTokenException")
    );
}

#[test]
fn unsigned_connections_calls_with_the_dev_flag() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let s = Server::start_with(dir, &["--connections-allow-unsigned"]);
    let api = echo_api(&s);
    rt().block_on(async {
        let (mut ws, id) = connect_with_id(&url(&s, &api)).await;
        let target = format!("/prod/@connections/{}", id.replace('=', "%3D"));
        let r = Http::post(s.port, &target)
            .header("Host", &format!("{api}.execute-api.localhost"))
            .body("pushed")
            .send();
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(next_text(&mut ws).await, "pushed");
        let _ = ws.send(Message::Close(None)).await;
    });
    std::thread::sleep(Duration::from_millis(300));
}

#[test]
fn max_duration_and_new_connection_rate() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let s = Server::start_with(
        dir,
        &[
            "--websocket-max-duration",
            "2",
            "--websocket-connect-rate",
            "1",
        ],
    );
    let api = echo_api(&s);
    rt().block_on(async {
        let mut ws = connect(&url(&s, &api)).await;
        // One new connection per second: the next one, at once, is refused.
        assert_eq!(refused(&url(&s, &api)).await, 429);
        // A binary message selects `$default`, which this API lacks.
        ws.send(Message::Binary(vec![0, 159, 146, 150].into()))
            .await
            .unwrap();
        let frame: Value = serde_json::from_str(&next_text(&mut ws).await).unwrap();
        assert_eq!(frame["message"], "Forbidden");
        // Busy or not, the connection ends at its maximum duration, with 1001.
        assert_eq!(close_code(&mut ws).await, 1001);
    });
}

#[test]
fn http_integrations_templates_responses_and_timeouts() {
    let s = Server::start();
    let backend = Backend::start();
    let api = ws_api(&s, "$request.body.action");
    // `$default`: HTTP_PROXY, the message posted as it is and the answer sent back.
    let proxy = http_integration(
        &s,
        &api,
        "HTTP_PROXY",
        &format!("{}/p?raw=1", backend.url()),
        &[],
    );
    two_way_route(&s, &api, "$default", &proxy);
    // `wrap`: HTTP with a request template; the backend's answer passes through.
    let wrap = http_integration(
        &s,
        &api,
        "HTTP",
        &format!("{}/w?raw=1", backend.url()),
        &[
            "--template-selection-expression",
            "\\$default",
            "--request-templates",
            r#"{"$default": "{\"wrapped\": $input.body, \"route\": \"$context.routeKey\"}"}"#,
        ],
    );
    passthrough_response(&s, &api, &wrap);
    two_way_route(&s, &api, "wrap", &wrap);
    // `fail`: a 503 selects the `/5\d\d/` integration response and its template.
    let fail = http_integration(
        &s,
        &api,
        "HTTP",
        &format!("{}/f?status=503", backend.url()),
        &[],
    );
    for (key, template) in [("/5\\d\\d/", "backend failed"), ("$default", "fine")] {
        let templates = serde_json::json!({ "$default": template }).to_string();
        v2(
            &s,
            &[
                "create-integration-response",
                "--api-id",
                &api,
                "--integration-id",
                &fail,
                "--integration-response-key",
                key,
                "--response-templates",
                &templates,
            ],
        );
    }
    two_way_route(&s, &api, "fail", &fail);
    // `slow`: the backend answers after the integration's timeout.
    let slow = http_integration(
        &s,
        &api,
        "HTTP_PROXY",
        &format!("{}/s?delay_ms=3000", backend.url()),
        &["--timeout-in-millis", "200"],
    );
    two_way_route(&s, &api, "slow", &slow);
    stage(&s, &api);
    rt().block_on(async {
        let mut ws = connect(&url(&s, &api)).await;
        ws.send(Message::text("not json at all")).await.unwrap();
        assert_eq!(next_text(&mut ws).await, "not json at all");
        assert_eq!(
            backend.last().body.as_deref(),
            Some(&b"not json at all"[..])
        );
        ws.send(Message::text(r#"{"action":"wrap","n":1}"#))
            .await
            .unwrap();
        let got: Value = serde_json::from_str(&next_text(&mut ws).await).unwrap();
        assert_eq!(got["wrapped"]["n"], 1);
        assert_eq!(got["route"], "wrap");
        ws.send(Message::text(r#"{"action":"fail"}"#))
            .await
            .unwrap();
        assert_eq!(next_text(&mut ws).await, "backend failed");
        ws.send(Message::text(r#"{"action":"slow"}"#))
            .await
            .unwrap();
        let frame: Value = serde_json::from_str(&next_text(&mut ws).await).unwrap();
        assert_eq!(frame["message"], "Endpoint request timed out");
        ws.close(None).await.unwrap();
    });
}

#[test]
fn websocket_apis_survive_a_restart() {
    let mut s = Server::start();
    let api = echo_api(&s);
    s.sigterm();
    // Route responses, integration responses and templates come back from the store.
    let s = Server::start_in(s.dir());
    rt().block_on(async {
        let mut ws = connect(&url(&s, &api)).await;
        ws.send(Message::text(r#"{"service":"chat","action":"ctx"}"#))
            .await
            .unwrap();
        assert_eq!(next_text(&mut ws).await, "chat/ctx MESSAGE");
        ws.close(None).await.unwrap();
    });
    let responses = v2(&s, &["get-routes", "--api-id", &api]);
    assert_eq!(responses["Items"].as_array().unwrap().len(), 3);
}

#[test]
fn api_key_required_on_connect() {
    let s = Server::start();
    let api = echo_api(&s);
    connect_route(&s, &api, &["--api-key-required"]);
    let e = v2_err(
        &s,
        &[
            "create-route",
            "--api-id",
            &api,
            "--route-key",
            "other",
            "--api-key-required",
        ],
    );
    assert!(e.stderr.contains("BadRequestException"), "{}", e.stderr);
    let value = "wsapikey0123456789abcdef";
    keyed_plan(&s, &api, value, &[]);
    rt().block_on(async {
        assert_eq!(refused(&url(&s, &api)).await, 403);
        let wrong = keyed_request(&url(&s, &api), "not-a-key");
        assert_eq!(refused_request(wrong).await, 403);
        let req = keyed_request(&url(&s, &api), value);
        let (mut ws, resp) = tokio_tungstenite::connect_async(req).await.unwrap();
        assert_eq!(resp.status(), 101);
        ws.send(Message::text(r#"{"service":"chat","action":"ctx"}"#))
            .await
            .unwrap();
        assert_eq!(next_text(&mut ws).await, "chat/ctx MESSAGE");
        ws.close(None).await.unwrap();
    });
}

/// A connection admitted with an API key spends its usage plan's quota on `$connect` and on
/// every message: past the quota a message gets AWS's error frame and a new `$connect` 429.
#[test]
fn a_keyed_connection_spends_its_usage_plan_quota() {
    let s = Server::start();
    let api = echo_api(&s);
    connect_route(&s, &api, &["--api-key-required"]);
    let value = "wsquotakey0123456789abcd";
    let (plan, key) = keyed_plan(&s, &api, value, &["--quota", "limit=3,period=DAY"]);
    let keyed = || keyed_request(&url(&s, &api), value);
    rt().block_on(async {
        // `$connect` is request 1, the two messages 2 and 3.
        let (mut ws, _) = tokio_tungstenite::connect_async(keyed()).await.unwrap();
        for _ in 0..2 {
            ws.send(Message::text(r#"{"service":"chat","action":"ctx"}"#))
                .await
                .unwrap();
            assert_eq!(next_text(&mut ws).await, "chat/ctx MESSAGE");
        }
        ws.send(Message::text(r#"{"service":"chat","action":"ctx"}"#))
            .await
            .unwrap();
        let frame: Value = serde_json::from_str(&next_text(&mut ws).await).unwrap();
        assert_eq!(frame["message"], "Limit Exceeded", "{frame}");
        ws.close(None).await.unwrap();
        assert_eq!(refused_request(keyed()).await, 429);
    });
    // Refused requests are not counted: 3 used, none left.
    let day = utc_date(0);
    let usage = apigw(
        &s,
        &[
            "get-usage",
            "--usage-plan-id",
            &plan,
            "--start-date",
            &day,
            "--end-date",
            &day,
        ],
    );
    assert_eq!(usage["items"][&key], serde_json::json!([[3, 0]]), "{usage}");
}

/// A WebSocket route without an integration cannot be deployed: CreateDeployment refuses
/// it, and an auto-deploy stage stays on its deployment and says why.
#[test]
fn a_route_without_an_integration_is_not_deployed() {
    let s = Server::start();
    let api = ws_api(&s, "$request.body.action");
    let echo = mock_echo(&s, &api, "ok");
    two_way_route(&s, &api, "$default", &echo);
    stage(&s, &api);
    let served = v2(&s, &["get-stage", "--api-id", &api, "--stage-name", "prod"]);
    let first = served["DeploymentId"].as_str().unwrap().to_string();
    let route = v2(
        &s,
        &["create-route", "--api-id", &api, "--route-key", "lonely"],
    )["RouteId"]
        .as_str()
        .unwrap()
        .to_string();
    let st = v2(&s, &["get-stage", "--api-id", &api, "--stage-name", "prod"]);
    assert_eq!(st["DeploymentId"], first.as_str());
    assert_eq!(
        st["LastDeploymentStatusMessage"],
        "Deployment attempt failed: Unable to deploy API because route lonely has no integration"
    );
    let e = v2_err(&s, &["create-deployment", "--api-id", &api]);
    assert!(e.stderr.contains("BadRequestException"), "{}", e.stderr);
    assert!(
        e.stderr.contains("route lonely has no integration"),
        "{}",
        e.stderr
    );
    // The stage still serves its deployment.
    rt().block_on(async {
        let mut ws = connect(&url(&s, &api)).await;
        ws.send(Message::text("{}")).await.unwrap();
        assert_eq!(next_text(&mut ws).await, "ok");
    });
    // Once the route has an integration, the next change deploys again.
    let target = format!("integrations/{echo}");
    update_route(&s, &api, &route, &["--target", &target]);
    let st = v2(&s, &["get-stage", "--api-id", &api, "--stage-name", "prod"]);
    assert_ne!(st["DeploymentId"], first.as_str());
    v2(&s, &["create-deployment", "--api-id", &api]);
}

/// An upgraded WebSocket keeps its place under `--max-connections` until it closes: with
/// the cap reached by open sockets, a new connection is refused; once one socket closes,
/// a new one is accepted.
#[test]
fn open_websockets_count_against_max_connections() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let s = Server::start_with(dir, &["--max-connections", "2"]);
    let api = echo_api(&s);
    rt().block_on(async {
        let first = connect(&url(&s, &api)).await;
        let mut second = connect(&url(&s, &api)).await;
        // The cap is reached by the two sockets: a third connection is closed unanswered.
        let third = tokio::time::timeout(
            PATIENCE,
            tokio_tungstenite::connect_async(request(&url(&s, &api))),
        )
        .await
        .expect("refused in time");
        assert!(third.is_err(), "a connection over the cap was served");
        // Both sockets still work.
        second
            .send(Message::text(r#"{"service":"chat","action":"ctx"}"#))
            .await
            .unwrap();
        assert_eq!(next_text(&mut second).await, "chat/ctx MESSAGE");
        drop(first);
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            match tokio_tungstenite::connect_async(request(&url(&s, &api))).await {
                Ok((ws, _)) => {
                    drop(ws);
                    break;
                }
                Err(e) if std::time::Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(e) => panic!("no connection accepted after a socket closed: {e}"),
            }
        }
    });
}

/// Stage route settings throttle WebSocket routes: `defaultRouteSettings` for every route
/// (`$connect` included), `routeSettings` over it for one; a throttled message gets the
/// `Too Many Requests` error frame and the connection stays open.
#[test]
fn route_settings_throttle_messages() {
    let s = Server::start();
    let api = echo_api(&s);
    connect_route(&s, &api, &[]);
    v2(
        &s,
        &[
            "update-stage",
            "--api-id",
            &api,
            "--stage-name",
            "prod",
            "--default-route-settings",
            "ThrottlingBurstLimit=1,ThrottlingRateLimit=0.01",
            "--route-settings",
            r#"{"chat/echo": {"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 100}}"#,
        ],
    );
    rt().block_on(async {
        let mut ws = connect(&url(&s, &api)).await;
        let ctx = r#"{"service":"chat","action":"ctx"}"#;
        ws.send(Message::text(ctx)).await.unwrap();
        assert_eq!(next_text(&mut ws).await, "chat/ctx MESSAGE");
        ws.send(Message::text(ctx)).await.unwrap();
        let frame: Value = serde_json::from_str(&next_text(&mut ws).await).unwrap();
        assert_eq!(frame["message"], "Too Many Requests");
        // Another route has its own, larger bucket.
        for _ in 0..3 {
            ws.send(Message::text(r#"{"service":"chat","action":"echo"}"#))
                .await
                .unwrap();
            assert_eq!(next_text(&mut ws).await, "{}");
        }
        // `$connect` has spent its one token: a second connection is refused with 429.
        assert_eq!(refused(&url(&s, &api)).await, 429);
        ws.close(None).await.unwrap();
    });
}
