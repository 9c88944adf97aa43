//! Response heads as hyper's HTTP/1.1 server writes them, for the requests the edge's own
//! path serves (HTTP/1.1, neither `HEAD` nor `CONNECT`): the same status line, the same
//! framing headers added or kept, `date` last; each name spelled as it is written, as the
//! hyper path's writer respells them ([`crate::response_case::respell_head`]). A test serves
//! the same responses through hyper and compares the bytes.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{CONNECTION, CONTENT_LENGTH, DATE, TRAILER, TRANSFER_ENCODING};
use http::response::Parts;
use http::{StatusCode, Version};

use super::head::{content_length, has_token};
use crate::response_case::{respell_name, ResponseSpellings};

/// How the body follows the head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Exactly this many bytes (0: no body, whatever the body holds).
    Length(u64),
    Chunked,
}

/// What the response's head says of what follows it.
#[derive(Debug, PartialEq, Eq)]
pub struct Encoded {
    pub framing: Framing,
    /// The connection closes after this response (`connection: close` in it).
    pub last: bool,
}

/// Why a head cannot be written (as hyper refuses it: the connection is dropped).
#[derive(Debug)]
pub struct Refused;

/// The body's length as the head is written: `None` for no body at all, `Some(None)` for
/// one of unknown size.
pub type BodyLength = Option<Option<u64>>;

/// Writes `parts`' head into `dst` (cleared first); `close`: the connection closes after
/// it (the client asked, or the server drains), which hyper says in `connection`.
pub fn head(
    dst: &mut Vec<u8>,
    parts: &Parts,
    body: BodyLength,
    close: bool,
    spellings: Option<&ResponseSpellings>,
) -> Result<Encoded, Refused> {
    dst.clear();
    let status = parts.status;
    if status.is_informational() {
        // Only upgrades answer 101, and those are hyper's.
        return Err(Refused);
    }
    status_line(dst, parts.version, status);
    let bodiless = status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED;
    let mut framing = None;
    let mut last = false;
    let mut wrote_date = false;
    let mut known_len: Option<u64> = None;
    let mut prev: Option<&http::HeaderName> = None;
    // What ends the line of the name before: hyper ends a `transfer-encoding` whose last
    // coding is not `chunked` with one, and a `connection` with `close` when the
    // connection closes after this answer.
    let mut suffix: Option<&[u8]> = None;
    let mut saw_connection = false;
    for (name, value) in &parts.headers {
        let repeat = prev == Some(name);
        prev = Some(name);
        if !repeat {
            end_line(dst, suffix.take());
        }
        match *name {
            CONTENT_LENGTH => {
                match body {
                    Some(Some(n)) if !repeat => framing = Some(Framing::Length(n)),
                    Some(None) => {
                        let n = content_length(value.as_bytes()).ok_or(Refused)?;
                        match known_len {
                            Some(k) if k != n => return Err(Refused),
                            Some(_) => continue,
                            None => {
                                known_len = Some(n);
                                framing = Some(Framing::Length(n));
                            }
                        }
                    }
                    // A declared length with no body is dropped; repeats of a known one too.
                    _ => continue,
                }
                if repeat {
                    continue;
                }
            }
            TRANSFER_ENCODING | TRAILER if bodiless => continue,
            TRANSFER_ENCODING => {
                if framing.is_some() && !repeat {
                    return Err(Refused);
                }
                framing = Some(Framing::Chunked);
                suffix = (!last_is_chunked(value.as_bytes())).then_some(b", chunked");
            }
            CONNECTION => {
                saw_connection = true;
                last |= has_token(value.as_bytes(), b"close");
                suffix = (close && !last).then_some(b", close");
            }
            DATE => wrote_date = true,
            _ => {}
        }
        if repeat && matches!(*name, TRANSFER_ENCODING | CONNECTION | TRAILER) {
            // hyper folds these into one line.
            dst.truncate(dst.len() - 2);
            dst.extend_from_slice(b", ");
        } else {
            spelled(dst, name.as_str().as_bytes(), spellings);
            dst.extend_from_slice(b": ");
        }
        dst.extend_from_slice(value.as_bytes());
        dst.extend_from_slice(b"\r\n");
    }
    end_line(dst, suffix);
    if close && !saw_connection {
        spelled(dst, b"connection", spellings);
        dst.extend_from_slice(b": close\r\n");
    }
    last |= close;
    let framing = match framing {
        Some(f) => f,
        None => match body {
            Some(None) if !bodiless => {
                spelled(dst, b"transfer-encoding", spellings);
                dst.extend_from_slice(b": chunked\r\n");
                Framing::Chunked
            }
            Some(Some(n)) if n > 0 => {
                if !bodiless {
                    spelled(dst, b"content-length", spellings);
                    dst.extend_from_slice(b": ");
                    dst.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
                    dst.extend_from_slice(b"\r\n");
                }
                Framing::Length(n)
            }
            _ => {
                if !bodiless {
                    spelled(dst, b"content-length", spellings);
                    dst.extend_from_slice(b": 0\r\n");
                }
                Framing::Length(0)
            }
        },
    };
    if !wrote_date {
        spelled(dst, b"date", spellings);
        dst.extend_from_slice(b": ");
        date(dst);
        dst.extend_from_slice(b"\r\n");
    }
    dst.extend_from_slice(b"\r\n");
    Ok(Encoded {
        framing: if bodiless {
            Framing::Length(0)
        } else {
            framing
        },
        last,
    })
}

