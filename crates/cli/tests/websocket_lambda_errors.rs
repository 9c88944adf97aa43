//! WebSocket Lambda integrations when the function does not simply answer: a `$connect`
//! function that fails refuses the handshake with 500, one that outlives the integration's
//! timeout with 504 (websocket.md §1, Q-W4), and a non-proxy (`AWS`) Lambda integration
//! whose integration response is chosen by the function's error message (websocket.md §3).

mod common;

use common::lambda::*;
use common::websocket::*;
use common::*;
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;

/// `$connect` (proxy event): fails or sleeps as `?mode=` says. Messages (non-proxy: the
/// event is the message itself): greets, or fails with `Bad input: ...` or another error.
const FUNCTION_PY: &str = r#"
import time

def handler(event, context):
    if "requestContext" in event:
        mode = (event.get("queryStringParameters") or {}).get("mode")
        if mode == "fail":
            raise RuntimeError("connect failed")
        if mode == "slow":
            time.sleep(5)
        return {"statusCode": 200}
    if "bad" in event:
        raise ValueError("Bad input: " + event["bad"])
    if "crash" in event:
        raise RuntimeError("crashed")
    return {"greeting": "hello " + event["name"]}
"#;

/// A WebSocket API on the function: `$connect` through a Lambda proxy integration with a
/// 1 s timeout, `greet` two-way through a non-proxy Lambda integration whose responses are
/// `/Bad input.*/` and `$default`.
fn api(s: &Server) -> String {
    let zip = zip_file(s.data_path(), "f.zip", &[("f.py", FUNCTION_PY, 0o644)]);
    create_function(
        s,
        "f",
        "python3.12",
        "f.handler",
        &zip,
        &["--timeout", "10"],
    );
    let api = ws_api(s, "$request.body.action");
    let source = format!("arn:aws:execute-api:us-east-1:000000000000:{api}/*");
    grant_apigateway(s, "f", "ws", &source, None);
    let uri = fn_uri("f");
    let connect = http_integration(s, &api, "AWS_PROXY", &uri, &["--timeout-in-millis", "1000"]);
    v2_route(s, &api, "$connect", &connect, &[]);
    let greet = http_integration(s, &api, "AWS", &uri, &[]);
    integration_response(
        s,
        &api,
        &greet,
        "/Bad input.*/",
        "refused: $input.path('$.errorMessage')",
    );
    default_response(s, &api, &greet, "said: $input.path('$.greeting')");
    two_way_route(s, &api, "greet", &greet);
    stage(s, &api);
    api
}

#[test]
fn a_connect_function_that_fails_or_times_out_refuses_the_handshake() {
    let s = Server::start();
    let api = api(&s);
    let base = url(&s, &api);
    rt().block_on(async {
        assert_eq!(refused(&format!("{base}?mode=fail")).await, 500);
        assert_eq!(refused(&format!("{base}?mode=slow")).await, 504);
        let mut ws = connect(&format!("{base}?mode=ok")).await;
        ws.close(None).await.unwrap();
    });
}

#[test]
fn a_non_proxy_lambda_error_selects_its_integration_response() {
    let s = Server::start();
    let api = api(&s);
    rt().block_on(async {
        let mut ws = connect(&url(&s, &api)).await;
        let mut ask = async |message: &str| {
            ws.send(Message::text(message)).await.unwrap();
            next_text(&mut ws).await
        };
        let hello = ask(r#"{"action":"greet","name":"bob"}"#).await;
        assert_eq!(hello, "said: hello bob");
        // The error message matches `/Bad input.*/`.
        let bad = ask(r#"{"action":"greet","bad":"no name"}"#).await;
        assert_eq!(bad, "refused: Bad input: no name");
        // Another error message falls to `$default`, rendered over the error payload.
        assert_eq!(ask(r#"{"action":"greet","crash":1}"#).await, "said: ");
    });
}
