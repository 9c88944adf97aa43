//! HTTP/1.1 served by the edge itself (issue 18), for the requests that make up a data
//! plane's traffic: HTTP/1.1 requests with no body or a small one of declared length, to a
//! deployed API. hyper's server reads every request into a buffer of its own, hands it to
//! the service through its dispatcher and writes the answer through a writer of its own,
//! and the edge wraps the socket twice around it (the head's bytes copied for the names'
//! case, the answer's names respelled in its buffer). Here the connection's task reads
//! the head with `httparse` into a buffer the connection keeps (header values are slices
//! of it), runs the pipeline, and writes the answer's head (respelled in its own buffer)
//! with the body in one `writev`.
//!
//! Anything else hands the connection to hyper with the bytes read and not served
//! ([`Outcome::Handoff`]): HTTP/2, HTTP/1.0, upgrades (WebSocket), `Expect`, chunked and
//! large bodies or one not all in the socket with its head, `HEAD` and `CONNECT`,
//! malformed heads (hyper's own 400 and 431), the control plane and the developer portal. hyper then serves the connection as it did
//! before this path existed.

mod encode;
mod head;
#[cfg(test)]
mod tests;

use std::io;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::FutureExt;
use http::Response;
use http_body_util::BodyExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

use super::activity::Activity;
use super::{route, Client, Route, Shared, Transport, MAX_READ_BUFFER};
use crate::body::GatewayBody;
use crate::header_case::{HeadCapture, RawHead};
use crate::integrations::h1::{make_room, write_slices};
use crate::response_case::ResponseSpellings;
use encode::Framing;
use head::Parsed;

/// How the edge's own serving of a connection ended.
pub enum Outcome<S> {
    /// The connection is done with (closed by either side, or broken).
    Closed,
    /// hyper's from here on, the bytes read and not yet served first (`Watched` gives
    /// them to hyper before any more).
    Handoff(S, Bytes),
}

/// The connection as its requests see it.
pub struct Peer<'c> {
    pub role: super::Role,
    pub shared: &'c Shared,
    pub remote: std::net::SocketAddr,
    pub transport: &'c Transport,
    pub activity: &'c Activity,
    /// Where the head of the request being served is kept (its names' case).
    pub heads: &'c Arc<HeadCapture>,
    /// Set when the server drains: the connection closes after the answer in flight.
    pub stop: &'c watch::Receiver<bool>,
}

/// Serves `stream`'s requests until it closes or one is hyper's.
pub async fn serve<S>(mut stream: S, peer: Peer<'_>) -> Outcome<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut read = BytesMut::new();
    let mut write = Vec::new();
    let mut scratch = head::Scratch::new();
    loop {
        let whole = loop {
            match head::parse(&mut read, &mut scratch) {
                Parsed::Request(whole) => break whole,
                Parsed::Other => return Outcome::Handoff(stream, read.freeze()),
                Parsed::Partial if read.len() >= MAX_READ_BUFFER => {
                    return Outcome::Handoff(stream, read.freeze())
                }
                Parsed::NeedBody(total) => {
                    // The rest of a small body is most often in the socket already. If it
                    // is not, hyper streams it, so a body that stalls is answered as it
                    // always was (408 after the stall timeout).
                    read.reserve(total - read.len());
                    let before = read.len();
                    match stream.read_buf(&mut read).now_or_never() {
                        Some(Ok(n)) if n > 0 => {
                            peer.activity.read(&read[before..]);
                            continue;
                        }
                        Some(Err(_)) => return Outcome::Closed,
                        _ => return Outcome::Handoff(stream, read.freeze()),
                    }
                }
                Parsed::Partial => {}
            }
            make_room(&mut read);
            let before = read.len();
            match stream.read_buf(&mut read).await {
                Ok(0) if read.is_empty() => return Outcome::Closed,
                // A head or body cut short: hyper's answer to it, as before.
                Ok(0) => return Outcome::Handoff(stream, read.freeze()),
                Ok(_) => peer.activity.read(&read[before..]),
                Err(_) => return Outcome::Closed,
            }
        };
        let head::Whole {
            request,
            head,
            close,
        } = *whole;
        peer.heads.record(true, &head);
        let from = Client {
            remote: peer.remote,
            transport: peer.transport.clone(),
            raw_head: Some(RawHead(peer.heads.clone())),
        };
        let gateway = &peer.shared.gateway;
        let runtime = gateway.runtime.load();
        let resp = match route(peer.role, &runtime, request, from) {
            Route::Api(inbound) => {
                peer.activity.request_started();
                // Boxed: the pipeline's future is kilobytes; the loop's stays small.
                Box::pin(gateway.serve(inbound)).await
            }
            Route::Answer(resp) => {
                peer.activity.request_started();
                resp
            }
            Route::Control(req) => {
                let mut replay = BytesMut::from(&head[..]);
                replay.extend_from_slice(req.body());
                replay.extend_from_slice(&read);
                return Outcome::Handoff(stream, replay.freeze());
            }
        };
        drop(runtime);
        let close = close || *peer.stop.borrow();
        let written = respond(&mut stream, &mut write, resp, close).await;
        peer.activity.response_finished();
        match written {
            Ok(true) => {}
            Ok(_) => {
                let _ = stream.shutdown().await;
                return Outcome::Closed;
            }
            Err(_) => return Outcome::Closed,
        }
    }
}

