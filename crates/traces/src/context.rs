//! The trace a request belongs to: read from the caller's `X-Amzn-Trace-Id` (AWS's form,
//! kept first as API Gateway does) or W3C `traceparent`, else started here, and written in
//! both forms for what the gateway calls.
//!
//! One id serves both worlds: X-Ray's `Root=1-{8 hex epoch}-{24 hex}` is the 32 hex digits
//! of an OpenTelemetry trace id, as AWS's own OpenTelemetry distribution maps them.

use std::num::NonZeroU64;

/// `X-Amzn-Trace-Id` and `traceparent` as header names made once (a name given as text is
/// parsed on every lookup).
pub const X_AMZN_TRACE_ID: http::HeaderName = http::HeaderName::from_static("x-amzn-trace-id");
pub const TRACEPARENT: http::HeaderName = http::HeaderName::from_static("traceparent");

/// A caller's `X-Amzn-Trace-Id` and `traceparent` (the first of each, as `HeaderMap::get`
/// answers).
pub fn caller_headers(h: &http::HeaderMap) -> (Option<&str>, Option<&str>) {
    fn text(v: Option<&http::HeaderValue>) -> Option<&str> {
        v.and_then(|v| v.to_str().ok())
    }
    // A request's few headers are passed over once for both: each lookup would hash its
    // name (~200 instructions; a standard name is told apart from these in one compare).
    if h.len() > 16 {
        return (text(h.get(&X_AMZN_TRACE_ID)), text(h.get(&TRACEPARENT)));
    }
    let (mut amzn, mut w3c) = (None, None);
    for (name, value) in h {
        if *name == X_AMZN_TRACE_ID {
            amzn.get_or_insert(value);
        } else if *name == TRACEPARENT {
            w3c.get_or_insert(value);
        }
    }
    (text(amzn), text(w3c))
}

/// Where a request stands in its trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    /// 128 bits, never zero: X-Ray's root, W3C's trace id (as two halves, high first: a
    /// `u128` would align every request's future to 16 bytes).
    trace_id: [u64; 2],
    /// The caller's span, when the caller named one (`Parent=`, `traceparent`).
    pub parent: Option<NonZeroU64>,
    /// The gateway's span for this request.
    pub span_id: u64,
    /// The caller's sampling decision, when it made one.
    pub caller_sampled: Option<bool>,
}

impl TraceContext {
    /// The trace id.
    pub fn trace_id(&self) -> u128 {
        u128::from(self.trace_id[0]) << 64 | u128::from(self.trace_id[1])
    }

    /// The context of a request with these headers; a new trace when neither names a
    /// well-formed one. `now_secs` dates a new X-Ray root.
    pub fn incoming(amzn: Option<&str>, traceparent: Option<&str>, now_secs: u64) -> Self {
        let from_amzn = amzn.and_then(parse_amzn);
        let from_w3c = || traceparent.and_then(parse_traceparent);
        let (trace_id, parent, caller_sampled) = match from_amzn.or_else(from_w3c) {
            Some(found) => found,
            None => (new_trace_id(now_secs), None, None),
        };
        TraceContext {
            trace_id: [(trace_id >> 64) as u64, trace_id as u64],
            parent: parent.and_then(NonZeroU64::new),
            span_id: new_span_id(),
            caller_sampled,
        }
    }

