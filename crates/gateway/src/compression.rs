//! `minimumCompressionSize` of REST APIs (request-pipeline.md §6.1,
//! stages-canary-domains.md §9): responses at least that large are gzip- or
//! deflate-encoded when the client's `Accept-Encoding` allows it, compressed as they
//! stream (a frame in, its compressed bytes out, never the whole body); and a request body
//! sent with `Content-Encoding: gzip|deflate` is decoded before mapping, to at most the
//! 10 MB payload limit.

use std::io::{Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use tollgate_model::GatewayResponseType as T;

use crate::body::{BoxError, GatewayBody};
use crate::error::{GatewayError, MAX_BODY};

/// A content coding Tollgate writes and reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Gzip,
    /// HTTP's `deflate`: the zlib format (RFC 9110 §8.4.1.2).
    Deflate,
}

impl Coding {
    fn token(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
        }
    }
}

/// The coding a client accepts best (`Accept-Encoding`, with q-values; `gzip` on a tie;
/// `*` stands for `gzip`); `None` without the header or when it accepts neither.
pub fn accepted(headers: &HeaderMap) -> Option<Coding> {
    let mut best: Option<(Coding, f32)> = None;
    for item in headers
        .get_all(http::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let coding = if name.eq_ignore_ascii_case("gzip") || name == "*" {
            Coding::Gzip
        } else if name.eq_ignore_ascii_case("deflate") {
            Coding::Deflate
        } else {
            continue;
        };
        if q > 0.0
            && best.is_none_or(|(c, bq)| {
                q > bq || (q == bq && coding == Coding::Gzip && c != Coding::Gzip)
            })
        {
            best = Some((coding, q));
        }
    }
    best.map(|(c, _)| c)
}

/// Compresses `resp` with `coding` when its body is at least `minimum` bytes (a body of
/// unknown length is compressed) and it is not encoded already.
pub fn compress(
    resp: Response<GatewayBody>,
    coding: Coding,
    minimum: usize,
) -> Response<GatewayBody> {
    let size = resp.body().size_hint().exact();
    if size.is_some_and(|n| n < minimum as u64)
        || size == Some(0)
        || resp.headers().contains_key(http::header::CONTENT_ENCODING)
    {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    parts.headers.remove(http::header::CONTENT_LENGTH);
    parts.headers.insert(
        http::header::CONTENT_ENCODING,
        HeaderValue::from_static(coding.token()),
    );
    parts.headers.append(
        http::header::VARY,
        HeaderValue::from_static("accept-encoding"),
    );
    let encoder = match coding {
        Coding::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        )),
        Coding::Deflate => Encoder::Deflate(flate2::write::ZlibEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        )),
    };
    let body = Compressed {
        inner: body,
        encoder: Some(encoder),
    };
    Response::from_parts(parts, GatewayBody::Boxed(body.boxed_unsync()))
}

enum Encoder {
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
    Deflate(flate2::write::ZlibEncoder<Vec<u8>>),
}

impl Encoder {
    /// Compresses `data` and takes what the encoder has written so far.
    fn feed(&mut self, data: &[u8]) -> std::io::Result<Bytes> {
        let out = match self {
            Encoder::Gzip(e) => {
                e.write_all(data)?;
                e.flush()?;
                e.get_mut()
            }
            Encoder::Deflate(e) => {
                e.write_all(data)?;
                e.flush()?;
                e.get_mut()
            }
        };
        Ok(Bytes::from(std::mem::take(out)))
    }

    fn finish(self) -> std::io::Result<Bytes> {
        Ok(Bytes::from(match self {
            Encoder::Gzip(e) => e.finish()?,
            Encoder::Deflate(e) => e.finish()?,
        }))
    }
}

/// A body compressed frame by frame.
struct Compressed {
    inner: GatewayBody,
    /// `None` once the trailer is written.
    encoder: Option<Encoder>,
}