/// Writes `resp`; answers whether the connection may serve another request.
async fn respond<S>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    resp: Response<GatewayBody>,
    close: bool,
) -> io::Result<bool>
where
    S: AsyncWrite + Unpin,
{
    let (parts, mut body) = resp.into_parts();
    let length = if http_body::Body::is_end_stream(&body) {
        None
    } else {
        Some(http_body::Body::size_hint(&body).exact())
    };
    let spellings = parts.extensions.get::<ResponseSpellings>();
    let Ok(encoded) = encode::head(buf, &parts, length, close, spellings) else {
        // hyper drops the connection over a head it cannot write.
        return Ok(false);
    };
    let (chunked, mut left) = match encoded.framing {
        Framing::Chunked => (true, u64::MAX),
        Framing::Length(n) => (false, n),
    };
    let mut head: &[u8] = buf;
    while chunked || left > 0 {
        // The head goes out at once when the body is not ready (a backend still sending).
        let frame = match body.frame().now_or_never() {
            Some(frame) => frame,
            None => {
                stream.write_all(std::mem::take(&mut head)).await?;
                stream.flush().await?;
                body.frame().await
            }
        };
        let Some(frame) = frame else { break };
        let Ok(data) = frame.map_err(io::Error::other)?.into_data() else {
            continue; // trailers: HTTP/1.1 answers here carry none
        };
        if data.is_empty() {
            continue;
        }
        if chunked {
            let mut size = ChunkSize::default();
            write_slices(stream, [head, size.of(data.len()), &data, b"\r\n"]).await?;
        } else {
            let n = data.len() as u64;
            if n > left {
                return Err(io::Error::other("body longer than its length"));
            }
            left -= n;
            write_slices(stream, [head, &data]).await?;
        }
        head = &[];
    }
    if chunked {
        write_slices(stream, [head, b"0\r\n\r\n"]).await?;
    } else if !head.is_empty() {
        stream.write_all(head).await?;
    }
    stream.flush().await?;
    // A body that ended short of its length leaves the client waiting: close.
    Ok(!encoded.last && (chunked || left == 0))
}

/// A chunk's size line, written without formatting (upper-case hex, as hyper writes it).
#[derive(Default)]
struct ChunkSize([u8; 18]);

impl ChunkSize {
    fn of(&mut self, n: usize) -> &[u8] {
        let digits = (usize::BITS - n.leading_zeros()).div_ceil(4).max(1) as usize;
        for i in 0..digits {
            let nibble = (n >> (4 * (digits - 1 - i))) & 0xf;
            self.0[i] = b"0123456789ABCDEF"[nibble];
        }
        self.0[digits] = b'\r';
        self.0[digits + 1] = b'\n';
        &self.0[..digits + 2]
    }
}
