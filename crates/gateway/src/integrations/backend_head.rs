//! Backend response header names as the backend spelled them. hyper's client keeps names
//! lower case (its own case map is private to it), but HTTP_PROXY passes a backend's names
//! to the client as sent (`X-CuStOm-Header` stays). So each backend connection keeps a copy
//! of the response head it reads ([`Captured`], the connector's [`Capturing`] wraps every
//! connection), handed to each response through the connection's extras ([`BackendHead`]),
//! and [`into_gateway`] parses it again into the response's [`ResponseSpellings`], as
//! `h1` answers for plain-HTTP backends. Body bytes are not copied.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use http::{Response, Uri};
use hyper::body::Incoming;
use hyper::rt::{Read, ReadBuf, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};

use crate::body::GatewayBody;
use crate::error::MAX_HEAD;
use crate::response_case::ResponseSpellings;

/// Most bytes kept of one head; a longer one is not respelled.
const MAX_CAPTURE: usize = MAX_HEAD + 2048;

/// Bytes of a head read at once.
const SCRATCH: usize = 4096;

/// The head a backend connection is reading, or has last read.
#[derive(Default)]
struct Capture {
    /// A request was written since: the next bytes read start a new head.
    next_is_new: AtomicBool,
    /// Bytes read belong to a head not yet complete.
    reading: AtomicBool,
    bytes: Mutex<Vec<u8>>,
}

impl Capture {
    fn request_written(&self) {
        self.next_is_new.store(true, Relaxed);
        self.reading.store(true, Relaxed);
    }

    fn record(&self, read: &[u8]) {
        let Ok(mut bytes) = self.bytes.lock() else {
            return;
        };
        if self.next_is_new.swap(false, Relaxed) {
            bytes.clear();
        }
        let room = MAX_CAPTURE.saturating_sub(bytes.len());
        bytes.extend_from_slice(&read[..read.len().min(room)]);
        while let Some(end) = memchr::memmem::find(&bytes, b"\r\n\r\n") {
            if bytes.get(9) != Some(&b'1') {
                bytes.truncate(end + 4);
                self.reading.store(false, Relaxed);
                return;
            }
            // An interim response (100 Continue): the final head follows.
            bytes.drain(..end + 4);
        }
        if bytes.len() == MAX_CAPTURE {
            self.reading.store(false, Relaxed);
        }
    }
}

/// A backend response's handle on its connection's last head (a response extension).
#[derive(Clone)]
pub struct BackendHead(Arc<Capture>);

impl BackendHead {
    /// The response's header names spelled otherwise than lower case, or `None` when the
    /// kept head is not the response's (`status` must match) or has none.
    pub fn spellings(&self, status: u16) -> Option<ResponseSpellings> {
        let bytes = self.0.bytes.lock().ok()?;
        // `HTTP/1.x NNN ...`; the head was framed by hyper already, so its lines are only
        // split here (with memchr), not validated again.
        let code = std::str::from_utf8(bytes.get(9..12)?).ok()?;
        if !bytes.ends_with(b"\r\n\r\n") || code.parse::<u16>().ok()? != status {
            return None;
        }
        let mut at = memchr::memchr(b'\n', &bytes)? + 1;
        let names = std::iter::from_fn(|| {
            let line = &bytes[at..];
            let colon = memchr::memchr2(b':', b'\n', line)?;
            if line[colon] == b'\n' {
                return None;
            }
            at += colon + memchr::memchr(b'\n', &line[colon..])? + 1;
            std::str::from_utf8(&line[..colon]).ok()
        });
        ResponseSpellings::of(names)
    }
}

/// A hyper client response as the data plane takes a backend's answer: the body as it
/// streams, and the header names' spellings as its only extension (hyper's own are not
/// passed on), as `h1` answers.
pub fn into_gateway(resp: Response<Incoming>) -> Response<GatewayBody> {
    let (mut parts, body) = resp.into_parts();
    keep_spellings(&mut parts);
    Response::from_parts(parts, GatewayBody::Stream(body))
}

