//! `aws-chunked` bodies with unsigned chunks and trailing checksums
//! (`x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER`), as the SDKs send S3
//! uploads over TLS: the front door takes the chunks' data and the trailer's headers out,
//! so the call goes on as a plain one, signed anew. Chunks signed one by one
//! (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD...`) are refused before this: their signatures
//! are not checked here.

use bytes::{Bytes, BytesMut};
use http::header::{HeaderName, HeaderValue};
use http::HeaderMap;

/// The payload hash of an upload in unsigned chunks with a trailer.
pub const UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

/// Most trailer headers read.
const MAX_TRAILERS: usize = 16;

/// Why a body is not well-formed `aws-chunked`.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

/// A decoded body: the chunks' data, and the trailer's headers.
#[derive(Debug, PartialEq, Eq)]
pub struct Decoded {
    pub body: Bytes,
    pub trailers: Vec<(HeaderName, HeaderValue)>,
}

/// Whether the call's payload is sent in unsigned chunks with a trailer.
pub fn is_unsigned_trailer(headers: &HeaderMap) -> bool {
    headers
        .get("x-amz-content-sha256")
        .is_some_and(|v| v.as_bytes() == UNSIGNED_TRAILER.as_bytes())
}

/// Reads `size[;ext]\r\n data \r\n` chunks up to the last (size 0), then the trailer's
/// `name:value\r\n` lines up to an empty line (or the end of the body).
pub fn decode(mut rest: &[u8]) -> Result<Decoded, Malformed> {
    let mut body = BytesMut::with_capacity(rest.len());
    loop {
        let (line, after) = split_line(rest).ok_or(Malformed("a chunk header is cut short"))?;
        let size = line.split(|b| *b == b';').next().unwrap_or_default();
        let size = std::str::from_utf8(size)
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .ok_or(Malformed("a chunk size is not hexadecimal"))?;
        rest = after;
        if size == 0 {
            break;
        }
        let framed = size.checked_add(2).filter(|n| *n <= rest.len());
        if framed.is_none() || &rest[size..size + 2] != b"\r\n" {
            return Err(Malformed("a chunk is shorter than its size"));
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
    let mut trailers = Vec::new();
    while let Some((line, after)) = split_line(rest) {
        rest = after;
        if line.is_empty() {
            break;
        }
        if trailers.len() == MAX_TRAILERS {
            return Err(Malformed("too many trailer headers"));
        }
        let colon = line
            .iter()
            .position(|b| *b == b':')
            .ok_or(Malformed("a trailer line has no name"))?;
        let name = HeaderName::from_bytes(line[..colon].trim_ascii())
            .map_err(|_| Malformed("a trailer name is not a header name"))?;
        let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii())
            .map_err(|_| Malformed("a trailer value is not a header value"))?;
        // A trailer carries the upload's checksum, nothing else (S3's rule).
        if !name.as_str().starts_with("x-amz-checksum-") {
            return Err(Malformed("a trailer other than a checksum"));
        }
        trailers.push((name, value));
    }
    Ok(Decoded {
        body: body.freeze(),
        trailers,
    })
}

/// The call's headers as a plain upload's: the trailer's headers in, the chunking's out
/// (`aws-chunked` from `Content-Encoding`, `x-amz-decoded-content-length`,
/// `x-amz-trailer`).
pub fn plain_headers(headers: &mut HeaderMap, trailers: Vec<(HeaderName, HeaderValue)>) {
    headers.remove("x-amz-decoded-content-length");
    headers.remove("x-amz-trailer");
    let codings: Vec<String> = headers
        .get_all(http::header::CONTENT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("aws-chunked"))
        .map(str::to_string)
        .collect();
    headers.remove(http::header::CONTENT_ENCODING);
    if let (false, Ok(v)) = (
        codings.is_empty(),
        HeaderValue::from_str(&codings.join(", ")),
    ) {
        headers.insert(http::header::CONTENT_ENCODING, v);
    }
    for (name, value) in trailers {
        headers.insert(name, value);
    }
}

fn split_line(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = bytes.windows(2).position(|w| w == b"\r\n")?;
    Some((&bytes[..end], &bytes[end + 2..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_and_trailers_come_apart() {
        let wire = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n";
        let d = decode(wire).unwrap();
        assert_eq!(&d.body[..], b"hello world");
        assert_eq!(d.trailers.len(), 1);
        assert_eq!(d.trailers[0].0, "x-amz-checksum-crc32");
        assert_eq!(d.trailers[0].1, "NhCmhg==");
        // Chunk extensions are passed over; a body may end right after the last chunk.
        let d = decode(b"3;ext=1\r\nabc\r\n0\r\n").unwrap();
        assert_eq!((&d.body[..], d.trailers.len()), (&b"abc"[..], 0));
    }

    #[test]
    fn malformed_bodies_are_refused() {
        for wire in [
            &b"zz\r\nabc\r\n0\r\n\r\n"[..],
            b"5\r\nabc\r\n0\r\n\r\n",
            b"3\r\nabc",
            b"0\r\nno-colon\r\n\r\n",
            b"ffffffffffffffff\r\nabc\r\n0\r\n\r\n",
            b"0\r\nauthorization:x\r\n\r\n",
            b"",
        ] {
            assert!(decode(wire).is_err(), "{:?}", String::from_utf8_lossy(wire));
        }
    }

    #[test]
    fn headers_become_a_plain_uploads() {
        let mut h = HeaderMap::new();
        h.insert("content-encoding", "aws-chunked, gzip".parse().unwrap());
        h.insert("x-amz-decoded-content-length", "11".parse().unwrap());
        h.insert("x-amz-trailer", "x-amz-checksum-crc32".parse().unwrap());
        let trailer = (
            HeaderName::from_static("x-amz-checksum-crc32"),
            HeaderValue::from_static("NhCmhg=="),
        );
        plain_headers(&mut h, vec![trailer]);
        assert_eq!(h["content-encoding"], "gzip");
        assert_eq!(h["x-amz-checksum-crc32"], "NhCmhg==");
        assert!(h.get("x-amz-trailer").is_none());
        assert!(h.get("x-amz-decoded-content-length").is_none());
        let mut h = HeaderMap::new();
        h.insert("content-encoding", "aws-chunked".parse().unwrap());
        plain_headers(&mut h, Vec::new());
        assert!(h.get("content-encoding").is_none());
    }
}
