//! Request heads read by the edge's own HTTP/1.1 path: `httparse`, values kept as slices of
//! the connection's buffer (no copies), and the one decision of what this path serves. A
//! head it does not serve ([`Parsed::Other`]) is left in the buffer for hyper, which
//! answers it exactly as it did before this path existed.

use std::mem::MaybeUninit;
use std::ops::Range;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Uri, Version};

/// Most headers a request may have (hyper's default; more is hyper's 431).
const MAX_HEADERS: usize = 100;

/// The largest body read whole before the request is served: bodies of API calls are
/// small, and one of this size arrives with its head or a read or two after it. A larger
/// or unframed (chunked) body is streamed by hyper.
pub const MAX_WHOLE_BODY: usize = 64 * 1024;

/// What the bytes read so far hold.
pub enum Parsed {
    /// Not a whole head yet.
    Partial,
    /// A whole head whose body has `total` bytes with its head; fewer have arrived.
    NeedBody(usize),
    /// A request this path serves, its body whole.
    Request(Box<Whole>),
    /// Anything else (HTTP/2, HTTP/1.0, upgrades, `Expect`, chunked or large bodies,
    /// `HEAD`, `CONNECT`, malformed heads): hyper's.
    Other,
}

/// A request read whole, and the bytes it was read from.
pub struct Whole {
    pub request: Request<Bytes>,
    /// The head as sent (header names' case, for proxy events).
    pub head: Bytes,
    /// The connection is to close after the answer (`Connection: close`).
    pub close: bool,
}

/// A header's name and where its value is in the buffer.
pub type Scratch = Vec<(HeaderName, Range<usize>)>;

/// Parses the request at the start of `buf`; a whole one is split off it. `scratch` is the
/// connection's, so a request allocates no list of its own.
pub fn parse(buf: &mut BytesMut, scratch: &mut Scratch) -> Parsed {
    if buf.starts_with(b"PRI ") {
        return Parsed::Other;
    }
    // Uninitialised: writing 100 empty headers first was ~400 instructions a request.
    let mut headers = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let head_len = match req.parse_with_uninit_headers(buf, &mut headers) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return Parsed::Other,
    };
    if req.version != Some(1) {
        return Parsed::Other;
    }
    let Some(method) = req
        .method
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
    else {
        return Parsed::Other;
    };
    if method == Method::HEAD || method == Method::CONNECT {
        return Parsed::Other;
    }
    let base = buf.as_ptr() as usize;
    let at = |s: &[u8]| {
        let start = s.as_ptr() as usize - base;
        start..start + s.len()
    };
    let Some(path) = req.path.map(|p| at(p.as_bytes())) else {
        return Parsed::Other;
    };
    scratch.clear();
    let mut length: Option<usize> = None;
    let mut close = false;
    for h in req.headers.iter() {
        let Ok(name) = HeaderName::from_bytes(h.name.as_bytes()) else {
            return Parsed::Other;
        };
        match name {
            http::header::TRANSFER_ENCODING | http::header::EXPECT | http::header::UPGRADE => {
                return Parsed::Other
            }
            http::header::CONTENT_LENGTH => match (length, content_length(h.value)) {
                (None, Some(n)) if n <= MAX_WHOLE_BODY as u64 => length = Some(n as usize),
                _ => return Parsed::Other,
            },
            http::header::CONNECTION => {
                if has_token(h.value, b"upgrade") {
                    return Parsed::Other;
                }
                close |= has_token(h.value, b"close");
            }
            _ => {}
        }
        scratch.push((name, at(h.value)));
    }
    let total = head_len + length.unwrap_or(0);
    if buf.len() < total {
        return Parsed::NeedBody(total);
    }
    let bytes = buf.split_to(total).freeze();
    match whole(&bytes, head_len, method, path, scratch) {
        Some(request) => Parsed::Request(Box::new(Whole {
            request,
            head: bytes.slice(..head_len),
            close,
        })),
        None => {
            // Split off already: hyper must read it again, so it goes back in front.
            let mut back = BytesMut::with_capacity(bytes.len() + buf.len());
            back.extend_from_slice(&bytes);
            back.extend_from_slice(buf);
            *buf = back;
            Parsed::Other
        }
    }
}

/// Builds the request from its bytes; `None` when hyper would refuse it.
fn whole(
    bytes: &Bytes,
    head_len: usize,
    method: Method,
    path: Range<usize>,
    scratch: &mut Scratch,
) -> Option<Request<Bytes>> {
    let uri = Uri::from_maybe_shared(bytes.slice(path)).ok()?;
    let mut headers = HeaderMap::with_capacity(scratch.len());
    for (name, value) in scratch.drain(..) {
        let value = HeaderValue::from_maybe_shared(bytes.slice(value)).ok()?;
        headers.append(name, value);
    }
    let mut request = Request::new(bytes.slice(head_len..));
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.version_mut() = Version::HTTP_11;
    *request.headers_mut() = headers;
    Some(request)
}

/// A `Content-Length` value: digits only (hyper refuses anything else, both ways).
pub(super) fn content_length(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// Whether a comma-separated header value names `token` (ignoring case).
pub(super) fn has_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|b| *b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}