/// Replaces a response's extensions with its names' spellings, if any.
fn keep_spellings(parts: &mut http::response::Parts) {
    let spellings = parts
        .extensions
        .get::<BackendHead>()
        .and_then(|head| head.spellings(parts.status.as_u16()));
    parts.extensions = http::Extensions::new();
    if let Some(s) = spellings {
        parts.extensions.insert(s);
    }
}

/// A connector whose connections keep their response heads.
#[derive(Clone)]
pub struct Capturing<C>(pub C);

impl<C> tower_service::Service<Uri> for Capturing<C>
where
    C: tower_service::Service<Uri>,
    C::Future: Send + 'static,
{
    type Response = Captured<C::Response>;
    type Error = C::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, C::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), C::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.0.call(uri);
        Box::pin(async move {
            let inner = connecting.await?;
            Ok(Captured {
                inner,
                capture: Arc::default(),
                scratch: None,
            })
        })
    }
}

/// A backend connection keeping a copy of each response head it reads.
pub struct Captured<T> {
    inner: T,
    capture: Arc<Capture>,
    /// What a head is read through (made at the first read).
    scratch: Option<Box<[u8]>>,
}

impl<T: Connection> Connection for Captured<T> {
    fn connected(&self) -> Connected {
        self.inner
            .connected()
            .extra(BackendHead(self.capture.clone()))
    }
}

impl<T: Read + Unpin> Read for Captured<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.capture.reading.load(Relaxed) {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        // Read through a buffer of our own to see the bytes (a cursor does not show them);
        // the connection's, made once, so no read initialises one.
        let tmp = this
            .scratch
            .get_or_insert_with(|| vec![0; SCRATCH].into_boxed_slice());
        let room = buf.remaining().min(tmp.len());
        let mut own = ReadBuf::new(&mut tmp[..room]);
        let polled = Pin::new(&mut this.inner).poll_read(cx, own.unfilled());
        if let Poll::Ready(Ok(())) = polled {
            let read = own.filled();
            this.capture.record(read);
            buf.put_slice(read);
        }
        polled
    }
}

impl<T: Write + Unpin> Write for Captured<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.capture.request_written();
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.capture.request_written();
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(reads: &[&[u8]]) -> BackendHead {
        let c = Arc::new(Capture::default());
        c.request_written();
        for r in reads {
            c.record(r);
        }
        BackendHead(c)
    }

    #[test]
    fn names_keep_their_case_across_reads_after_an_interim_head() {
        let h = head(&[
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nX-CuS",
            b"tOm-Header: 1\r\ncontent-length: 2\r\n\r\nok",
        ]);
        let s = h.spellings(201).expect("one name to keep");
        assert_eq!(
            s,
            ResponseSpellings::of(["X-CuStOm-Header"]).unwrap(),
            "lower-case names need nothing"
        );
        assert!(h.spellings(200).is_none(), "another response's head");
        assert!(!h.0.reading.load(Relaxed), "the body is not copied");
        let lower = head(&[b"HTTP/1.1 200 OK\r\nx-a: 1\r\n\r\n"]);
        assert!(lower.spellings(200).is_none());
    }

    #[test]
    fn a_response_keeps_its_spellings_and_nothing_else_of_hyper_s() {
        let (mut parts, ()) = Response::new(()).into_parts();
        parts
            .extensions
            .insert(head(&[b"HTTP/1.1 200 OK\r\nX-Up: 1\r\n\r\n"]));
        parts.extensions.insert(7u8);
        keep_spellings(&mut parts);
        assert_eq!(
            parts.extensions.get::<ResponseSpellings>(),
            ResponseSpellings::of(["X-Up"]).as_ref()
        );
        assert!(parts.extensions.get::<BackendHead>().is_none());
        assert!(parts.extensions.get::<u8>().is_none());
    }
}
