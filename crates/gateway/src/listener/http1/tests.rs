use std::convert::Infallible;

use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::StreamBody;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::head::{parse, Parsed, Scratch};
use super::{respond, ChunkSize};
use crate::body::GatewayBody;
use crate::response_case::{respell_head, ResponseSpellings};

fn parsed(bytes: &[u8]) -> (Parsed, BytesMut) {
    let mut buf = BytesMut::from(bytes);
    let parsed = parse(&mut buf, &mut Scratch::new());
    (parsed, buf)
}

fn is_other(bytes: &[u8]) -> bool {
    let (p, buf) = parsed(bytes);
    // hyper's share is left whole for it to read.
    matches!(p, Parsed::Other) && buf[..] == *bytes
}

#[test]
fn requests_this_path_serves() {
    let (p, rest) = parsed(
        b"GET /prod/a?b=1 HTTP/1.1\r\nHost: h\r\nX-Mixed-Case: v\r\nx-mixed-case: w\r\n\r\nGET /n",
    );
    let Parsed::Request(w) = p else {
        panic!("a GET is served")
    };
    assert_eq!(w.request.uri().path(), "/prod/a");
    assert_eq!(w.request.uri().query(), Some("b=1"));
    let values: Vec<_> = w.request.headers().get_all("x-mixed-case").iter().collect();
    assert_eq!(values, ["v", "w"]);
    assert!(w.head.starts_with(b"GET /prod/a?b=1") && w.head.ends_with(b"\r\n\r\n"));
    assert!(!w.close);
    assert_eq!(&rest[..], b"GET /n", "the next request stays in the buffer");

    let (p, _) = parsed(b"POST /p HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc");
    let Parsed::Request(w) = p else {
        panic!("a small body is read whole")
    };
    assert_eq!(w.request.body(), &Bytes::from_static(b"abc"));
    assert!(w.close);

    let (p, _) = parsed(b"POST /p HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    assert!(
        matches!(p, Parsed::NeedBody(n) if n == 40 + 10),
        "the head and 10 bytes"
    );
    assert!(matches!(
        parsed(b"GET /p HTTP/1.1\r\nHost").0,
        Parsed::Partial
    ));
}

#[test]
fn requests_hyper_serves() {
    for head in [
        &b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"[..],
        b"GET / HTTP/1.0\r\n\r\n",
        b"HEAD / HTTP/1.1\r\n\r\n",
        b"CONNECT h:443 HTTP/1.1\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
        b"GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 70000\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",
        b"POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\na",
        b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
        b"GET /\x7f HTTP/1.1\r\n\r\n",
    ] {
        assert!(is_other(head), "{}", String::from_utf8_lossy(head));
    }
}

#[test]
fn chunk_sizes_are_hex() {
    let mut s = ChunkSize::default();
    assert_eq!(s.of(1), b"1\r\n");
    assert_eq!(s.of(0x1a), b"1A\r\n");
    assert_eq!(s.of(4096), b"1000\r\n");
    assert_eq!(s.of(0xfffff), b"FFFFF\r\n");
}

