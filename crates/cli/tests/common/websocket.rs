//! WebSocket helpers shared by the WebSocket test files: a real client
//! (tokio-tungstenite), bounded reads, and `aws apigatewaymanagementapi` calls.

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use super::*;

pub type Client =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A runtime for one test's client side.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The next data message as text, skipping control frames; a close fails the test. Any
/// stream: plain (`Client`) or TLS.
pub async fn next_text<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>) -> String
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        match tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("a message in time")
        {
            Some(Ok(Message::Text(t))) => return t.to_string(),
            Some(Ok(Message::Binary(b))) => return String::from_utf8_lossy(&b).into_owned(),
            Some(Ok(Message::Close(f))) => panic!("closed: {f:?}"),
            Some(Ok(_)) => {}
            other => panic!("socket ended: {other:?}"),
        }
    }
}

/// Waits for the server's close frame; its code (1005 without one, 1006 without a close).
pub async fn close_code(ws: &mut Client) -> u16 {
    loop {
        match tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(Message::Close(Some(f)))) => return f.code.into(),
            Some(Ok(Message::Close(None))) => return 1005,
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return 1006,
        }
    }
}

/// `aws apigatewaymanagementapi {op} --endpoint-url {endpoint} --connection-id {id} ...`.
pub fn manage(
    s: &Server,
    op: &str,
    endpoint: &str,
    id: &str,
    extra: &[&str],
) -> Result<Value, AwsError> {
    let mut args = vec![
        "apigatewaymanagementapi",
        op,
        "--endpoint-url",
        endpoint,
        "--connection-id",
        id,
    ];
    args.extend_from_slice(extra);
    aws(s, &args)
}

/// A client request for `url`, sent to 127.0.0.1 with `url`'s host in `Host`.
pub fn request(url: &str) -> http::Request<()> {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let port = authority.rsplit_once(':').unwrap().1;
    let mut req = format!("{scheme}://127.0.0.1:{port}/{path}")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("host", authority.parse().unwrap());
    req
}

pub async fn connect(url: &str) -> Client {
    let (ws, resp) = tokio::time::timeout(PATIENCE, tokio_tungstenite::connect_async(request(url)))
        .await
        .expect("connect in time")
        .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    assert_eq!(resp.status(), 101);
    ws
}

/// Connects, learns its own connection id from an error frame.
pub async fn connect_with_id(url: &str) -> (Client, String) {
    let mut ws = connect(url).await;
    ws.send(Message::text("{}")).await.unwrap();
    let frame: Value = serde_json::from_str(&next_text(&mut ws).await).unwrap();
    (ws, frame["connectionId"].as_str().unwrap().to_string())
}

/// A WebSocket API with `expr` as its route selection expression; its id.
pub fn ws_api(s: &Server, expr: &str) -> String {
    let api = v2(
        s,
        &[
            "create-api",
            "--name",
            "ws",
            "--protocol-type",
            "WEBSOCKET",
            "--route-selection-expression",
            expr,
        ],
    );
    assert!(api["ApiEndpoint"].as_str().unwrap().starts_with("ws://"));
    api["ApiId"].as_str().unwrap().to_string()
}

/// A MOCK integration answering 200 whose `$default` integration response renders
/// `template`; its id.
pub fn mock_echo(s: &Server, api: &str, template: &str) -> String {
    let i = integration(
        s,
        api,
        &[
            "--integration-type",
            "MOCK",
            "--template-selection-expression",
            "\\$default",
            "--request-templates",
            r#"{"$default": "{\"statusCode\": 200}"}"#,
        ],
    );
    assert_eq!(i["PassthroughBehavior"], "WHEN_NO_MATCH");
    assert_eq!(i["TimeoutInMillis"], 29000);
    assert_eq!(
        i["IntegrationResponseSelectionExpression"],
        "${integration.response.statuscode}"
    );
    let id = i["IntegrationId"].as_str().unwrap().to_string();
    default_response(s, api, &id, template);
    id
}

/// `create-integration` on `api` with `args`; the integration as answered.
pub fn integration(s: &Server, api: &str, args: &[&str]) -> Value {
    let mut full = vec!["create-integration", "--api-id", api];
    full.extend_from_slice(args);
    v2(s, &full)
}

