//! WebSocket request checks end to end, on MOCK routes: request models chosen by the
//! model selection expression (AWS's "Request validation for WebSocket APIs"), `$connect`'s
//! required route request parameters, and a request template that does not match under
//! `passthroughBehavior` `NEVER`.

mod common;

use common::websocket::*;
use common::*;
use futures_util::SinkExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

/// An `emailModel` (an object with a string `address`) and a `phoneModel` (with `phone`).
fn models(s: &Server, api: &str) {
    for (name, member) in [("emailModel", "address"), ("phoneModel", "phone")] {
        let schema = serde_json::json!({
            "$schema": "http://json-schema.org/draft-04/schema#",
            "type": "object",
            "required": [member],
            "properties": { member: { "type": "string" } }
        });
        v2(
            s,
            &[
                "create-model",
                "--api-id",
                api,
                "--name",
                name,
                "--content-type",
                "application/json",
                "--schema",
                &schema.to_string(),
            ],
        );
    }
}

/// Sends `message`, returns the one frame that comes back.
async fn ask(ws: &mut Client, message: &str) -> String {
    ws.send(Message::text(message)).await.unwrap();
    next_text(ws).await
}

/// The body of the frame AWS sends for a message its model refuses, with AWS's spacing.
fn assert_invalid_body(frame: &str, connection_id: &str) {
    let prefix = format!(
        r#"{{"message": "Invalid request body", "connectionId":"{connection_id}", "requestId":""#
    );
    assert!(frame.starts_with(&prefix), "{frame}");
    assert!(frame.ends_with(r#""}"#), "{frame}");
}

#[test]
fn request_models_chosen_by_the_model_selection_expression() {
    let s = Server::start();
    let api = ws_api(&s, "$request.body.action");
    models(&s, &api);
    let passed = mock_echo(&s, &api, "passed $context.routeKey");
    let route = two_way_route(&s, &api, "sendMessage", &passed);
    let set_models = |models: &str| {
        let selection = "${request.body.messageType}";
        let args = [
            "--model-selection-expression",
            selection,
            "--request-models",
            models,
        ];
        update_route(&s, &api, &route, &args)
    };
    let updated = set_models(r#"{"email": "emailModel"}"#);
    assert_eq!(updated["RequestModels"]["email"], "emailModel");
    // A route without models is not validated.
    let open = mock_echo(&s, &api, "open");
    two_way_route(&s, &api, "other", &open);
    stage(&s, &api);
    let valid = r#"{"action":"sendMessage","messageType":"email","address":"mary@example.com"}"#;
    rt().block_on(async {
        let (mut ws, id) = connect_with_id(&url(&s, &api)).await;
        // AWS's own example: the `email` model wants an address.
        let frame = ask(
            &mut ws,
            r#"{"action": "sendMessage", "messageType": "email"}"#,
        )
        .await;
        assert_invalid_body(&frame, &id);
        assert_eq!(ask(&mut ws, valid).await, "passed sendMessage");
        // A wrong type is as invalid as a missing member.
        let wrong = r#"{"action":"sendMessage","messageType":"email","address":7}"#;
        assert_invalid_body(&ask(&mut ws, wrong).await, &id);
        // No model for `sms` and no `$default`: validation fails.
        let sms = r#"{"action":"sendMessage","messageType":"sms","phone":"1"}"#;
        assert_invalid_body(&ask(&mut ws, sms).await, &id);
        assert_eq!(ask(&mut ws, r#"{"action":"other"}"#).await, "open");
        ws.close(None).await.unwrap();
    });
    // `$default` is the fallback model; the stage redeploys, a new connection sees it.
    set_models(r#"{"email": "emailModel", "$default": "phoneModel"}"#);
    rt().block_on(async {
        let (mut ws, id) = connect_with_id(&url(&s, &api)).await;
        let sms = r#"{"action":"sendMessage","messageType":"sms","phone":"1"}"#;
        assert_eq!(ask(&mut ws, sms).await, "passed sendMessage");
        let no_type = r#"{"action":"sendMessage"}"#;
        assert_invalid_body(&ask(&mut ws, no_type).await, &id);
        assert_eq!(ask(&mut ws, valid).await, "passed sendMessage");
        ws.close(None).await.unwrap();
    });
}

/// The handshake's refusal: its status and message.
async fn refusal(base: &str, query: &str, token: Option<&str>) -> (u16, String) {
    let mut req = request(&format!("{base}{query}"));
    if let Some(t) = token {
        req.headers_mut().insert("x-token", t.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
            let body: Value =
                serde_json::from_slice(r.body().as_deref().unwrap_or_default()).unwrap();
            (
                r.status().as_u16(),
                body["message"].as_str().unwrap().to_string(),
            )
        }
        other => panic!("{query} should be refused: {:?}", other.map(|x| x.1)),
    }
}

#[test]
fn a_missing_required_connect_parameter_refuses_the_handshake() {
    let s = Server::start();
    let api = ws_api(&s, "${request.body.service}/${request.body.action}");
    let ctx = mock_echo(&s, &api, "$context.routeKey");
    two_way_route(&s, &api, "chat/ctx", &ctx);
    let required = serde_json::json!({
        "route.request.header.X-Token": {"Required": true},
        "route.request.querystring.room": {"Required": true},
        "route.request.querystring.nick": {"Required": false}
    });
    connect_route(&s, &api, &["--request-parameters", &required.to_string()]);
    let got = v2(&s, &["get-routes", "--api-id", &api]);
    let connect = got["Items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["RouteKey"] == "$connect")
        .unwrap();
    assert_eq!(
        connect["RequestParameters"]["route.request.header.X-Token"]["Required"],
        true
    );
    stage(&s, &api);
    let base = url(&s, &api);
    rt().block_on(async {
        assert_eq!(
            refusal(&base, "", None).await,
            (
                400,
                "Missing required request parameters: [X-Token, room]".to_string()
            )
        );
        assert_eq!(
            refusal(&base, "?room=r1", None).await,
            (
                400,
                "Missing required request parameters: [X-Token]".to_string()
            )
        );
        // Present but blank counts as missing.
        assert_eq!(
            refusal(&base, "?room=", Some("t")).await,
            (
                400,
                "Missing required request parameters: [room]".to_string()
            )
        );
        let mut req = request(&format!("{base}?room=r1"));
        req.headers_mut().insert("x-token", "t".parse().unwrap());
        let (mut ws, resp) = tokio_tungstenite::connect_async(req).await.unwrap();
        assert_eq!(resp.status(), 101);
        let answer = ask(&mut ws, r#"{"service":"chat","action":"ctx"}"#).await;
        assert_eq!(answer, "chat/ctx");
        ws.close(None).await.unwrap();
    });
}

#[test]
fn passthrough_never_without_a_matching_template() {
    let s = Server::start();
    let api = ws_api(&s, "$request.body.action");
    let i = integration(
        &s,
        &api,
        &[
            "--integration-type",
            "MOCK",
            "--passthrough-behavior",
            "NEVER",
            "--template-selection-expression",
            "${request.body.kind}",
            "--request-templates",
            r#"{"known": "{\"statusCode\": 200}"}"#,
        ],
    )["IntegrationId"]
        .as_str()
        .unwrap()
        .to_string();
    default_response(&s, &api, &i, "matched");
    two_way_route(&s, &api, "strict", &i);
    stage(&s, &api);
    rt().block_on(async {
        let (mut ws, id) = connect_with_id(&url(&s, &api)).await;
        let known = r#"{"action":"strict","kind":"known"}"#;
        assert_eq!(ask(&mut ws, known).await, "matched");
        let frame = ask(&mut ws, r#"{"action":"strict","kind":"other"}"#).await;
        let prefix = format!(
            r#"{{"message": "Unsupported Media Type", "connectionId":"{id}", "requestId":""#
        );
        assert!(frame.starts_with(&prefix), "{frame}");
        // The connection stays open.
        assert_eq!(ask(&mut ws, known).await, "matched");
        ws.close(None).await.unwrap();
    });
}