fn stream_body(chunks: &[&'static str]) -> GatewayBody {
    let frames = chunks
        .iter()
        .map(|c| Ok::<_, Infallible>(http_body::Frame::data(Bytes::from_static(c.as_bytes()))));
    let stream = StreamBody::new(futures_util::stream::iter(frames.collect::<Vec<_>>()));
    GatewayBody::Boxed(http_body_util::BodyExt::boxed_unsync(
        http_body_util::BodyExt::map_err(stream, |e| match e {}),
    ))
}

/// The responses compared: each as the pipeline could answer it.
fn response(case: usize) -> Response<GatewayBody> {
    let (mut p, ()) = Response::new(()).into_parts();
    let mut body = GatewayBody::from_bytes("hello");
    let h = &mut p.headers;
    match case {
        0 => {
            h.insert("content-type", HeaderValue::from_static("application/json"));
            h.insert("x-amzn-requestid", HeaderValue::from_static("r-1"));
        }
        1 => {
            body = GatewayBody::empty();
            p.status = StatusCode::NOT_FOUND;
        }
        2 => {
            body = GatewayBody::empty();
            p.status = StatusCode::NO_CONTENT;
            h.insert("content-length", HeaderValue::from_static("0"));
        }
        3 => body = stream_body(&["ab", "", "cdefghijklmnopq"]),
        4 => {
            body = stream_body(&["ab", "cd"]);
            h.insert("content-length", HeaderValue::from_static("4"));
        }
        5 => {
            body = stream_body(&["x"]);
            h.append("set-cookie", HeaderValue::from_static("a=1"));
            h.append("set-cookie", HeaderValue::from_static("b=2"));
            h.append("connection", HeaderValue::from_static("keep-alive"));
            h.append("connection", HeaderValue::from_static("close"));
            h.insert("transfer-encoding", HeaderValue::from_static("gzip"));
        }
        6 => {
            body = stream_body(&["x"]);
            p.status = StatusCode::NOT_MODIFIED;
            h.insert("etag", HeaderValue::from_static("\"e\""));
        }
        7 => {
            h.insert("x-custom", HeaderValue::from_static("1"));
            h.insert("x-amzn-remapped-server", HeaderValue::from_static("s"));
            h.insert(
                "date",
                HeaderValue::from_static("Mon, 07 Dec 2026 10:00:00 GMT"),
            );
            if let Some(s) = ResponseSpellings::of(["X-CuStOm", "Server"]) {
                p.extensions.insert(s);
            }
        }
        8 => {
            p.status = StatusCode::from_u16(599).unwrap();
            h.insert("content-length", HeaderValue::from_static("5"));
        }
        _ => unreachable!(),
    }
    Response::from_parts(p, body)
}
const CASES: usize = 9;

/// What hyper's server writes for `response(case)` to a request that keeps the connection
/// and then to one that closes it, as the edge's respelling writer passes it on.
async fn through_hyper(case: usize) -> Vec<u8> {
    let (mut client, server) = tokio::io::duplex(64 * 1024);
    let served = tokio::spawn(async move {
        let service =
            hyper::service::service_fn(
                move |_req| async move { Ok::<_, Infallible>(response(case)) },
            );
        let io = hyper_util::rt::TokioIo::new(server);
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(io, service)
            .await;
    });
    client
        .write_all(b"GET / HTTP/1.1\r\nhost: h\r\n\r\nGET / HTTP/1.1\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    client.read_to_end(&mut out).await.unwrap();
    served.await.unwrap();
    let spellings = response(case)
        .extensions()
        .get::<ResponseSpellings>()
        .cloned();
    // Each head as the writer sees it (no body here holds `HTTP/1.`).
    let mut at = 0;
    while let Some(i) = out[at..].windows(7).position(|w| w == b"HTTP/1.") {
        respell_head(&mut out[at + i..], spellings.as_ref());
        at += i + 7;
    }
    out
}

async fn through_edge(case: usize, close: bool) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let keep = respond(&mut out, &mut Vec::new(), response(case), close)
        .await
        .unwrap();
    (out, keep)
}

/// The one header whose value changes from one second to the next.
fn undated(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    let mut rest = &*text;
    while let Some(at) = rest.find("Date: ") {
        out.push_str(&rest[..at]);
        out.push_str("Date: *");
        rest = &rest[at + 35..];
    }
    out + rest
}

#[tokio::test]
async fn answers_are_written_as_hyper_writes_them() {
    for case in 0..CASES {
        let hyper = undated(&through_hyper(case).await);
        let (mut edge, keep) = through_edge(case, false).await;
        assert_eq!(keep, case != 5, "case {case}: connection: close ends it");
        if keep {
            let (closing, keep) = through_edge(case, true).await;
            assert!(!keep, "case {case}");
            edge.extend_from_slice(&closing);
        }
        assert_eq!(undated(&edge), hyper, "case {case}");
    }
}
