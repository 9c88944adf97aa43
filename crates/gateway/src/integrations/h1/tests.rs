//! The client against real sockets: a backend written here byte by byte, so each test
//! controls exactly what the wire carries (framing, closing, case).

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Uri};
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::exchange;
use crate::body::GatewayBody;
use crate::pipeline::integration_request::BackendRequest;
use crate::response_case::ResponseSpellings;

/// An exchange with no proxy rule: the backend's answer as it is.
async fn exchange_plain(
    req: BackendRequest,
) -> Result<http::Response<GatewayBody>, crate::error::GatewayError> {
    exchange(req, None).await
}

/// A backend answering each request with `answer(n)` (n counts requests from 0); it closes
/// a connection after an answer when `close_after` says so. Counts connections accepted.
struct Backend {
    uri: String,
    accepted: Arc<AtomicUsize>,
    seen: Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
}

async fn backend(answer: fn(usize) -> Vec<u8>, close_after: fn(usize) -> bool) -> Backend {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (a, s) = (accepted.clone(), seen.clone());
    let served = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let (mut conn, _) = listener.accept().await.unwrap();
            a.fetch_add(1, SeqCst);
            let (s, served) = (s.clone(), served.clone());
            tokio::spawn(async move {
                loop {
                    let Some(request) = read_request(&mut conn).await else {
                        return;
                    };
                    s.lock().unwrap().push(request);
                    let n = served.fetch_add(1, SeqCst);
                    if conn.write_all(&answer(n)).await.is_err() {
                        return;
                    }
                    if close_after(n) {
                        return;
                    }
                }
            });
        }
    });
    Backend {
        uri,
        accepted,
        seen,
    }
}

/// One request (head and body, framed by content-length or chunked), as bytes.
async fn read_request(conn: &mut TcpStream) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            let complete = if head.contains("transfer-encoding: chunked") {
                got.ends_with(b"0\r\n\r\n")
            } else {
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                got.len() >= end + 4 + len
            };
            if complete {
                return Some(got);
            }
        }
        let n = conn.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        got.extend_from_slice(&buf[..n]);
    }
}

fn get(uri: &str) -> BackendRequest {
    request(Method::GET, uri, GatewayBody::empty())
}

fn request(method: Method, uri: &str, body: GatewayBody) -> BackendRequest {
    BackendRequest {
        method,
        uri: uri.parse::<Uri>().unwrap(),
        headers: HeaderMap::new(),
        body,
    }
}

async fn body_of(resp: http::Response<GatewayBody>) -> Bytes {
    resp.into_body().collect().await.unwrap().to_bytes()
}

#[tokio::test]
async fn keep_alive_connections_are_reused_and_names_keep_their_case() {
    let b = backend(
        |_| b"HTTP/1.1 200 OK\r\nX-CuStOm: 1\r\ncontent-length: 2\r\n\r\nok".to_vec(),
        |_| false,
    )
    .await;
    for path in ["/a?b=c", "?d=e", ""] {
        let resp = exchange_plain(get(&format!("{}{path}", b.uri)))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.extensions().get::<ResponseSpellings>(),
            ResponseSpellings::of(["X-CuStOm"]).as_ref()
        );
        assert_eq!(body_of(resp).await, "ok");
    }
    assert_eq!(
        b.accepted.load(SeqCst),
        1,
        "one connection for three requests"
    );
    let seen = b.seen.lock().unwrap();
    let first = String::from_utf8_lossy(&seen[0]);
    assert!(
        first.starts_with("GET /a?b=c HTTP/1.1\r\nhost: 127.0.0.1:"),
        "{first}"
    );
    assert!(
        !first.contains("content-length"),
        "a GET without a body: {first}"
    );
}

