//! A backend's response head: parsed once with `httparse`, header values kept as slices of
//! the bytes read (no copy), names as the backend spelled them kept for the client.

use bytes::{Bytes, BytesMut};
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, StatusCode};

use crate::pipeline::respond::{self, proxied_name, NameRule};
use crate::response_case::ResponseSpellings;

/// Most header lines a response head may have (hyper's client allowed 100).
const MAX_HEADERS: usize = 100;

/// Most bytes a response head may take (hyper's client read buffer was ~400 KB).
pub(super) const MAX_RESPONSE_HEAD: usize = 64 * 1024;

/// How the body after a head is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Framing {
    /// No body (`HEAD`, 204, 304).
    Empty,
    Length(u64),
    Chunked,
    /// Until the backend closes the connection.
    Close,
}

/// A final response head.
pub(super) struct Head {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub spellings: Option<ResponseSpellings>,
    pub framing: Framing,
    /// The connection may carry another request once the body is read.
    pub keep_alive: bool,
}

/// Why a head is unusable.
#[derive(Debug)]
pub(super) struct Malformed(pub &'static str);

/// Parses the head at the start of `read`, consuming it: `Ok(None)` until it is whole.
/// Interim (1xx) heads are consumed and skipped. With a `rule`, the headers are those a
/// proxy passes on, named by the rule (`respond::proxy_response_by`'s work, done here
/// so the answer's headers are not put in a map twice).
pub(super) fn parse(
    read: &mut BytesMut,
    method: &Method,
    names: &mut Names,
    rule: Option<NameRule>,
) -> Result<Option<Head>, Malformed> {
    let mut spans = [(0, 0, 0, 0); MAX_HEADERS];
    loop {
        let Some((len, status, version, count)) = locate(read, &mut spans)? else {
            if read.len() > MAX_RESPONSE_HEAD {
                return Err(Malformed("response head too large"));
            }
            return Ok(None);
        };
        let head = read.split_to(len).freeze();
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        let spans = &spans[..count];
        return build(&head, status, version, spans, method, names, rule).map(Some);
    }
}

/// A header line's name and value, as offsets into the head.
type Span = (u32, u32, u32, u32);

/// The head's length, status, minor version and header count, if `read` holds all of it;
/// `spans` gets each header line's place.
fn locate(
    read: &[u8],
    spans: &mut [Span; MAX_HEADERS],
) -> Result<Option<(usize, u16, u8, usize)>, Malformed> {
    let mut lines = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut r = httparse::Response::new(&mut lines);
    let len = match r.parse(read) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(Malformed("malformed response head")),
    };
    let base = read.as_ptr() as usize;
    let at = |s: &[u8]| (s.as_ptr() as usize - base) as u32;
    for (span, h) in spans.iter_mut().zip(r.headers.iter()) {
        let n = at(h.name.as_bytes());
        let v = at(h.value);
        *span = (n, n + h.name.len() as u32, v, v + h.value.len() as u32);
    }
    let status = r.code.ok_or(Malformed("no status"))?;
    Ok(Some((len, status, r.version.unwrap_or(1), r.headers.len())))
}

/// A connection's last response header names (each followed by `\n`) and what
/// [`ResponseSpellings::of`] made of them.
#[derive(Default)]
pub(super) struct Names {
    names: Vec<u8>,
    spellings: Option<ResponseSpellings>,
}

impl Names {
    /// The spellings of the names at `spans` of `head`, worked out again only when they
    /// differ from the last response's.
    fn spellings(&mut self, head: &[u8], spans: &[Span]) -> Option<ResponseSpellings> {
        let name = |&(ns, ne, ..): &Span| &head[ns as usize..ne as usize];
        let mut at = 0;
        let same = spans.iter().all(|span| {
            let n = name(span);
            let end = at + n.len();
            let same = self.names.get(at..end) == Some(n) && self.names.get(end) == Some(&b'\n');
            at = end + 1;
            same
        }) && at == self.names.len();
        if !same {
            self.names.clear();
            for span in spans {
                self.names.extend_from_slice(name(span));
                self.names.push(b'\n');
            }
            let names = spans
                .iter()
                .filter_map(|s| std::str::from_utf8(name(s)).ok());
            self.spellings = ResponseSpellings::of(names);
        }
        self.spellings.clone()
    }
}

