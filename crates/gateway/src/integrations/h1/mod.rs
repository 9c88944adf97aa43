//! HTTP/1.1 to plain `http://` backends, written for the proxy path (issue 18). hyper's
//! client runs each connection as a task of its own and hands every request and response
//! between that task and the request's through channels: two task wake-ups and several
//! allocations per request. Here the request's own task writes the head (one `write`, or
//! one `writev` with a buffered body), reads the response head with `httparse` into a
//! buffer the connection keeps, and the response body is read from the socket by whoever
//! polls it ([`UpstreamBody`]); a body already whole with its head is answered as bytes
//! and the connection goes back to its thread's idle list at once. `https://` backends
//! and VPC links stay on hyper's client ([`super::http::HttpClient`]).
//!
//! Request framing follows what hyper's client did, so backends see the same requests:
//! a `Content-Length` the request has is kept, a body of known size gets one, any other
//! body is chunked, and a `GET`, `HEAD` or `CONNECT` with a body of unknown size sends none.

mod body;
mod pool;
mod response;
#[cfg(test)]
mod tests;

pub(crate) use body::make_room;
pub use body::UpstreamBody;

use std::io::{self, IoSlice, Write as _};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, Method, Response, Uri};
use http_body::Body;
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tollgate_model::GatewayResponseType as T;

use crate::body::GatewayBody;
use crate::error::GatewayError;
use crate::pipeline::integration_request::BackendRequest;
use crate::pipeline::respond::NameRule;
use body::Decoder;
use pool::Conn;
use response::Head;

/// The request body as it will be written.
enum Outgoing {
    Empty,
    /// Whole already: written with the head, and again if a stale connection is retried.
    Bytes(Bytes),
    /// Streamed from the client; `chunked` when its size is not declared.
    Stream {
        body: GatewayBody,
        chunked: bool,
    },
}

impl Outgoing {
    /// `declared`: the request head has a `Content-Length`.
    fn of(body: GatewayBody, method: &Method, declared: bool) -> Outgoing {
        if body.is_end_stream() {
            return Outgoing::Empty;
        }
        if let GatewayBody::Full(mut full) = body {
            // A `Full` answers its one frame at once.
            let mut cx = Context::from_waker(Waker::noop());
            return match Pin::new(&mut full).poll_frame(&mut cx) {
                Poll::Ready(Some(Ok(f))) => f.into_data().map_or(Outgoing::Empty, Outgoing::Bytes),
                _ => Outgoing::Empty,
            };
        }
        let declared = declared || body.size_hint().exact().is_some();
        if !declared && matches!(*method, Method::GET | Method::HEAD | Method::CONNECT) {
            return Outgoing::Empty;
        }
        Outgoing::Stream {
            body,
            chunked: !declared,
        }
    }

    fn replayable(&self) -> bool {
        !matches!(self, Outgoing::Stream { .. })
    }
}

