//! A backend response body read straight from its connection by the task that sends it to
//! the client (no connection task, no channel between them); the connection goes back to
//! its thread's idle list once the body is read whole.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};

use super::pool::{self, Conn};
use super::response::Framing;
use crate::body::BoxError;

/// Bytes asked of the socket per read.
pub(super) const READ_CHUNK: usize = 16 * 1024;

/// Longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;

/// Where a body's decoding stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Decoder {
    /// Bytes still to come of a `Content-Length` body.
    Length(u64),
    ChunkSize,
    /// Bytes still to come of a chunk.
    ChunkData(u64),
    /// The line end after a chunk.
    ChunkEnd,
    Trailers,
    /// Everything until the backend closes.
    Close,
    Done,
}

/// What the buffered bytes gave.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Decoded {
    Data(Bytes),
    /// More bytes must be read.
    More,
    Done,
}

/// A body that breaks its framing.
#[derive(Debug)]
pub(super) struct Invalid(&'static str);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "backend response body: {}", self.0)
    }
}

impl std::error::Error for Invalid {}

impl Decoder {
    pub fn new(framing: Framing) -> Decoder {
        match framing {
            Framing::Empty | Framing::Length(0) => Decoder::Done,
            Framing::Length(n) => Decoder::Length(n),
            Framing::Chunked => Decoder::ChunkSize,
            Framing::Close => Decoder::Close,
        }
    }

    /// The next piece of body in `read` (consumed from it).
    pub fn decode(&mut self, read: &mut BytesMut) -> Result<Decoded, Invalid> {
        loop {
            match *self {
                Decoder::Done => return Ok(Decoded::Done),
                Decoder::Length(left) | Decoder::ChunkData(left) => {
                    if read.is_empty() {
                        return Ok(Decoded::More);
                    }
                    let n = left.min(read.len() as u64);
                    let data = read.split_to(n as usize).freeze();
                    *self = match (*self, left - n) {
                        (Decoder::Length(_), 0) => Decoder::Done,
                        (Decoder::Length(_), left) => Decoder::Length(left),
                        (_, 0) => Decoder::ChunkEnd,
                        (_, left) => Decoder::ChunkData(left),
                    };
                    return Ok(Decoded::Data(data));
                }
                Decoder::Close => {
                    if read.is_empty() {
                        return Ok(Decoded::More);
                    }
                    return Ok(Decoded::Data(read.split().freeze()));
                }
                Decoder::ChunkSize => {
                    let Some(line) = line(read)? else {
                        return Ok(Decoded::More);
                    };
                    let size = chunk_size(&line)?;
                    *self = if size == 0 {
                        Decoder::Trailers
                    } else {
                        Decoder::ChunkData(size)
                    };
                }
                Decoder::ChunkEnd => {
                    let Some(line) = line(read)? else {
                        return Ok(Decoded::More);
                    };
                    if !line.is_empty() {
                        return Err(Invalid("chunk longer than its size"));
                    }
                    *self = Decoder::ChunkSize;
                }
                Decoder::Trailers => {
                    // Trailers are read and dropped (API Gateway passes none).
                    let Some(line) = line(read)? else {
                        return Ok(Decoded::More);
                    };
                    if line.is_empty() {
                        *self = Decoder::Done;
                    }
                }
            }
        }
    }

    /// Bytes still to come, where known.
    fn remaining(&self) -> Option<u64> {
        match self {
            Decoder::Length(n) => Some(*n),
            Decoder::Done => Some(0),
            _ => None,
        }
    }
}

/// One line (without its `\r\n` or `\n`) from the start of `read`, consumed.
fn line(read: &mut BytesMut) -> Result<Option<BytesMut>, Invalid> {
    let Some(end) = memchr::memchr(b'\n', read) else {
        if read.len() > MAX_LINE {
            return Err(Invalid("line too long"));
        }
        return Ok(None);
    };
    let mut line = read.split_to(end + 1);
    line.truncate(end);
    if line.last() == Some(&b'\r') {
        line.truncate(end - 1);
    }
    Ok(Some(line))
}