/// An integration of `kind` (HTTP, HTTP_PROXY, AWS) to `uri` (method POST) with `extra`
/// arguments; its id.
pub fn http_integration(s: &Server, api: &str, kind: &str, uri: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "--integration-type",
        kind,
        "--integration-method",
        "POST",
        "--integration-uri",
        uri,
    ];
    args.extend_from_slice(extra);
    integration(s, api, &args)["IntegrationId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The `$default` integration response of `integration`, rendering `template`.
pub fn default_response(s: &Server, api: &str, integration: &str, template: &str) {
    integration_response(s, api, integration, "$default", template);
}

/// A `$default` integration response of `integration` without templates: the
/// integration's answer is sent as it is.
pub fn passthrough_response(s: &Server, api: &str, integration: &str) {
    create_integration_response(s, api, integration, "$default", &[]);
}

/// An integration response of `integration` with `key` (`$default` or `/regex/`),
/// rendering `template`.
pub fn integration_response(s: &Server, api: &str, integration: &str, key: &str, template: &str) {
    let templates = serde_json::json!({ "$default": template }).to_string();
    let extra = [
        "--template-selection-expression",
        "\\$default",
        "--response-templates",
        &templates,
    ];
    create_integration_response(s, api, integration, key, &extra);
}

fn create_integration_response(
    s: &Server,
    api: &str,
    integration: &str,
    key: &str,
    extra: &[&str],
) {
    let mut args = vec![
        "create-integration-response",
        "--api-id",
        api,
        "--integration-id",
        integration,
        "--integration-response-key",
        key,
    ];
    args.extend_from_slice(extra);
    v2(s, &args);
}

/// `update-route` of `route` with `args`; the route as answered.
pub fn update_route(s: &Server, api: &str, route: &str, args: &[&str]) -> Value {
    let mut full = vec!["update-route", "--api-id", api, "--route-id", route];
    full.extend_from_slice(args);
    v2(s, &full)
}

/// A two-way route `key` to `integration`; its id.
pub fn two_way_route(s: &Server, api: &str, key: &str, integration: &str) -> String {
    let route = v2_route(
        s,
        api,
        key,
        integration,
        &["--route-response-selection-expression", "$default"],
    );
    v2(
        s,
        &[
            "create-route-response",
            "--api-id",
            api,
            "--route-id",
            &route,
            "--route-response-key",
            "$default",
        ],
    );
    route
}

pub fn stage(s: &Server, api: &str) {
    v2(
        s,
        &[
            "create-stage",
            "--api-id",
            api,
            "--stage-name",
            "prod",
            "--auto-deploy",
        ],
    );
}

/// Where a WebSocket API's `prod` stage answers: the host form, as
/// `ws://127.0.0.1:PORT/prod` with `Host: {api}.execute-api.localhost` (wildcard names
/// need not resolve here).
pub fn url(s: &Server, api: &str) -> String {
    format!("ws://{api}.execute-api.localhost:{}/prod", s.port)
}

/// The handshake's refusal status.
pub async fn refused(url: &str) -> u16 {
    refused_request(request(url)).await
}

/// A client request for `url` (as [`request`]) with `x-api-key: key`.
pub fn keyed_request(url: &str, key: &str) -> http::Request<()> {
    let mut req = request(url);
    req.headers_mut().insert("x-api-key", key.parse().unwrap());
    req
}

/// The handshake's refusal status for `req`.
pub async fn refused_request(req: http::Request<()>) -> u16 {
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("the handshake should have been refused"),
    }
}

pub fn echo_api(s: &Server) -> String {
    let api = ws_api(s, "${request.body.service}/${request.body.action}");
    let echo = mock_echo(s, &api, "$input.body");
    two_way_route(s, &api, "chat/echo", &echo);
    let ctx = mock_echo(s, &api, "$context.routeKey $context.eventType");
    two_way_route(s, &api, "chat/ctx", &ctx);
    v2_route(s, &api, "chat/silent", &echo, &[]);
    stage(s, &api);
    api
}

/// A `$connect` route on the API's first integration (a WebSocket route needs an
/// integration to be deployed, control-plane-v2.md §3.7).
pub fn connect_route(s: &Server, api: &str, extra: &[&str]) {
    let integration = v2(s, &["get-integrations", "--api-id", api])["Items"][0]["IntegrationId"]
        .as_str()
        .unwrap()
        .to_string();
    v2_route(s, api, "$connect", &integration, extra);
}

/// A usage plan (with `plan_args`, e.g. a quota) on the API's `prod` stage and an enabled
/// API key with `value` on it: (plan id, key id).
pub fn keyed_plan(s: &Server, api: &str, value: &str, plan_args: &[&str]) -> (String, String) {
    let plan_stage = format!("apiId={api},stage=prod");
    let mut args = vec![
        "create-usage-plan",
        "--name",
        "ws",
        "--api-stages",
        &plan_stage,
    ];
    args.extend_from_slice(plan_args);
    let plan = apigw(s, &args);
    let key = apigw(
        s,
        &[
            "create-api-key",
            "--name",
            "k",
            "--enabled",
            "--value",
            value,
        ],
    );
    apigw(
        s,
        &[
            "create-usage-plan-key",
            "--usage-plan-id",
            plan["id"].as_str().unwrap(),
            "--key-id",
            key["id"].as_str().unwrap(),
            "--key-type",
            "API_KEY",
        ],
    );
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();
    (id(&plan), id(&key))
}

/// Turns on the `prod` stage's access log with `format`.
pub fn access_log(s: &Server, api: &str, format: &str) {
    let log = serde_json::json!({"DestinationArn": "arn:aws:logs:us-east-1:000000000000:log-group:ws", "Format": format});
    v2(
        s,
        &[
            "update-stage",
            "--api-id",
            api,
            "--stage-name",
            "prod",
            "--access-log-settings",
            &log.to_string(),
        ],
    );
}

/// The `prod` stage's access log lines (JSON formats), once there are at least `n`.
pub fn access_log_lines(s: &Server, api: &str, n: usize) -> Vec<Value> {
    let path = s
        .data_path()
        .join("access-logs")
        .join(format!("{api}-prod.log"));
    eventually("the WebSocket access log lines", || {
        let lines: Vec<Value> = read_if_exists(&path)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        (lines.len() >= n).then_some(lines)
    })
}
