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

/// The next data message as text, skipping control frames; a close fails the test.
pub async fn next_text(ws: &mut Client) -> String {
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
