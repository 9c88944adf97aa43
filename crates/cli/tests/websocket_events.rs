//! What each WebSocket message carries and how it travels: `$context.messageId` in a MOCK
//! route's template and in the access log (one per message), a binary message reaching a
//! Lambda proxy route base64-encoded (`isBase64Encoded: true`), and `wss://` on the TLS
//! listener with `@connections` over https.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine;
use common::lambda::*;
use common::websocket::*;
use common::*;
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

#[test]
fn message_ids_in_templates_and_access_logs() {
    let s = Server::start();
    let api = ws_api(&s, "$request.body.action");
    let echo = mock_echo(&s, &api, "$context.messageId");
    two_way_route(&s, &api, "$default", &echo);
    stage(&s, &api);
    access_log(
        &s,
        &api,
        r#"{"type":"$context.eventType","messageId":"$context.messageId"}"#,
    );
    let replies = rt().block_on(async {
        let mut ws = connect(&url(&s, &api)).await;
        let mut replies = Vec::new();
        for _ in 0..2 {
            ws.send(Message::text("{}")).await.unwrap();
            replies.push(next_text(&mut ws).await);
        }
        ws.close(None).await.unwrap();
        replies
    });
    assert!(replies.iter().all(|r| !r.is_empty()), "{replies:?}");
    assert_ne!(replies[0], replies[1]);
    let lines = access_log_lines(&s, &api, 3);
    let logged: Vec<&Value> = lines
        .iter()
        .filter(|l| l["type"] == "MESSAGE")
        .map(|l| &l["messageId"])
        .collect();
    assert_eq!(
        logged,
        [&json!(replies[0]), &json!(replies[1])],
        "{lines:?}"
    );
}

/// Answers with what the event said of its body.
const BODY_PY: &str = r#"
import json
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({
        "isBase64Encoded": event["isBase64Encoded"], "body": event["body"],
        "messageId": event["requestContext"]["messageId"]})}
"#;

#[test]
fn binary_messages_reach_a_lambda_proxy_base64_encoded() {
    let s = Server::start();
    let api = ws_api(&s, "$request.body.action");
    let zip = zip_file(s.data_path(), "body.zip", &[("body.py", BODY_PY, 0o644)]);
    create_function(&s, "body", "python3.12", "body.handler", &zip, &[]);
    let source = format!("arn:aws:execute-api:us-east-1:000000000000:{api}/*");
    grant_apigateway(&s, "body", "ws", &source, None);
    let proxy = http_integration(&s, &api, "AWS_PROXY", &fn_uri("body"), &[]);
    two_way_route(&s, &api, "$default", &proxy);
    stage(&s, &api);
    let bytes = vec![0u8, 1, 2, 0x80, 0xfe, 0xff];
    let (binary, text) = rt().block_on(async {
        let mut ws = connect(&url(&s, &api)).await;
        ws.send(Message::binary(bytes.clone())).await.unwrap();
        let binary = next_text(&mut ws).await;
        ws.send(Message::text("plain words")).await.unwrap();
        let text = next_text(&mut ws).await;
        ws.close(None).await.unwrap();
        (binary, text)
    });
    let binary: Value = serde_json::from_str(&binary).unwrap();
    assert_eq!(binary["isBase64Encoded"], true, "{binary}");
    assert_eq!(
        binary["body"],
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    );
    assert!(!binary["messageId"].as_str().unwrap().is_empty());
    let text: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        text,
        json!({"isBase64Encoded": false, "body": "plain words", "messageId": text["messageId"]})
    );
    assert_ne!(text["messageId"], binary["messageId"]);
}

fn cert_data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../gateway/tests/data")
        .join(name)
}

type TlsClient =
    tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;

/// A `wss://` connection to `host` (resolved to 127.0.0.1), trusting the test certificate.
async fn connect_tls(port: u16, host: &str, path: &str) -> TlsClient {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let pem = cert_data("localhost.cert.pem");
    for c in rustls::pki_types::CertificateDer::pem_file_iter(pem).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("TLS handshake");
    let url = format!("wss://{host}:{port}{path}");
    let (ws, resp) = tokio_tungstenite::client_async(url.as_str(), tls)
        .await
        .unwrap_or_else(|e| panic!("wss handshake: {e}"));
    assert_eq!(resp.status(), 101);
    ws
}

/// PostToConnection over https with boto3, verifying the server with the test certificate.
const POST_HTTPS: &str = r#"
import json, sys, boto3
c = boto3.client("apigatewaymanagementapi", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test", verify=sys.argv[3])
r = c.post_to_connection(ConnectionId=sys.argv[2], Data=b"over https")
print(json.dumps(r["ResponseMetadata"]["HTTPStatusCode"]))
"#;

#[test]
fn wss_on_the_tls_listener_and_connections_over_https() {
    // The API is made on a plain server (the test's aws CLI speaks http), then the same
    // data dir is served with TLS on every listener.
    let mut plain = Server::start();
    let api = echo_api(&plain);
    plain.sigterm();
    let cert = cert_data("localhost.cert.pem");
    let key = cert_data("localhost.key.pem");
    let s = Server::start_with(
        plain.dir(),
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let host = format!("{api}.execute-api.localhost");
    rt().block_on(async {
        let mut ws = connect_tls(s.port, &host, "/prod").await;
        ws.send(Message::text(r#"{"service":"chat","action":"ctx"}"#))
            .await
            .unwrap();
        assert_eq!(next_text(&mut ws).await, "chat/ctx MESSAGE");
        ws.send(Message::text("{}")).await.unwrap();
        let frame: Value = serde_json::from_str(&next_text(&mut ws).await).unwrap();
        let id = frame["connectionId"].as_str().unwrap().to_string();
        let endpoint = format!("https://localhost:{}/_aws/execute-api/{api}/prod", s.port);
        let status = python_script(POST_HTTPS, &[&endpoint, &id, cert.to_str().unwrap()]);
        assert_eq!(status, json!(200));
        assert_eq!(next_text(&mut ws).await, "over https");
        ws.close(None).await.unwrap();
    });
}
