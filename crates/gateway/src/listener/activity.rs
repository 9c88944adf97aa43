//! Per-connection timeouts. A request head must be complete within the head timeout of its
//! first byte (slowloris), and a connection with no request in flight and no traffic is
//! closed after the idle timeout. hyper's own header timer starts as soon as it waits for a
//! head, so it cannot tell an idle keep-alive connection from a half-sent head: both are
//! tracked here, from the bytes read and the requests served on the connection.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

use crate::body::{BoxError, GatewayBody};
use crate::header_case::HeadCapture;

/// How long a client may take over a request head, and may stay connected doing nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub header: Duration,
    pub idle: Duration,
}

/// Why a connection is closed before its client closes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// A request head was started and not finished in time: drop the connection.
    HeadTimeout,
    /// Nothing to do for the idle timeout: close politely (HTTP/2 GOAWAY).
    Idle,
}

/// What one connection is doing. Touched only by the connection's own thread; atomics
/// because hyper wants `Send` futures, not because anything contends.
pub struct Activity {
    opened: Instant,
    in_flight: AtomicU32,
    /// Milliseconds since `opened` of the last byte read or response finished.
    last_active: AtomicU64,
    /// Milliseconds since `opened` (plus one) when the current request head began; 0: none.
    head_started: AtomicU64,
    /// HTTP/2 requests are frames on streams: the head timer applies to HTTP/1 only.
    http2: AtomicBool,
    first_read: AtomicBool,
}

impl Activity {
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity {
            opened: Instant::now(),
            in_flight: AtomicU32::new(0),
            last_active: AtomicU64::new(0),
            head_started: AtomicU64::new(0),
            http2: AtomicBool::new(false),
            first_read: AtomicBool::new(true),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn at(&self, ms: u64) -> Instant {
        self.opened + Duration::from_millis(ms)
    }

    /// Notes bytes read; says whether they start an HTTP/1 request head or continue one.
    fn bytes_read(&self, bytes: &[u8]) -> HeadBytes {
        if self.first_read.swap(false, Relaxed) && bytes.starts_with(b"PRI ") {
            self.http2.store(true, Relaxed);
        }
        let now = self.now_ms();
        self.last_active.store(now, Relaxed);
        if self.http2.load(Relaxed) {
            return HeadBytes::No;
        }
        if self.head_started.load(Relaxed) != 0 {
            return HeadBytes::More;
        }
        if self.in_flight.load(Relaxed) == 0 {
            self.head_started.store(now + 1, Relaxed);
            return HeadBytes::First;
        }
        HeadBytes::No
    }

    /// Notes bytes the edge's own HTTP/1.1 read.
    pub(super) fn read(&self, bytes: &[u8]) {
        self.bytes_read(bytes);
    }

    /// A request is being served.
    pub(super) fn busy(&self) -> bool {
        self.in_flight.load(Relaxed) != 0
    }

    /// A request head was parsed and handed to the service.
    pub fn request_started(&self) {
        self.head_started.store(0, Relaxed);
        self.in_flight.fetch_add(1, Relaxed);
    }

    pub(super) fn response_finished(&self) {
        self.in_flight.fetch_sub(1, Relaxed);
        self.last_active.store(self.now_ms(), Relaxed);
    }

    /// Resolves when the connection has outstayed one of `timeouts`.
    ///
    /// A head that starts, or a request that ends, while this sleeps is noticed at the next
    /// look, a quarter of the shorter timeout later at most: polling that rarely costs less
    /// than waking this task on every request.
    pub async fn expired(&self, timeouts: Timeouts) -> Expiry {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let look_again = ms(timeouts.header.min(timeouts.idle) / 4).max(1);
        loop {
            let now = self.now_ms();
            let head = self.head_started.load(Relaxed);
            let (deadline, expiry) = if head != 0 {
                let deadline = (head - 1).saturating_add(ms(timeouts.header));
                (deadline, Expiry::HeadTimeout)
            } else if self.in_flight.load(Relaxed) == 0 {
                let last = self.last_active.load(Relaxed);
                (last.saturating_add(ms(timeouts.idle)), Expiry::Idle)
            } else {
                // A request is being served: nothing can expire before it ends.
                (u64::MAX, Expiry::Idle)
            };
            if now >= deadline {
                return expiry;
            }
            // A head may end, or a request, before its deadline: look again (a head seen
            // in progress here once kept an idle connection open for the head timeout).
            let wake = deadline.min(now.saturating_add(look_again));
            tokio::time::sleep_until(self.at(wake)).await;
        }
    }
}

/// Whether bytes read belong to a request head.
#[derive(Clone, Copy, PartialEq, Eq)]
enum HeadBytes {
    First,
    More,
    No,
}

/// The connection's socket as hyper reads it, reporting what it reads to its [`Activity`]
/// and keeping the bytes of HTTP/1 request heads in its [`HeadCapture`]. `unread`: bytes
/// the edge's own HTTP/1.1 read and left to hyper, read first as if they had just arrived.
pub struct Watched<S> {
    inner: S,
    unread: Bytes,
    activity: Arc<Activity>,
    heads: Arc<HeadCapture>,
}

impl<S> Watched<S> {
    pub fn new(inner: S, unread: Bytes, activity: Arc<Activity>, heads: Arc<HeadCapture>) -> Self {
        Watched {
            inner,
            unread,
            activity,
            heads,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = if this.unread.is_empty() {
            Pin::new(&mut this.inner).poll_read(cx, buf)
        } else {
            let n = this.unread.len().min(buf.remaining());
            buf.put_slice(&this.unread.split_to(n));
            Poll::Ready(Ok(()))
        };
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let read = &buf.filled()[before..];
            match this.activity.bytes_read(read) {
                HeadBytes::No => {}
                head => this.heads.record(head == HeadBytes::First, read),
            }
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A response body that tells its connection when it is done (sent or abandoned), which
/// ends the request's time in flight.
pub struct Tracked {
    body: GatewayBody,
    activity: Arc<Activity>,
}

impl Tracked {
    pub fn new(body: GatewayBody, activity: Arc<Activity>) -> Self {
        Tracked { body, activity }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.activity.response_finished();
    }
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }
    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }
    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
