//! The HTTP/1 connection's writer that respells response header names
//! ([`crate::response_case`]). hyper writes each head from a buffer of its own; the service
//! leaves the response's spellings in [`NextHead`] before hyper encodes it, and the next
//! write that starts a head (`HTTP/1.`) goes out with its names respelled. Only letters'
//! case changes, so every byte count hyper sees stays true.
//!
//! Pipelined requests could in theory let a head be written after the next response's
//! spellings were left; the worst outcome is another response's letter case on names that
//! compare equal ignoring case, which HTTP allows.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::response_case::{respell_head, ResponseSpellings};

/// A respelled head kept beyond this is freed once written (the buffer is reused
/// otherwise, so a connection allocates once).
const KEEP_CAPACITY: usize = 16 * 1024;

/// Most bytes of a head respelled: a longer head's last names keep hyper's case.
const MAX_RESPELLED: usize = 64 * 1024;

/// The spellings of the response the connection will write next.
#[derive(Default)]
pub struct NextHead(Mutex<Option<Option<ResponseSpellings>>>);

impl NextHead {
    /// The next head written is respelled with `spellings` (and AWS's own names).
    pub fn set(&self, spellings: Option<ResponseSpellings>) {
        if let Ok(mut next) = self.0.lock() {
            *next = Some(spellings);
        }
    }

    fn take(&self) -> Option<Option<ResponseSpellings>> {
        self.0.lock().ok()?.take()
    }
}

/// A connection's socket whose response heads go out respelled.
pub struct Respelled<S> {
    inner: S,
    next: Arc<NextHead>,
    /// The respelled head being written (empty: none), and how much of it is written.
    head: Vec<u8>,
    sent: usize,
}

impl<S> Respelled<S> {
    pub fn new(inner: S, next: Arc<NextHead>) -> Self {
        Respelled {
            inner,
            next,
            head: Vec::new(),
            sent: 0,
        }
    }

    /// Starts respelling when `first` (the start of a write) is a head and spellings wait.
    fn begin(&mut self, first: &[u8]) {
        if !self.head.is_empty() || !first.starts_with(b"HTTP/1.") {
            return;
        }
        let Some(spellings) = self.next.take() else {
            return;
        };
        // hyper's head is its own buffer (vectored writes) or the start of one with some
        // body after it: copy no more than a head can be.
        self.head
            .extend_from_slice(&first[..first.len().min(MAX_RESPELLED)]);
        match respell_head(&mut self.head, spellings.as_ref()) {
            (true, Some(end)) => self.head.truncate(end),
            (true, None) => {}
            (false, _) => self.head.clear(),
        }
        self.sent = 0;
    }

    /// Notes `n` bytes written, the first of them the respelled head's.
    fn written(&mut self, n: usize) {
        self.sent += n.min(self.head.len() - self.sent);
        if self.sent == self.head.len() {
            self.head.clear();
            if self.head.capacity() > KEEP_CAPACITY {
                self.head = Vec::new();
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> Respelled<S> {
    /// Writes `bufs`, their first bytes replaced by what is left of the respelled head
    /// (the same bytes but for letter case, so hyper's count of written bytes holds).
    fn write_respelled(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let Some(i) = bufs.iter().position(|b| !b.is_empty()) else {
            return Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        };
        let left = &self.head[self.sent..];
        let k = left.len().min(bufs[i].len());
        let mut out = [IoSlice::new(&[]); 8];
        out[0] = IoSlice::new(&left[..k]);
        let mut len = 1;
        // The rest of the write only once the whole head is in front of it.
        if k == left.len() {
            if bufs[i].len() > k {
                out[len] = IoSlice::new(&bufs[i][k..]);
                len += 1;
            }
            for b in &bufs[i + 1..] {
                if len == out.len() {
                    break;
                }
                out[len] = *b;
                len += 1;
            }
        }
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, &out[..len]);
        if let Poll::Ready(Ok(n)) = polled {
            self.written(n);
        }
        polled
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Respelled<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Respelled<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.begin(buf);
        if this.head.is_empty() {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        }
        this.write_respelled(cx, &[IoSlice::new(buf)])
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(first) = bufs.iter().find(|b| !b.is_empty()) {
            this.begin(first);
        }
        if this.head.is_empty() {
            return Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        }
        this.write_respelled(cx, bufs)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// A sink that takes at most `max` bytes per write, to cut heads in two.
    struct Trickle {
        out: Vec<u8>,
        max: usize,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let this = self.get_mut();
            let n = buf.len().min(this.max);
            this.out.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn heads_are_respelled_across_short_writes_and_bodies_are_not() {
        let next = Arc::new(NextHead::default());
        let mut w = Respelled::new(
            Trickle {
                out: Vec::new(),
                max: 7,
            },
            next.clone(),
        );
        let head = b"HTTP/1.1 200 OK\r\nx-custom-header: 1\r\ncontent-length: 25\r\n\r\n";
        let body = b"HTTP/1.1 200 x-custom-header";
        // No spellings left: written as it is.
        w.write_all(head).await.unwrap();
        next.set(ResponseSpellings::of(["X-CuStOm-Header"]));
        let mut both = head.to_vec();
        both.extend_from_slice(body);
        w.write_all(&both).await.unwrap();
        // The body starts like a head, but no spellings wait for it.
        w.write_all(body).await.unwrap();
        let out = String::from_utf8(w.inner.out).unwrap();
        let respelled = "HTTP/1.1 200 OK\r\nX-CuStOm-Header: 1\r\nContent-Length: 25\r\n\r\n";
        let plain = std::str::from_utf8(head).unwrap();
        let body = std::str::from_utf8(body).unwrap();
        assert_eq!(out, format!("{plain}{respelled}{body}{body}"));
    }
}