/// Why an exchange failed.
enum Failed {
    /// A reused connection failed before the backend answered anything: it had closed it.
    Stale,
    Io(io::Error),
    Malformed(&'static str),
    /// The client's body passed the 10 MB limit.
    TooLarge,
    ClientBody,
}

impl From<Failed> for GatewayError {
    fn from(f: Failed) -> GatewayError {
        let why = match f {
            Failed::TooLarge => return GatewayError::too_large(),
            Failed::Stale => "connection closed by the backend".to_string(),
            Failed::Io(e) => e.to_string(),
            Failed::Malformed(m) => m.to_string(),
            Failed::ClientBody => "client request body failed".to_string(),
        };
        tracing::info!(error = %why, "integration request failed");
        GatewayError::new(T::IntegrationFailure, "Internal server error")
    }
}

/// A request whose head the pipeline wrote itself (REST `HTTP_PROXY`:
/// [`crate::pipeline::proxy_head`]), with no `Uri` or `HeaderMap` made for it.
pub struct WrittenRequest {
    pub method: Method,
    /// The backend's `host[:port]`, as the integration URI has it.
    pub authority: String,
    /// The request line and header lines, `Host` among them, but for the body's framing.
    pub lines: Vec<u8>,
    /// A `content-length` line is among `lines`.
    pub content_length: bool,
    pub body: GatewayBody,
}

/// Sends `req` to its `http://` backend and answers once the response head is read (the
/// body streams). With a `rule`, the answer's headers are a proxy's, named by it
/// ([`crate::pipeline::respond::proxy_response_by`]).
pub async fn exchange(
    req: BackendRequest,
    rule: Option<NameRule>,
) -> Result<Response<GatewayBody>, GatewayError> {
    let BackendRequest {
        method,
        uri,
        headers,
        body,
    } = req;
    let authority = uri.authority().ok_or_else(invalid_address)?;
    let out = Outgoing::of(body, &method, headers.contains_key(CONTENT_LENGTH));
    let head = |buf: &mut Vec<u8>, out: &Outgoing| write_head(buf, &method, &uri, &headers, out);
    send(&method, authority.as_str(), out, rule, head).await
}

/// [`exchange`] of a request whose head is written already.
pub async fn exchange_written(
    req: WrittenRequest,
    rule: Option<NameRule>,
) -> Result<Response<GatewayBody>, GatewayError> {
    let WrittenRequest {
        method,
        authority,
        lines,
        content_length,
        body,
    } = req;
    let out = Outgoing::of(body, &method, content_length);
    let head = |buf: &mut Vec<u8>, out: &Outgoing| {
        buf.clear();
        buf.extend_from_slice(&lines);
        write_framing(buf, out, content_length);
    };
    send(&method, &authority, out, rule, head).await
}

/// Sends a request to `authority` (`host[:port]`), its head written by `head`, on an idle
/// connection or a new one.
async fn send(
    method: &Method,
    authority: &str,
    mut out: Outgoing,
    rule: Option<NameRule>,
    head: impl Fn(&mut Vec<u8>, &Outgoing),
) -> Result<Response<GatewayBody>, GatewayError> {
    // Stale idle connections are dropped and the next one tried; a new one is never stale.
    loop {
        let mut conn = match pool::checkout(authority) {
            Some(conn) => conn,
            // Boxed, as is a streamed body's writing: rare, and inline their futures would
            // size the exchange's box, allocated for every request.
            None => Box::pin(connect(authority)).await?,
        };
        head(&mut conn.write, &out);
        match round_trip(&mut conn, method, &mut out, rule).await {
            Ok(head) => return Ok(respond(conn, head)),
            Err(Failed::Stale) if out.replayable() => continue,
            Err(f) => return Err(f.into()),
        }
    }
}

/// A new connection to `authority`.
async fn connect(authority: &str) -> Result<Conn, GatewayError> {
    let parsed: http::uri::Authority = authority.parse().map_err(|_| invalid_address())?;
    let port = parsed.port_u16().unwrap_or(80);
    Conn::connect(authority, parsed.host(), port)
        .await
        .map_err(|e| {
            tracing::info!(error = %e, "integration request failed");
            invalid_address()
        })
}

/// No connection to be had (the name does not resolve, nothing listens): AWS calls such an
/// integration's address invalid, a configuration error (recorded).
fn invalid_address() -> GatewayError {
    GatewayError::internal().with_log_detail("Invalid endpoint address")
}

fn write_head(buf: &mut Vec<u8>, method: &Method, uri: &Uri, headers: &HeaderMap, out: &Outgoing) {
    buf.clear();
    buf.extend_from_slice(method.as_str().as_bytes());
    buf.push(b' ');
    // Origin form: an empty path is `/` (`http://host?q` asks for `/?q`).
    match uri.path() {
        "" => buf.push(b'/'),
        path => buf.extend_from_slice(path.as_bytes()),
    }
    if let Some(q) = uri.query() {
        buf.push(b'?');
        buf.extend_from_slice(q.as_bytes());
    }
    buf.extend_from_slice(b" HTTP/1.1\r\n");
    if !headers.contains_key(HOST) {
        if let Some(a) = uri.authority() {
            // As hyper's client wrote it: the port only when not the default.
            buf.extend_from_slice(b"host: ");
            buf.extend_from_slice(host_header(a).as_bytes());
            buf.extend_from_slice(b"\r\n");
        }
    }
    let chunked = matches!(out, Outgoing::Stream { chunked: true, .. });
    for (name, value) in headers {
        if name == TRANSFER_ENCODING || (chunked && name == CONTENT_LENGTH) {
            continue;
        }
        buf.extend_from_slice(name.as_str().as_bytes());
        buf.extend_from_slice(b": ");
        buf.extend_from_slice(value.as_bytes());
        buf.extend_from_slice(b"\r\n");
    }
    write_framing(buf, out, headers.contains_key(CONTENT_LENGTH));
}

/// The body's framing lines (`declared`: the head has a `Content-Length`) and the blank
/// line that ends the head.
fn write_framing(buf: &mut Vec<u8>, out: &Outgoing, declared: bool) {
    match out {
        Outgoing::Bytes(b) if !declared => {
            let _ = write!(buf, "content-length: {}\r\n", b.len());
        }
        Outgoing::Stream { body, chunked } => {
            if *chunked {
                buf.extend_from_slice(b"transfer-encoding: chunked\r\n");
            } else if let (Some(n), false) = (body.size_hint().exact(), declared) {
                let _ = write!(buf, "content-length: {n}\r\n");
            }
        }
        _ => {}
    }
    buf.extend_from_slice(b"\r\n");
}

/// The `Host` header for `a`: its host and port, the port only when not 80 (`Authority`'s
/// own `host()` and `port()` each search the text again, several hundred instructions).
fn host_header(a: &http::uri::Authority) -> std::borrow::Cow<'_, str> {
    let text = a.as_str();
    if text.contains('@') {
        let port = a.port_u16().filter(|p| *p != 80);
        return match port {
            Some(port) => format!("{}:{port}", a.host()).into(),
            None => a.host().into(),
        };
    }
    text.strip_suffix(":80").unwrap_or(text).into()
}

