//! A cache entry as bytes, for a cache kept outside the process (Redis, shared by a
//! cluster's nodes). Compact and self-checking: a value that does not decode (another
//! version's, or damaged) is a miss, never a wrong answer.
//!
//! Layout: `TG2` and a kind byte (`O` output, `R` response), the status (u16), the
//! selection byte (outputs), the header count (u16) then each header as name length (u16),
//! name, value length (u32), value; for responses, the count (u16) of header names spelled
//! otherwise than lower case, each as length (u16) and spelling; the overrides as a length
//! (u32) and JSON (0: none); then the body's length (u32) and the body, which ends the
//! value. Integers are big-endian. (`TG1` entries, without spellings, read as misses.)

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue};

use super::{CachedResponse, KeptSelection};
use crate::response_case::ResponseSpellings;

const MAGIC: &[u8; 3] = b"TG2";

/// The entry as bytes.
pub fn encode(entry: &CachedResponse) -> Bytes {
    let (kind, status, headers, body) = match entry {
        CachedResponse::Output {
            status,
            headers,
            body,
            ..
        } => (b'O', *status, headers, body),
        CachedResponse::Response {
            status,
            headers,
            body,
            ..
        } => (b'R', *status, headers, body),
    };
    let mut out = BytesMut::with_capacity(entry.weight() + 16 + 8 * headers.len());
    out.put_slice(MAGIC);
    out.put_u8(kind);
    out.put_u16(status);
    if let CachedResponse::Output { selection, .. } = entry {
        out.put_u8(match selection {
            KeptSelection::Status => b'S',
            KeptSelection::Default => b'D',
        });
    }
    out.put_u16(u16::try_from(headers.len()).unwrap_or(u16::MAX));
    for (name, value) in headers.iter().take(usize::from(u16::MAX)) {
        out.put_u16(u16::try_from(name.as_str().len()).unwrap_or(0));
        out.put_slice(name.as_str().as_bytes());
        out.put_u32(u32::try_from(value.len()).unwrap_or(0));
        out.put_slice(value.as_bytes());
    }
    if let CachedResponse::Response { spellings, .. } = entry {
        let names: Vec<&str> = spellings.iter().flat_map(|s| s.names()).collect();
        out.put_u16(u16::try_from(names.len()).unwrap_or(u16::MAX));
        for name in names.into_iter().take(usize::from(u16::MAX)) {
            out.put_u16(u16::try_from(name.len()).unwrap_or(0));
            out.put_slice(name.as_bytes());
        }
    }
    let overrides = match entry {
        CachedResponse::Output {
            overrides: Some(o), ..
        } => serde_json::to_vec(o).unwrap_or_default(),
        _ => Vec::new(),
    };
    out.put_u32(u32::try_from(overrides.len()).unwrap_or(0));
    out.put_slice(&overrides);
    out.put_u32(u32::try_from(body.len()).unwrap_or(u32::MAX));
    out.put_slice(body);
    out.freeze()
}

/// The entry `bytes` hold, or `None` when they are not one.
pub fn decode(bytes: Bytes) -> Option<CachedResponse> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(3)? != MAGIC.as_slice() {
        return None;
    }
    let kind = r.u8()?;
    let status = r.u16()?;
    let selection = match kind {
        b'O' => Some(match r.u8()? {
            b'S' => KeptSelection::Status,
            b'D' => KeptSelection::Default,
            _ => return None,
        }),
        b'R' => None,
        _ => return None,
    };
    let count = r.u16()?;
    let mut headers = HeaderMap::with_capacity(usize::from(count));
    for _ in 0..count {
        let name_len = usize::from(r.u16()?);
        let name = HeaderName::from_bytes(&r.take(name_len)?).ok()?;
        let value_len = usize::try_from(r.u32()?).ok()?;
        let value = HeaderValue::from_maybe_shared(r.take(value_len)?).ok()?;
        headers.append(name, value);
    }
    let spellings = if selection.is_none() {
        let count = r.u16()?;
        let mut names = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let len = usize::from(r.u16()?);
            names.push(String::from_utf8(r.take(len)?.to_vec()).ok()?);
        }
        ResponseSpellings::of(names.iter().map(String::as_str))
    } else {
        None
    };
    let overrides_len = usize::try_from(r.u32()?).ok()?;
    let overrides = match overrides_len {
        0 => None,
        n => Some(Box::new(serde_json::from_slice(&r.take(n)?).ok()?)),
    };
    let body_len = usize::try_from(r.u32()?).ok()?;
    let body = r.take(body_len)?;
    if !r.is_done() {
        return None;
    }
    Some(match selection {
        Some(selection) => CachedResponse::Output {
            status,
            headers,
            body,
            selection,
            overrides,
        },
        None => CachedResponse::Response {
            status,
            headers,
            body,
            spellings,
        },
    })
}

