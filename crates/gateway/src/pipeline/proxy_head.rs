//! REST `HTTP_PROXY`'s backend request head written straight from the client's request
//! (issue 18). For a plain `http://` backend and no execution log, the request line and
//! header lines go into the bytes the `h1` client sends: no backend `HeaderMap` is built
//! (every name hashed and inserted, every value copied, then dropped) and no `Uri` parsed.
//!
//! The lines are those [`super::integration_request::http_proxy`] puts in its map, in the order
//! the `h1` client would write that map: `Host` first, the client's headers less those
//! never forwarded (a mapped or gateway header in the place of the client's own of that
//! name), then `Content-Length`, then mapped and gateway headers the client did not send.
//! Whatever this does not write exactly so (a URI with characters outside the plain set,
//! an IPv6 or user-info authority, a mapping of `Host`, `Content-Length` or a header the
//! gateway sets, an invalid mapped value) goes through `http_proxy` instead.

use std::borrow::Cow;

use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use tollgate_traces::context::{TRACEPARENT, X_AMZN_TRACE_ID};

use super::integration_request::{
    backend_method, dropped_on_entry, forwarded_to_http, map_parameters, port_in_host,
    push_forwarded_for, sends_body, uri_text, X_AMZN_APIGATEWAY_API_ID, X_FORWARDED_FOR,
    X_FORWARDED_PORT, X_FORWARDED_PROTO,
};
use super::method_request::Params;
use crate::body::GatewayBody;
use crate::compile::CompiledIntegration;
use crate::integrations::h1::WrittenRequest;
use crate::invocation::{Invocation, RequestBody};

/// Longest integration URI written here (`Uri` refuses ~64 KiB; a long one goes that way).
const MAX_URI: usize = 8192;

/// Most mapped headers written here.
const MAX_MAPPED: usize = 64;

/// The request for `i`'s backend with its head written, or the body back when the head is
/// not one to write here (the caller then builds a [`super::integration_request::BackendRequest`]).
pub fn written(
    inv: &Invocation<'_>,
    i: &CompiledIntegration,
    params: &Params<'_>,
    body: RequestBody,
) -> Result<WrittenRequest, RequestBody> {
    let mapped = map_parameters(i, params, inv, None);
    let overrides: &[(&HeaderName, Cow<'_, str>)] = &mapped.headers;
    if overrides.len() > MAX_MAPPED
        || overrides.iter().enumerate().any(|(n, (name, value))| {
            !plain_mapping(name)
                || !visible_ascii(value.as_bytes())
                || overrides[..n].iter().any(|(other, _)| other == name)
        })
    {
        return Err(body);
    }
    let method = backend_method(i, inv);
    let mut url = uri_text(i, &mapped, inv, inv.parts.uri.query());
    let Some(target_start) = plain_http(&url) else {
        return Err(body);
    };
    let mut lines = Vec::with_capacity(256 + url.len());
    lines.extend_from_slice(method.as_str().as_bytes());
    lines.push(b' ');
    // Origin form: an empty path is `/` (`http://host?q` asks for `/?q`).
    if !url[target_start..].starts_with('/') {
        lines.push(b'/');
    }
    lines.extend_from_slice(&url.as_bytes()[target_start..]);
    lines.extend_from_slice(b" HTTP/1.1\r\n");
    url.truncate(target_start);
    url.drain(..HTTP.len());
    let authority = url;
    // As hyper's client wrote it: the port only when not the default.
    line(
        &mut lines,
        &HOST,
        authority
            .strip_suffix(":80")
            .unwrap_or(&authority)
            .as_bytes(),
    );
    let sent = Sent::of(&inv.parts.headers);
    let gateway = Gateway::of(inv, &sent);
    let mut mapped_done = 0u64;
    let mut gateway_done = 0u8;
    for (name, value) in &inv.parts.headers {
        if !forwarded_to_http(name) {
            continue;
        }
        if let Some(n) = overrides.iter().position(|(m, _)| *m == name) {
            if mapped_done & (1 << n) == 0 {
                mapped_done |= 1 << n;
                line(&mut lines, name, overrides[n].1.as_bytes());
            }
            continue;
        }
        // A gateway header whose value is not valid leaves the client's in place.
        if let Some((n, true)) = gateway.find(name) {
            if gateway_done & (1 << n) == 0 {
                gateway_done |= 1 << n;
                gateway.write(n, &mut lines);
            }
            continue;
        }
        line(&mut lines, name, value.as_bytes());
    }
    let content_length = match sent.content_length {
        Some(len) if sends_body(&method) => {
            line(&mut lines, &CONTENT_LENGTH, len.as_bytes());
            true
        }
        _ => false,
    };
    for (n, (name, value)) in overrides.iter().enumerate() {
        if mapped_done & (1 << n) == 0 {
            line(&mut lines, name, value.as_bytes());
        }
    }
    for n in 0..GATEWAY_NAMES.len() {
        if gateway_done & (1 << n) == 0 && gateway.is_set(n) {
            gateway.write(n, &mut lines);
        }
    }
    let body = if sends_body(&method) {
        body.into_stream()
    } else {
        GatewayBody::empty()
    };
    Ok(WrittenRequest {
        method,
        authority,
        lines,
        content_length,
        body,
    })
}

const HTTP: &str = "http://";

/// Where a plain `http://` URL's authority ends (its request target starts), when it is
/// one whose every byte `Uri` takes as it is: a host of letters, digits, dots and dashes,
/// a port that is a number, a path and query of RFC 3986's characters.
fn plain_http(url: &str) -> Option<usize> {
    if url.len() > MAX_URI || !url.starts_with(HTTP) {
        return None;
    }
    let bytes = url.as_bytes();
    let end =
        memchr::memchr2(b'/', b'?', &bytes[HTTP.len()..]).map_or(url.len(), |e| e + HTTP.len());
    let authority = &url[HTTP.len()..end];
    let (host, port) = match memchr::memrchr(b':', authority.as_bytes()) {
        Some(colon) => (&authority[..colon], Some(&authority[colon + 1..])),
        None => (authority, None),
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    // Digits only: `u16`'s parse also takes a sign.
    let port_ok =
        port.is_none_or(|p| p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok());
    let target_ok = bytes[end..].iter().all(|&b| PLAIN_TARGET[b as usize]);
    (host_ok && port_ok && target_ok).then_some(end)
}

/// Bytes of a path and query written as they are: RFC 3986's unreserved and reserved
/// characters but `#` (which ends a URI's target), and `%`.
const PLAIN_TARGET: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
                    | b'?'
                    | b'%'
            );
        b += 1;
    }
    t
};