/// Writes the request and reads the response head.
async fn round_trip(
    conn: &mut Conn,
    method: &Method,
    out: &mut Outgoing,
    rule: Option<NameRule>,
) -> Result<Head, Failed> {
    let Conn {
        stream,
        read,
        write,
        reused,
        names,
        ..
    } = conn;
    let stale = |e: io::Error| {
        if *reused {
            Failed::Stale
        } else {
            Failed::Io(e)
        }
    };
    match out {
        Outgoing::Empty => stream.write_all(write).await.map_err(stale)?,
        Outgoing::Bytes(b) => write_slices(stream, [write, b]).await.map_err(stale)?,
        Outgoing::Stream { body, chunked } => {
            stream.write_all(write).await.map_err(stale)?;
            Box::pin(stream_body(stream, body, *chunked)).await?;
        }
    }
    let mut answered = false;
    loop {
        if !read.is_empty() {
            if let Some(head) =
                response::parse(read, method, names, rule).map_err(|m| Failed::Malformed(m.0))?
            {
                return Ok(head);
            }
        }
        body::make_room(read);
        let got = match stream.read_buf(read).await {
            Ok(0) => Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
            got => got,
        };
        match got {
            Ok(_) => answered = true,
            // Nothing came back on a reused connection: the backend had closed it. Only
            // a request that may be repeated is sent again.
            Err(_) if *reused && !answered && method.is_idempotent() => return Err(Failed::Stale),
            Err(e) => return Err(Failed::Io(e)),
        }
    }
}

/// Streams the client's body to the backend, in chunks when its size is not declared.
async fn stream_body(
    stream: &mut TcpStream,
    body: &mut GatewayBody,
    chunked: bool,
) -> Result<(), Failed> {
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                Failed::TooLarge
            } else {
                Failed::ClientBody
            }
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if data.is_empty() {
            continue;
        }
        let sent = if chunked {
            let size = format!("{:x}\r\n", data.len());
            write_slices(stream, [size.as_bytes(), &data, b"\r\n"]).await
        } else {
            stream.write_all(&data).await
        };
        sent.map_err(Failed::Io)?;
    }
    if chunked {
        stream.write_all(b"0\r\n\r\n").await.map_err(Failed::Io)?;
    }
    Ok(())
}

/// Writes `parts` whole, as few system calls as the socket takes.
pub(crate) async fn write_slices<W, const N: usize>(
    stream: &mut W,
    parts: [&[u8]; N],
) -> io::Result<()>
where
    W: tokio::io::AsyncWrite + Unpin,
{
    let mut slices = parts.map(IoSlice::new);
    let mut left: &mut [IoSlice<'_>] = &mut slices;
    IoSlice::advance_slices(&mut left, 0);
    while !left.is_empty() {
        let n = stream.write_vectored(left).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut left, n);
    }
    Ok(())
}

/// The response: a body already read whole is answered as bytes and the connection kept
/// at once; any other is read from the connection as it is sent on.
fn respond(mut conn: Conn, head: Head) -> Response<GatewayBody> {
    let decoder = Decoder::new(head.framing);
    let body = match body::whole(decoder, &mut conn.read) {
        Some(bytes) => {
            body::release(conn, head.keep_alive);
            GatewayBody::from_bytes(bytes)
        }
        None => GatewayBody::Upstream(Box::new(UpstreamBody::new(conn, decoder, head.keep_alive))),
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = head.status;
    *resp.headers_mut() = head.headers;
    if let Some(s) = head.spellings {
        resp.extensions_mut().insert(s);
    }
    resp
}