struct Reader {
    bytes: Bytes,
    at: usize,
}

impl Reader {
    fn take(&mut self, n: usize) -> Option<Bytes> {
        let end = self.at.checked_add(n)?;
        let out = self.bytes.get(self.at..end)?;
        let out = self.bytes.slice_ref(out);
        self.at = end;
        Some(out)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn is_done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(entry: CachedResponse) -> CachedResponse {
        decode(encode(&entry)).expect("decodes")
    }

    #[test]
    fn outputs_and_responses_come_back_whole() {
        let mut headers = HeaderMap::new();
        headers.append("content-type", HeaderValue::from_static("application/json"));
        headers.append("set-cookie", HeaderValue::from_static("a=1"));
        headers.append("set-cookie", HeaderValue::from_static("b=2"));
        let mut overrides = serde_json::Map::new();
        overrides.insert("status".into(), serde_json::json!(201));
        let out = round_trip(CachedResponse::Output {
            status: 200,
            headers: headers.clone(),
            body: Bytes::from_static(b"{\"a\":1}"),
            selection: KeptSelection::Default,
            overrides: Some(Box::new(overrides.clone())),
        });
        let CachedResponse::Output {
            status,
            headers: h,
            body,
            selection,
            overrides: o,
        } = out
        else {
            panic!("not an output")
        };
        assert_eq!((status, &body[..]), (200, &b"{\"a\":1}"[..]));
        assert_eq!(h, headers);
        assert_eq!(selection, KeptSelection::Default);
        assert_eq!(o.as_deref(), Some(&overrides));
        let resp = round_trip(CachedResponse::Response {
            status: 404,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            spellings: None,
        });
        assert!(
            matches!(resp, CachedResponse::Response { status: 404, ref body, spellings: None, .. } if body.is_empty())
        );
        let spelled = ResponseSpellings::of(["X-CuStOm-Header", "Content-Type"]);
        let resp = round_trip(CachedResponse::Response {
            status: 200,
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"x"),
            spellings: spelled.clone(),
        });
        let CachedResponse::Response { spellings, .. } = resp else {
            panic!("not a response")
        };
        assert_eq!(spellings, spelled);
    }

    #[test]
    fn anything_else_is_a_miss() {
        let good = encode(&CachedResponse::Response {
            status: 200,
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"x"),
            spellings: ResponseSpellings::of(["X-Kept"]),
        });
        assert!(decode(Bytes::from_static(b"")).is_none());
        assert!(decode(Bytes::from_static(b"TG2R\x00\xc8")).is_none());
        // Another version's entry.
        let mut old = BytesMut::from(&good[..]);
        old[2] = b'1';
        assert!(decode(old.freeze()).is_none());
        let mut longer = BytesMut::from(&good[..]);
        longer.put_u8(0);
        assert!(decode(longer.freeze()).is_none());
        for cut in 0..good.len() {
            assert!(decode(good.slice(..cut)).is_none(), "cut at {cut}");
        }
        let mut bad_header = BytesMut::from(&b"TG2R\x00\xc8\x00\x01\x00\x02a\x00"[..]);
        bad_header.put_u32(0);
        bad_header.put_u32(0);
        bad_header.put_u32(0);
        assert!(decode(bad_header.freeze()).is_none());
    }
}