/// A mapped header written here: not one the head's framing or the gateway's own
/// headers decide.
fn plain_mapping(name: &HeaderName) -> bool {
    *name != HOST
        && *name != CONTENT_LENGTH
        && *name != TRANSFER_ENCODING
        && !dropped_on_entry(name)
        && !GATEWAY_NAMES.contains(name)
}

/// `HeaderValue::from_str`'s test: visible ASCII and tabs. (No early exit: the loop is
/// vectorised.)
fn visible_ascii(v: &[u8]) -> bool {
    v.iter().fold(true, |ok, &b| {
        ok & ((b.wrapping_sub(32) < 95) | (b == b'\t'))
    })
}

fn line(lines: &mut Vec<u8>, name: &HeaderName, value: &[u8]) {
    lines.extend_from_slice(name.as_str().as_bytes());
    lines.extend_from_slice(b": ");
    lines.extend_from_slice(value);
    lines.extend_from_slice(b"\r\n");
}

/// The headers the gateway sets, in the order [`super::integration_request::http_proxy`] sets
/// them.
static GATEWAY_NAMES: [HeaderName; 6] = [
    X_AMZN_APIGATEWAY_API_ID,
    X_AMZN_TRACE_ID,
    TRACEPARENT,
    X_FORWARDED_FOR,
    X_FORWARDED_PORT,
    X_FORWARDED_PROTO,
];

/// What the client sent that the gateway's headers depend on, found in one pass (a
/// `HeaderMap` lookup hashes the name: ~150 instructions each).
#[derive(Default)]
struct Sent<'h> {
    host: Option<&'h HeaderValue>,
    content_length: Option<&'h HeaderValue>,
    forwarded_for: Option<&'h HeaderValue>,
    traceparent: bool,
}

impl<'h> Sent<'h> {
    /// The first value of each, as `HeaderMap::get` answers.
    fn of(headers: &'h http::HeaderMap) -> Self {
        let mut sent = Sent::default();
        for (name, value) in headers {
            if *name == HOST {
                sent.host.get_or_insert(value);
            } else if *name == CONTENT_LENGTH {
                sent.content_length.get_or_insert(value);
            } else if *name == X_FORWARDED_FOR {
                sent.forwarded_for.get_or_insert(value);
            } else if *name == TRACEPARENT {
                sent.traceparent = true;
            }
        }
        sent
    }
}