    /// The span integrations and functions are called from: the `Parent` they are given.
    /// Derived from the request's span id (an odd multiplier is a bijection, so it is as
    /// unique as that id) rather than stored: every request's future carries this context.
    pub fn downstream(&self) -> u64 {
        self.span_id
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29)
            | 1
    }

    /// `Root=1-{8 hex}-{24 hex};Parent={16 hex};Sampled={0|1}`, as integrations get it.
    /// Written into a fixed buffer digit by digit: this runs for every request.
    pub fn amzn_header(&self, sampled: bool) -> String {
        let mut b = *b"Root=1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx;Parent=xxxxxxxxxxxxxxxx;Sampled=0";
        let [high, low] = self.trace_id;
        hex_into(&mut b[7..15], high >> 32);
        hex_into(&mut b[16..24], high & 0xffff_ffff);
        hex_into(&mut b[24..40], low);
        hex_into(&mut b[48..64], self.downstream());
        b[73] = if sampled { b'1' } else { b'0' };
        ascii(&b)
    }

    /// `00-{32 hex}-{16 hex}-{01|00}`: W3C trace context with the downstream span as parent.
    pub fn traceparent(&self, sampled: bool) -> String {
        let mut b = *b"00-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-xxxxxxxxxxxxxxxx-00";
        hex_into(&mut b[3..19], self.trace_id[0]);
        hex_into(&mut b[19..35], self.trace_id[1]);
        hex_into(&mut b[36..52], self.downstream());
        b[54] = if sampled { b'1' } else { b'0' };
        ascii(&b)
    }
}

/// Writes the low `out.len()` hex digits of `v`, lower case, into `out`.
fn hex_into(out: &mut [u8], mut v: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for d in out.iter_mut().rev() {
        *d = HEX[(v & 0xf) as usize];
        v >>= 4;
    }
}

/// A header's text from a buffer of ASCII bytes (`from_utf8`'s ASCII path, not the lossy
/// one's chunk walk: this is per request).
fn ascii(b: &[u8]) -> String {
    std::str::from_utf8(b)
        .map(str::to_owned)
        .unwrap_or_default()
}

