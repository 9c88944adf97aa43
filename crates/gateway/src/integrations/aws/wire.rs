//! A service call as data (method, path, query, headers, body), before it is addressed and
//! signed, and the encodings it is built with. No dependency on the pipeline: deployment
//! compiling (first-class subtypes) builds on it too.

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but `A-Z a-z 0-9 - _ . ~` is encoded (query values, path segments).
pub const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// A path parameter's value in a service path: encoded, its `/` kept (an S3 key's folders).
pub const PATH_VALUE: &AsciiSet = &UNRESERVED.remove(b'/');

/// One call to a service, before it is addressed and signed.
pub struct ServiceCall<'a> {
    pub method: Method,
    pub region: &'a str,
    pub service: &'a str,
    pub subdomain: Option<&'a str>,
    /// Percent-encoded, starting with `/`.
    pub path: String,
    /// Percent-encoded, without `?` (may be empty).
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Sets a header when the value is a valid header value.
pub fn set_header(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// Appends `k=v` to a query string or form body.
pub fn push_pair(out: &mut String, k: &str, v: &str) {
    if !out.is_empty() {
        out.push('&');
    }
    out.extend(utf8_percent_encode(k, UNRESERVED));
    out.push('=');
    out.extend(utf8_percent_encode(v, UNRESERVED));
}