fn build(
    head: &Bytes,
    status: u16,
    version: u8,
    spans: &[Span],
    method: &Method,
    names: &mut Names,
    rule: Option<NameRule>,
) -> Result<Head, Malformed> {
    let status = StatusCode::from_u16(status).map_err(|_| Malformed("invalid status"))?;
    let lines = Lines { head, spans };
    let framing = framing(lines, status, method)?;
    // After `101 Switching Protocols` the connection speaks something else.
    let keep_alive = framing != Framing::Close
        && status != StatusCode::SWITCHING_PROTOCOLS
        && keeps_alive(lines, version);
    let mut headers = HeaderMap::with_capacity(spans.len() + respond::ADDED_HEADERS);
    for &(ns, ne, vs, ve) in spans {
        let name = HeaderName::from_bytes(&head[ns as usize..ne as usize])
            .map_err(|_| Malformed("invalid header name"))?;
        let value = HeaderValue::from_maybe_shared(head.slice(vs as usize..ve as usize))
            .map_err(|_| Malformed("invalid header value"))?;
        match rule {
            None => headers.append(name, value),
            Some(rule) => match proxied_name(&name, rule) {
                Some(name) => headers.append(name, value),
                None => continue,
            },
        };
    }
    let spellings = names.spellings(head, spans);
    Ok(Head {
        status,
        headers,
        spellings,
        framing,
        keep_alive,
    })
}

/// A head's header lines, as the backend sent them.
#[derive(Clone, Copy)]
struct Lines<'h> {
    head: &'h [u8],
    spans: &'h [Span],
}