/// The gateway's headers for one request, in [`GATEWAY_NAMES`]' order: `None` where none
/// is set (no trace context to pass on, or a value a header cannot hold).
struct Gateway<'a> {
    api_id: Option<&'a [u8]>,
    trace_id: Option<&'a [u8]>,
    traceparent: Option<String>,
    /// `X-Forwarded-For` as sent: the client's address follows it.
    forwarded_for: Option<&'a HeaderValue>,
    remote: std::net::IpAddr,
    port: &'a [u8],
    proto: &'static [u8],
}

impl<'a> Gateway<'a> {
    fn of(inv: &'a Invocation<'_>, sent: &Sent<'a>) -> Self {
        let checked = |v: &'a str| visible_ascii(v.as_bytes()).then_some(v.as_bytes());
        // W3C trace context when the caller sent one (answered with the gateway's span as
        // the parent) or the request is traced.
        let traceparent = (inv.ctx.spans.is_some() || sent.traceparent)
            .then(|| inv.ctx.trace.traceparent(inv.ctx.sampled))
            .filter(|t| visible_ascii(t.as_bytes()));
        let port = port_in_host(sent.host).unwrap_or(inv.default_port());
        Gateway {
            api_id: checked(&inv.ctx.api_id),
            trace_id: checked(&inv.ctx.trace_id),
            traceparent,
            forwarded_for: sent.forwarded_for,
            remote: inv.remote.ip(),
            port: port.as_bytes(),
            proto: inv.forwarded_proto().as_bytes(),
        }
    }

    /// The gateway header named `name`, if it is one: its place in [`GATEWAY_NAMES`], and
    /// whether it is set.
    fn find(&self, name: &HeaderName) -> Option<(usize, bool)> {
        // Every gateway name starts with `x` or `t`: most names are passed by at once.
        if !matches!(name.as_str().as_bytes()[0], b'x' | b't') {
            return None;
        }
        let n = GATEWAY_NAMES.iter().position(|g| g == name)?;
        Some((n, self.is_set(n)))
    }

    fn is_set(&self, n: usize) -> bool {
        match n {
            0 => self.api_id.is_some(),
            1 => self.trace_id.is_some(),
            2 => self.traceparent.is_some(),
            _ => true,
        }
    }

    /// Writes the line of the gateway header `n` (one that is set).
    fn write(&self, n: usize, lines: &mut Vec<u8>) {
        let name = &GATEWAY_NAMES[n];
        match n {
            0 => line(lines, name, self.api_id.unwrap_or_default()),
            1 => line(lines, name, self.trace_id.unwrap_or_default()),
            2 => line(
                lines,
                name,
                self.traceparent.as_deref().unwrap_or_default().as_bytes(),
            ),
            3 => {
                lines.extend_from_slice(b"x-forwarded-for: ");
                push_forwarded_for(lines, self.forwarded_for, self.remote);
                lines.extend_from_slice(b"\r\n");
            }
            4 => line(lines, name, self.port),
            _ => line(lines, name, self.proto),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_urls_are_written_here() {
        assert_eq!(plain_http("http://127.0.0.1:8080/a/b?x=1"), Some(21));
        assert_eq!(plain_http("http://backend.internal?q=%20"), Some(23));
        assert_eq!(plain_http("http://h"), Some(8));
        for other in [
            "https://h/a",
            "HTTP://h/a",
            "http://[::1]:80/a",
            "http://u@h/a",
            "http://h:/a",
            "http://h:99999/a",
            "http://h:8o/a",
            "http:///a",
            "http://h/a b",
            "http://h/a#f",
            "http://h/{x}",
            "http://h/caf\u{e9}",
        ] {
            assert_eq!(plain_http(other), None, "{other}");
        }
        assert_eq!(
            plain_http(&format!("http://h/{}", "a".repeat(MAX_URI))),
            None
        );
    }

    #[test]
    fn mapped_headers_the_framing_or_gateway_decides_are_not_written_here() {
        for name in [
            "host",
            "content-length",
            "transfer-encoding",
            "connection",
            "x-forwarded-for",
            "traceparent",
        ] {
            assert!(!plain_mapping(&HeaderName::from_static(name)), "{name}");
        }
        assert!(plain_mapping(&HeaderName::from_static("x-custom")));
        assert!(visible_ascii(b"a b\tc"));
        assert!(!visible_ascii(b"a\x7f") && !visible_ascii("\u{e9}".as_bytes()));
    }
}