/// `Root=1-{8 hex}-{24 hex}[;Parent={16 hex}][;Sampled={0|1|?}]`, fields in any order.
fn parse_amzn(header: &str) -> Option<(u128, Option<u64>, Option<bool>)> {
    let (mut root, mut parent, mut sampled) = (None, None, None);
    for field in header.split(';') {
        let Some((k, v)) = field.trim().split_once('=') else {
            continue;
        };
        match k {
            "Root" => {
                let rest = v.strip_prefix("1-")?;
                let (epoch, unique) = rest.split_once('-')?;
                if epoch.len() != 8 || unique.len() != 24 {
                    return None;
                }
                root = Some(hex_u128(epoch)? << 96 | hex_u128(unique)?);
            }
            "Parent" if v.len() == 16 => parent = hex_u128(v).map(|p| p as u64),
            "Sampled" => {
                sampled = match v {
                    "1" => Some(true),
                    "0" => Some(false),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    let root = root.filter(|r| *r != 0)?;
    Some((root, parent.filter(|p| *p != 0), sampled))
}

/// `{version}-{32 hex}-{16 hex}-{2 hex flags}` (version `ff` is invalid).
fn parse_traceparent(header: &str) -> Option<(u128, Option<u64>, Option<bool>)> {
    let mut parts = header.trim().split('-');
    let version = parts.next()?;
    let (trace, span, flags) = (parts.next()?, parts.next()?, parts.next()?);
    if version.len() != 2 || version == "ff" || trace.len() != 32 || span.len() != 16 {
        return None;
    }
    if flags.len() != 2 || (version == "00" && parts.next().is_some()) {
        return None;
    }
    hex_u128(version)?;
    let trace = hex_u128(trace).filter(|t| *t != 0)?;
    let span = hex_u128(span).filter(|s| *s != 0)? as u64;
    let flags = hex_u128(flags)?;
    Some((trace, Some(span), Some(flags & 1 == 1)))
}

fn hex_u128(s: &str) -> Option<u128> {
    if s.is_empty() || s.len() > 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(s, 16).ok()
}

/// A new trace id: X-Ray's epoch seconds, then 96 random bits.
fn new_trace_id(now_secs: u64) -> u128 {
    let random: u128 = rand::random::<u128>() & ((1u128 << 96) - 1);
    u128::from(now_secs as u32) << 96 | random | 1
}

/// A new span id, never zero.
pub fn new_span_id() -> u64 {
    rand::random::<u64>() | 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_headers_are_the_first_of_each_in_small_and_large_maps() {
        for filler in [0, 40] {
            let mut h = http::HeaderMap::new();
            for n in 0..filler {
                h.insert(
                    http::HeaderName::from_bytes(format!("x-f{n}").as_bytes()).unwrap(),
                    http::HeaderValue::from_static("v"),
                );
            }
            assert_eq!(caller_headers(&h), (None, None));
            h.append(TRACEPARENT, http::HeaderValue::from_static("tp1"));
            h.append(TRACEPARENT, http::HeaderValue::from_static("tp2"));
            h.append(
                X_AMZN_TRACE_ID,
                http::HeaderValue::from_bytes(b"\xff").unwrap(),
            );
            assert_eq!(caller_headers(&h), (None, Some("tp1")), "{filler}");
            h.insert(X_AMZN_TRACE_ID, http::HeaderValue::from_static("Root=x"));
            assert_eq!(
                caller_headers(&h),
                (Some("Root=x"), Some("tp1")),
                "{filler}"
            );
        }
    }

    #[test]
    fn a_new_trace_is_dated_and_written_in_both_forms() {
        let t = TraceContext::incoming(None, None, 1_700_000_000);
        let amzn = t.amzn_header(false);
        assert!(amzn.starts_with("Root=1-6553f100-"), "{amzn}");
        assert!(amzn.ends_with(";Sampled=0"), "{amzn}");
        let parts: Vec<&str> = amzn.split(';').collect();
        let (epoch, unique) = parts[0]["Root=1-".len()..].split_once('-').unwrap();
        let parent = parts[1].strip_prefix("Parent=").unwrap();
        assert_eq!((epoch.len(), unique.len(), parent.len()), (8, 24, 16));
        let w3c = t.traceparent(true);
        assert_eq!(w3c, format!("00-{epoch}{unique}-{parent}-01"));
        assert_eq!((t.parent, t.caller_sampled), (None, None));
        assert_ne!(t.span_id, t.downstream());
    }

    #[test]
    fn the_callers_amzn_header_is_kept_before_traceparent() {
        let t = TraceContext::incoming(
            Some("Root=1-65a1b2c3-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"),
            Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"),
            0,
        );
        assert_eq!(t.trace_id(), 0x65a1b2c3_0123456789abcdef01234567);
        assert_eq!(t.parent.map(NonZeroU64::get), Some(0x53995c3f42cd8ad8));
        assert_eq!(t.caller_sampled, Some(true));
        assert!(t
            .amzn_header(true)
            .starts_with("Root=1-65a1b2c3-0123456789abcdef01234567;Parent="));
        // A root alone: no parent, no decision.
        let t = TraceContext::incoming(Some("Root=1-65a1b2c3-0123456789abcdef01234567"), None, 0);
        assert_eq!((t.parent, t.caller_sampled), (None, None));
    }

    #[test]
    fn traceparent_is_read_when_no_amzn_header_names_a_trace() {
        let w3c = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        for amzn in [None, Some("Root=1-abc-def"), Some("Self=1-x")] {
            let t = TraceContext::incoming(amzn, Some(w3c), 0);
            assert_eq!(t.trace_id(), 0x0af7651916cd43dd8448eb211c80319c);
            assert_eq!(t.parent.map(NonZeroU64::get), Some(0xb7ad6b7169203331));
            assert_eq!(t.caller_sampled, Some(true));
            assert!(t
                .amzn_header(true)
                .starts_with("Root=1-0af76519-16cd43dd8448eb211c80319c;"));
        }
        let unsampled = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
        assert_eq!(
            TraceContext::incoming(None, Some(unsampled), 0).caller_sampled,
            Some(false)
        );
    }

    #[test]
    fn malformed_headers_start_a_new_trace() {
        for w3c in [
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
            "00-0af7651916cd43dd8448eb211c8031zz-b7ad6b7169203331-01",
            "",
        ] {
            let t = TraceContext::incoming(
                Some("Root=1-zzzzzzzz-0123456789abcdef01234567"),
                Some(w3c),
                5,
            );
            assert_eq!(t.trace_id() >> 96, 5, "{w3c}");
            assert_eq!((t.parent, t.caller_sampled), (None, None), "{w3c}");
        }
    }
}
