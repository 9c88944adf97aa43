//! A worker's stdout and stderr, read line by line into the function log and the
//! invocation's tail. Every buffer is bounded: a line longer than Lambda's 256 KB log event
//! is cut there (the rest, up to its newline, is dropped and counted), and the tail keeps
//! only the end that `LogType: Tail` returns.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, BufReader};

use crate::logs::{Dropped, LogWriter, MAX_LINE};

/// How much of an invocation's log `LogType: Tail` returns (Lambda: the last 4 KB).
pub const TAIL: usize = 4 * 1024;

static TRUNCATED: Dropped = Dropped::new("function log lines longer than 256 KB truncated");

/// Reads lines of at most `max` bytes; the rest of a longer line is skipped.
struct LineReader<R> {
    inner: R,
    max: usize,
    /// Inside a line that was already cut: drop bytes up to its newline.
    skipping: bool,
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    /// The next line (with its newline when it had one and fit) into `line`; false at the
    /// end of the stream.
    async fn next(&mut self, line: &mut Vec<u8>) -> std::io::Result<bool> {
        line.clear();
        loop {
            let buf = self.inner.fill_buf().await?;
            if buf.is_empty() {
                return Ok(!line.is_empty());
            }
            let newline = buf.iter().position(|b| *b == b'\n');
            let end = newline.map_or(buf.len(), |i| i + 1);
            if self.skipping {
                // Still inside a line that was cut: drop up to its end.
                self.skipping = newline.is_none();
                self.inner.consume(end);
                continue;
            }
            let room = self.max - line.len();
            if end > room {
                // Too long: the line so far goes out now, the rest of it is dropped.
                line.extend_from_slice(&buf[..room]);
                self.inner.consume(room);
                self.skipping = true;
                TRUNCATED.add();
                return Ok(true);
            }
            line.extend_from_slice(&buf[..end]);
            self.inner.consume(end);
            if newline.is_some() {
                return Ok(true);
            }
        }
    }
}

/// Keeps the last [`TAIL`] bytes (at least) of what is pushed, on a char boundary.
pub fn push_tail(tail: &mut String, text: &str) {
    tail.push_str(text);
    // Trimmed in batches so each byte is moved at most a few times.
    if tail.len() > 2 * TAIL {
        let mut cut = tail.len() - TAIL;
        while !tail.is_char_boundary(cut) {
            cut -= 1;
        }
        tail.drain(..cut);
    }
}

/// Forwards a worker's output stream, line by line, to the function log and, while an
/// invocation asked for it, to `tail`.
pub fn pump<R: AsyncRead + Unpin + Send + 'static>(
    stream: R,
    logs: LogWriter,
    function: Arc<str>,
    tail: Arc<Mutex<Option<String>>>,
) {
    tokio::spawn(async move {
        let mut reader = LineReader {
            inner: BufReader::new(stream),
            max: MAX_LINE,
            skipping: false,
        };
        let mut line = Vec::with_capacity(256);
        while let Ok(true) = reader.next(&mut line).await {
            if let Some(t) = tail.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
                push_tail(t, &String::from_utf8_lossy(&line));
            }
            logs.line(&function, line.clone());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], max: usize) -> Vec<Vec<u8>> {
        let mut r = LineReader {
            inner: input,
            max,
            skipping: false,
        };
        let mut out = Vec::new();
        let mut line = Vec::new();
        while r.next(&mut line).await.unwrap() {
            out.push(line.clone());
        }
        out
    }

    #[tokio::test]
    async fn long_lines_are_cut_and_the_rest_dropped() {
        let mut input = b"short\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 100));
        input.extend(b"\nnext\nlast");
        let got = lines(&input, 10).await;
        assert_eq!(
            got,
            [&b"short\n"[..], b"xxxxxxxxxx", b"next\n", b"last"].map(<[u8]>::to_vec)
        );
        // A line with no newline at all is still cut (and the stream ends).
        let got = lines(&[b'y'; 1000], 10).await;
        assert_eq!(got, [b"yyyyyyyyyy".to_vec()]);
    }

    #[test]
    fn the_tail_keeps_the_end() {
        let mut t = String::new();
        for i in 0..10_000 {
            push_tail(&mut t, &format!("line {i} é\n"));
            assert!(t.len() <= 2 * TAIL + 20);
        }
        assert!(t.ends_with("line 9999 é\n"));
        assert!(t.len() >= TAIL);
    }
}