impl Body for Compressed {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        loop {
            let this = &mut *self;
            let Some(encoder) = this.encoder.as_mut() else {
                return Poll::Ready(None);
            };
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(frame))) => {
                    let Ok(data) = frame.into_data() else {
                        continue; // trailers: not carried through a compressed body
                    };
                    match encoder.feed(&data) {
                        Ok(out) if out.is_empty() => continue,
                        Ok(out) => return Poll::Ready(Some(Ok(Frame::data(out)))),
                        Err(e) => return Poll::Ready(Some(Err(e.into()))),
                    }
                }
                Poll::Ready(None) => {
                    let Some(encoder) = this.encoder.take() else {
                        return Poll::Ready(None);
                    };
                    return Poll::Ready(Some(
                        encoder.finish().map(Frame::data).map_err(Into::into),
                    ));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.encoder.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// The request's `Content-Encoding` when it is one Tollgate decodes.
pub fn request_coding(headers: &HeaderMap) -> Option<Coding> {
    let v = headers
        .get(http::header::CONTENT_ENCODING)?
        .to_str()
        .ok()?
        .trim();
    if v.eq_ignore_ascii_case("gzip") {
        Some(Coding::Gzip)
    } else if v.eq_ignore_ascii_case("deflate") {
        Some(Coding::Deflate)
    } else {
        None
    }
}

/// Decodes a compressed request body, refusing more than the 10 MB payload limit once
/// decoded (a small body can inflate to gigabytes) and a body that does not decode.
pub fn decode(body: &[u8], coding: Coding) -> Result<Bytes, GatewayError> {
    let mut reader: Box<dyn Read> = match coding {
        Coding::Gzip => Box::new(flate2::read::GzDecoder::new(body)),
        Coding::Deflate => Box::new(flate2::read::ZlibDecoder::new(body)),
    };
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(MAX_BODY));
    let read = (&mut reader)
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| GatewayError::new(T::BadRequestBody, "Invalid request body"))?;
    if read > MAX_BODY {
        return Err(GatewayError::too_large());
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &'static str) -> Option<Coding> {
        let mut h = HeaderMap::new();
        h.insert(http::header::ACCEPT_ENCODING, HeaderValue::from_static(v));
        accepted(&h)
    }

    #[test]
    fn accept_encoding() {
        assert_eq!(accepted(&HeaderMap::new()), None);
        assert_eq!(accept("gzip, deflate"), Some(Coding::Gzip));
        assert_eq!(accept("deflate"), Some(Coding::Deflate));
        assert_eq!(accept("gzip;q=0.5, deflate"), Some(Coding::Deflate));
        assert_eq!(accept("gzip;q=0, identity"), None);
        assert_eq!(accept("identity"), None);
        assert_eq!(accept("br, *"), Some(Coding::Gzip));
    }

    #[tokio::test]
    async fn round_trip_and_threshold() {
        let text = "hello compression ".repeat(100);
        for coding in [Coding::Gzip, Coding::Deflate] {
            let resp = Response::new(GatewayBody::from_bytes(text.clone()));
            let out = compress(resp, coding, 10);
            assert_eq!(
                out.headers()[http::header::CONTENT_ENCODING],
                coding.token()
            );
            let bytes = out.into_body().collect().await.unwrap().to_bytes();
            assert!(bytes.len() < text.len());
            assert_eq!(decode(&bytes, coding).unwrap(), text.as_bytes());
        }
        let small = compress(
            Response::new(GatewayBody::from_bytes("hi")),
            Coding::Gzip,
            10,
        );
        assert!(!small.headers().contains_key(http::header::CONTENT_ENCODING));
    }

    #[test]
    fn decoding_is_bounded() {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(&vec![0u8; MAX_BODY + 1]).unwrap();
        let bomb = e.finish().unwrap();
        assert_eq!(
            decode(&bomb, Coding::Gzip).unwrap_err().kind,
            T::RequestTooLarge
        );
        assert!(decode(b"not gzip", Coding::Gzip).is_err());
    }
}