#[tokio::test]
async fn a_connection_the_backend_closed_is_not_reused() {
    let b = backend(
        |_| b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_vec(),
        |_| true,
    )
    .await;
    for _ in 0..3 {
        let resp = exchange_plain(get(&b.uri)).await.unwrap();
        assert_eq!(body_of(resp).await, "ok");
        // Let the backend's close arrive (a race with it is retried, not failed).
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(b.accepted.load(SeqCst), 3);
}

#[tokio::test]
async fn a_request_racing_the_backend_s_close_is_sent_again() {
    // The backend closes right after answering; the next request goes out at once, before
    // the close can have been seen, and must still be answered.
    let b = backend(
        |_| b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_vec(),
        |_| true,
    )
    .await;
    for _ in 0..20 {
        let resp = exchange_plain(get(&b.uri)).await.unwrap();
        assert_eq!(body_of(resp).await, "ok");
    }
}

#[tokio::test]
async fn chunked_and_close_delimited_bodies_stream() {
    let b = backend(
        |n| match n {
            0 => b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
                .to_vec(),
            _ => b"HTTP/1.1 200 OK\r\n\r\nuntil the end".to_vec(),
        },
        |n| n == 1,
    )
    .await;
    let resp = exchange_plain(get(&b.uri)).await.unwrap();
    assert_eq!(body_of(resp).await, "hello world");
    let resp = exchange_plain(get(&b.uri)).await.unwrap();
    assert_eq!(body_of(resp).await, "until the end");
    assert_eq!(
        b.accepted.load(SeqCst),
        1,
        "the chunked answer kept its connection"
    );
}

#[tokio::test]
async fn bodies_are_framed_as_hyper_framed_them() {
    let b = backend(|_| b"HTTP/1.1 204 No Content\r\n\r\n".to_vec(), |_| false).await;
    // A known body: content-length, written with the head.
    let resp = exchange_plain(request(
        Method::POST,
        &b.uri,
        GatewayBody::from_bytes("abc"),
    ))
    .await
    .unwrap();
    assert_eq!(resp.status(), 204);
    // A streamed body of unknown size: chunked.
    let frames = futures_util::stream::iter([
        Ok::<_, std::convert::Infallible>(http_body::Frame::data(Bytes::from_static(b"de"))),
        Ok(http_body::Frame::data(Bytes::from_static(b"f"))),
    ]);
    let stream = http_body_util::StreamBody::new(frames)
        .map_err(|e| -> crate::body::BoxError { match e {} });
    let body = GatewayBody::Boxed(http_body_util::combinators::UnsyncBoxBody::new(stream));
    let resp = exchange_plain(request(Method::PUT, &b.uri, body))
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    {
        let seen = b.seen.lock().unwrap();
        let post = String::from_utf8_lossy(&seen[0]);
        assert!(post.contains("content-length: 3\r\n\r\nabc"), "{post}");
        let put = String::from_utf8_lossy(&seen[1]);
        assert!(
            put.contains("transfer-encoding: chunked\r\n\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n"),
            "{put}"
        );
    }
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("kept.example"));
    let mut r = get(&b.uri);
    r.headers = headers;
    exchange_plain(r).await.unwrap();
    let seen = b.seen.lock().unwrap();
    assert!(String::from_utf8_lossy(&seen[2]).contains("host: kept.example\r\n"));
}

#[tokio::test]
async fn unreachable_and_malformed_backends_fail_as_aws_says() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let e = exchange_plain(get(&format!("http://{addr}/")))
        .await
        .err()
        .unwrap();
    assert_eq!(e.log_detail, Some("Invalid endpoint address"));
    let b = backend(|_| b"SSH-2.0-OpenSSH\r\n\r\n".to_vec(), |_| false).await;
    let e = exchange_plain(get(&b.uri)).await.err().unwrap();
    assert_eq!(
        e.kind,
        tollgate_model::GatewayResponseType::IntegrationFailure
    );
}

#[test]
fn host_headers_leave_out_the_default_port_as_hyper_did() {
    let host = |a: &str| super::host_header(&a.parse().unwrap()).into_owned();
    assert_eq!(host("example.com"), "example.com");
    assert_eq!(host("example.com:80"), "example.com");
    assert_eq!(host("example.com:8080"), "example.com:8080");
    assert_eq!(host("127.0.0.1:80"), "127.0.0.1");
    assert_eq!(host("[::1]:80"), "[::1]");
    assert_eq!(host("[::1]:8000"), "[::1]:8000");
    assert_eq!(host("user@example.com:80"), "example.com");
    assert_eq!(host("user@example.com:81"), "example.com:81");
}