impl<'h> Lines<'h> {
    /// The values of the lines named `name` (lower case), in order.
    fn values(self, name: &'static [u8]) -> impl DoubleEndedIterator<Item = &'h [u8]> {
        self.spans.iter().filter_map(move |&(ns, ne, vs, ve)| {
            let n = &self.head[ns as usize..ne as usize];
            n.eq_ignore_ascii_case(name)
                .then(|| &self.head[vs as usize..ve as usize])
        })
    }
}

/// RFC 9112 §6.3: how the body is delimited.
fn framing(lines: Lines<'_>, status: StatusCode, method: &Method) -> Result<Framing, Malformed> {
    if method == Method::HEAD
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || status.is_informational()
    {
        return Ok(Framing::Empty);
    }
    if let Some(last) = lines.values(b"transfer-encoding").next_back() {
        let chunked = last
            .rsplit(|b| *b == b',')
            .next()
            .is_some_and(|c| c.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        return Ok(if chunked {
            Framing::Chunked
        } else {
            Framing::Close
        });
    }
    let mut length = None;
    for value in lines.values(b"content-length") {
        for part in value.split(|b| *b == b',') {
            let n = std::str::from_utf8(part.trim_ascii())
                .ok()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or(Malformed("invalid content-length"))?;
            if length.is_some_and(|l| l != n) {
                return Err(Malformed("conflicting content-length"));
            }
            length = Some(n);
        }
    }
    Ok(length.map_or(Framing::Close, Framing::Length))
}

/// HTTP/1.1 keeps the connection unless told `close`; HTTP/1.0 only when told `keep-alive`.
fn keeps_alive(lines: Lines<'_>, version: u8) -> bool {
    let has = |token: &[u8]| {
        lines.values(b"connection").any(|v| {
            v.split(|b| *b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
        })
    };
    if version >= 1 {
        !has(b"close")
    } else {
        has(b"keep-alive")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(bytes: &[u8], method: Method) -> Result<Option<Head>, Malformed> {
        parse(
            &mut BytesMut::from(bytes),
            &method,
            &mut Names::default(),
            None,
        )
    }

    #[test]
    fn a_head_is_parsed_once_whole_and_interim_heads_are_skipped() {
        let mut read =
            BytesMut::from(&b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nX-CuS"[..]);
        let names = &mut Names::default();
        let partial = parse(&mut read, &Method::POST, names, None).unwrap();
        assert!(partial.is_none());
        read.extend_from_slice(b"tOm-Header: a\r\ncontent-length: 2\r\n\r\nok");
        let h = parse(&mut read, &Method::POST, names, None)
            .unwrap()
            .unwrap();
        assert_eq!(h.status, 201);
        assert_eq!(h.headers["x-custom-header"], "a");
        assert_eq!(h.framing, Framing::Length(2));
        assert!(h.keep_alive);
        assert_eq!(h.spellings, ResponseSpellings::of(["X-CuStOm-Header"]));
        assert_eq!(&read[..], b"ok", "the body stays");
        // The next answers' names are compared with the last's, worked out only if new.
        read.clear();
        for (next, kept) in [
            (
                "X-CuStOm-Header: b\r\ncontent-length: 0",
                Some("X-CuStOm-Header"),
            ),
            ("X-CuStOm-Header: b\r\nX-More: 1", Some("X-More")),
            ("x-custom-header: c", None),
            ("X-CuStOm-Header: b", Some("X-CuStOm-Header")),
        ] {
            read.extend_from_slice(format!("HTTP/1.1 200 OK\r\n{next}\r\n\r\n").as_bytes());
            let h = parse(&mut read, &Method::HEAD, names, None)
                .unwrap()
                .unwrap();
            let spelled: Vec<&str> = h.spellings.iter().flat_map(|s| s.names()).collect();
            match kept {
                Some(n) => assert!(spelled.contains(&n), "{next}: {spelled:?}"),
                None => assert!(spelled.is_empty(), "{next}: {spelled:?}"),
            }
        }
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let f = |s: &str, m: Method| head(s.as_bytes(), m).map(|h| h.unwrap().framing);
        let chunked =
            "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 3\r\n\r\n";
        assert_eq!(f(chunked, Method::GET).unwrap(), Framing::Chunked);
        let close = "HTTP/1.1 200 OK\r\n\r\n";
        assert_eq!(f(close, Method::GET).unwrap(), Framing::Close);
        let head_req = "HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n";
        assert_eq!(f(head_req, Method::HEAD).unwrap(), Framing::Empty);
        let same = "HTTP/1.1 200 OK\r\ncontent-length: 4, 4\r\n\r\n";
        assert_eq!(f(same, Method::GET).unwrap(), Framing::Length(4));
        let conflict = "HTTP/1.1 200 OK\r\ncontent-length: 4\r\ncontent-length: 5\r\n\r\n";
        assert!(f(conflict, Method::GET).is_err());
        assert!(f("HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n", Method::GET).is_err());
        assert!(f("HTTP/1.1 204 No Content\r\n\r\n", Method::GET).unwrap() == Framing::Empty);
    }

    #[test]
    fn keep_alive_by_version_and_connection() {
        let k = |s: &str| head(s.as_bytes(), Method::GET).unwrap().unwrap().keep_alive;
        assert!(k("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"));
        assert!(!k(
            "HTTP/1.1 200 OK\r\nConnection: Close\r\ncontent-length: 0\r\n\r\n"
        ));
        assert!(!k("HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n"));
        assert!(k(
            "HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n"
        ));
        assert!(!k("HTTP/1.1 200 OK\r\n\r\n"), "read to close");
        assert!(!k("HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\n\r\n"));
    }

    #[test]
    fn a_proxy_rule_names_the_headers_while_framing_reads_them_as_sent() {
        let mut read = BytesMut::from(
            &b"HTTP/1.1 200 OK\r\nServer: nginx\r\nConnection: close\r\nContent-Length: 2\r\n\
               Via: 1.1 x\r\nProxy-Foo: y\r\nX-CuStOm: a\r\nTransfer-Encoding-X: z\r\n\r\nok"[..],
        );
        let rule: NameRule = crate::pipeline::respond::remapped;
        let h = parse(&mut read, &Method::GET, &mut Names::default(), Some(rule))
            .unwrap()
            .unwrap();
        assert_eq!(h.framing, Framing::Length(2));
        assert!(!h.keep_alive, "connection: close as sent");
        let names: Vec<&str> = h.headers.keys().map(|n| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "x-amzn-remapped-server",
                "x-amzn-remapped-connection",
                "x-amzn-remapped-content-length",
                "x-custom",
                "transfer-encoding-x"
            ]
        );
        assert_eq!(h.headers["x-amzn-remapped-content-length"], "2");
        // Spelled as the backend sent them, for the client.
        let spelled: Vec<&str> = h.spellings.iter().flat_map(|s| s.names()).collect();
        assert!(spelled.contains(&"Server") && spelled.contains(&"X-CuStOm"));
        // Without a rule, the headers are the backend's.
        let mut read = BytesMut::from(&b"HTTP/1.1 200 OK\r\nServer: nginx\r\nVia: x\r\n\r\n"[..]);
        let h = parse(&mut read, &Method::GET, &mut Names::default(), None)
            .unwrap()
            .unwrap();
        assert_eq!(h.headers.len(), 2);
    }

    #[test]
    fn garbage_and_oversized_heads_are_refused() {
        assert!(head(b"SMTP ready\r\n\r\n", Method::GET).is_err());
        let mut big = b"HTTP/1.1 200 OK\r\nx: ".to_vec();
        big.resize(MAX_RESPONSE_HEAD + 10, b'a');
        assert!(head(&big, Method::GET).is_err());
    }
}