/// A chunk-size line's size (extensions after `;` ignored).
fn chunk_size(line: &[u8]) -> Result<u64, Invalid> {
    let digits = line
        .split(|b| *b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    if digits.is_empty() || digits.len() > 15 {
        return Err(Invalid("invalid chunk size"));
    }
    digits.iter().try_fold(0u64, |n, b| {
        let d = (*b as char)
            .to_digit(16)
            .ok_or(Invalid("invalid chunk size"))?;
        Ok(n * 16 + u64::from(d))
    })
}

/// A backend response body still on its connection.
pub struct UpstreamBody {
    conn: Option<Conn>,
    decoder: Decoder,
    keep_alive: bool,
}

impl UpstreamBody {
    pub(super) fn new(conn: Conn, decoder: Decoder, keep_alive: bool) -> UpstreamBody {
        UpstreamBody {
            conn: Some(conn),
            decoder,
            keep_alive,
        }
    }

    /// The body is read whole: the connection is kept if it can carry another request.
    fn finish(&mut self) {
        if let Some(conn) = self.conn.take() {
            release(conn, self.keep_alive);
        }
    }
}

/// Returns a connection whose response was read whole to its idle list, unless the
/// backend said it closes it or sent bytes past the response.
pub(super) fn release(conn: Conn, keep_alive: bool) {
    if keep_alive && conn.read.is_empty() {
        pool::checkin(conn);
    }
}

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        loop {
            let Some(conn) = this.conn.as_mut() else {
                return Poll::Ready(None);
            };
            match this.decoder.decode(&mut conn.read) {
                Ok(Decoded::Data(data)) => {
                    if this.decoder == Decoder::Done {
                        this.finish();
                    }
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Ok(Decoded::Done) => {
                    this.finish();
                    return Poll::Ready(None);
                }
                Ok(Decoded::More) => {}
                Err(e) => {
                    this.conn = None;
                    return Poll::Ready(Some(Err(e.into())));
                }
            }
            make_room(&mut conn.read);
            match ready!(poll_read(conn, cx)) {
                Ok(0) if this.decoder == Decoder::Close => {
                    this.decoder = Decoder::Done;
                    this.keep_alive = false;
                }
                Ok(0) => {
                    this.conn = None;
                    return Poll::Ready(Some(Err(Invalid("connection closed early").into())));
                }
                Ok(_) => {}
                Err(e) => {
                    this.conn = None;
                    return Poll::Ready(Some(Err(e.into())));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.decoder == Decoder::Done
    }

    fn size_hint(&self) -> SizeHint {
        match self.decoder.remaining() {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}

/// Makes room in a connection's buffer for a read. Most answers are small, so one
/// allocation serves many: room is made only when little is left, and then the buffer is
/// reclaimed in place if what was read before has been dropped.
pub(crate) fn make_room(read: &mut BytesMut) {
    if read.capacity() - read.len() < READ_CHUNK / 4 {
        read.reserve(READ_CHUNK);
    }
}

/// Reads what the socket has into the connection's buffer.
fn poll_read(conn: &mut Conn, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
    loop {
        match conn.stream.try_read_buf(&mut conn.read) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                ready!(conn.stream.poll_read_ready(cx))?;
            }
            done => return Poll::Ready(done),
        }
    }
}

/// The bytes of a body that is already whole in `read`, if it is.
pub(super) fn whole(decoder: Decoder, read: &mut BytesMut) -> Option<Bytes> {
    match decoder {
        Decoder::Done => Some(Bytes::new()),
        Decoder::Length(n) if read.len() as u64 >= n => Some(read.split_to(n as usize).freeze()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(mut d: Decoder, input: &[u8]) -> Result<(Vec<u8>, Decoder, usize), Invalid> {
        let mut read = BytesMut::from(input);
        let mut out = Vec::new();
        loop {
            match d.decode(&mut read)? {
                Decoded::Data(b) => out.extend_from_slice(&b),
                Decoded::More | Decoded::Done => return Ok((out, d, read.len())),
            }
        }
    }

    #[test]
    fn chunked_bodies_decode_with_extensions_and_trailers() {
        let (out, d, left) = decode_all(
            Decoder::ChunkSize,
            b"4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nx-t: 1\r\n\r\n",
        )
        .unwrap();
        assert_eq!(out, b"Wikipedia in\r\n\r\nchunks.");
        assert_eq!(d, Decoder::Done);
        assert_eq!(left, 0);
    }

    #[test]
    fn chunked_bodies_decode_across_reads() {
        let input = b"3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n";
        for split in 1..input.len() {
            let mut d = Decoder::ChunkSize;
            let mut read = BytesMut::from(&input[..split]);
            let mut out = Vec::new();
            let mut fed = false;
            loop {
                match d.decode(&mut read).unwrap() {
                    Decoded::Data(b) => out.extend_from_slice(&b),
                    Decoded::More if !fed => {
                        read.extend_from_slice(&input[split..]);
                        fed = true;
                    }
                    Decoded::More => panic!("stuck at {split}"),
                    Decoded::Done => break,
                }
            }
            assert_eq!(out, b"abc0123456789abcdef", "split at {split}");
        }
    }

    #[test]
    fn bad_chunks_are_refused() {
        assert!(decode_all(Decoder::ChunkSize, b"zz\r\n").is_err());
        assert!(decode_all(Decoder::ChunkSize, b"2\r\nabc\r\n").is_err());
        assert!(decode_all(Decoder::ChunkSize, b"ffffffffffffffff\r\n").is_err());
        assert!(decode_all(Decoder::ChunkSize, &[b'1'; MAX_LINE + 1]).is_err());
    }

    #[test]
    fn a_length_body_stops_at_its_length() {
        let (out, d, left) = decode_all(Decoder::Length(3), b"abcdef").unwrap();
        assert_eq!((out.as_slice(), d, left), (&b"abc"[..], Decoder::Done, 3));
        let mut read = BytesMut::from(&b"abcd"[..]);
        assert_eq!(whole(Decoder::Length(4), &mut read).unwrap(), "abcd");
        assert!(whole(Decoder::Length(5), &mut BytesMut::from(&b"abcd"[..])).is_none());
    }
}
