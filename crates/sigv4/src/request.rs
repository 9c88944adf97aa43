//! A request as it arrived on the wire, the input of every check.

use http::HeaderMap;

/// What the request looked like on the wire. Paths and queries are RAW (still
/// percent-encoded), exactly as received; many routers normalise them, which
/// would break the signature.
#[derive(Clone, Copy, Debug)]
pub struct IncomingRequest<'a> {
    /// Request method (`GET`, `POST`, …).
    pub method: &'a str,
    /// Raw path of the request target, without the query string.
    pub raw_path: &'a str,
    /// Raw query string without the leading `?`, if any.
    pub raw_query: Option<&'a str>,
    /// Request headers. For HTTP/2 the caller must insert `host` from
    /// `:authority`, because `HeaderMap` does not carry pseudo-headers.
    pub headers: &'a HeaderMap,
    /// The complete request body (needed for the payload hash).
    pub body: &'a [u8],
}