fn status_line(dst: &mut Vec<u8>, version: Version, status: StatusCode) {
    if version != Version::HTTP_10 && status == StatusCode::OK {
        dst.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        return;
    }
    dst.extend_from_slice(if version == Version::HTTP_10 {
        b"HTTP/1.0 "
    } else {
        b"HTTP/1.1 "
    });
    dst.extend_from_slice(status.as_str().as_bytes());
    dst.push(b' ');
    dst.extend_from_slice(status.canonical_reason().unwrap_or("<none>").as_bytes());
    dst.extend_from_slice(b"\r\n");
}

/// Appends `name` (lower case) as the answer spells it ([`respell_name`]): respelled as it
/// is written, so the head is not scanned again for its names.
fn spelled(dst: &mut Vec<u8>, name: &[u8], spellings: Option<&ResponseSpellings>) {
    let at = dst.len();
    dst.extend_from_slice(name);
    respell_name(&mut dst[at..], spellings);
}

/// Ends the line just written with `suffix`.
fn end_line(dst: &mut Vec<u8>, suffix: Option<&[u8]>) {
    if let Some(suffix) = suffix {
        dst.truncate(dst.len() - 2);
        dst.extend_from_slice(suffix);
        dst.extend_from_slice(b"\r\n");
    }
}

fn last_is_chunked(v: &[u8]) -> bool {
    v.rsplit(|b| *b == b',')
        .next()
        .is_some_and(|t| t.trim_ascii().eq_ignore_ascii_case(b"chunked"))
}

thread_local! {
    /// The `date` value of the current second (formatting one per response would cost more
    /// than the rest of the head).
    static NOW: RefCell<(u64, [u8; 29])> = const { RefCell::new((0, [0; 29])) };
}

/// Appends the current time as an HTTP date.
fn date(dst: &mut Vec<u8>) {
    let now = SystemTime::now();
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    NOW.with(|d| {
        let mut d = d.borrow_mut();
        if d.0 != secs || d.1[0] == 0 {
            let text = httpdate::fmt_http_date(now);
            if text.len() == 29 {
                d.1.copy_from_slice(text.as_bytes());
                d.0 = secs;
            } else {
                dst.extend_from_slice(text.as_bytes());
                return;
            }
        }
        dst.extend_from_slice(&d.1);
    });
}
