//! The canonical request, string to sign and signing key (spec §2 steps 7–10, §3).

use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode, percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

use crate::authorization::{parse_auth, parse_query, Auth, QueryParam, ALGORITHM, TERMINATOR};
use crate::error::AuthError;
use crate::request::IncomingRequest;

const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
const UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

/// Everything except `A-Z a-z 0-9 - _ . ~` is percent-encoded (query parts).
const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// The canonical URI additionally keeps `/` as segment separator.
const PATH: &AsciiSet = &STRICT.remove(b'/');

/// The canonical request (spec §3) this server builds for `req`, for
/// diagnostics and tests. Uses the first acceptable payload hash (the body's
/// SHA-256 unless `x-amz-content-sha256` says otherwise). Non-UTF-8 header
/// bytes are shown lossily; verification hashes the exact bytes.
pub fn canonical_request(req: &IncomingRequest<'_>) -> Result<String, AuthError> {
    let query = parse_query(req.raw_query);
    let auth = parse_auth(req, &query)?;
    let payload_hash = payload_hashes(req, &auth)?
        .into_iter()
        .next()
        .unwrap_or_default();
    let canonical = build_canonical_request(req, &query, &auth, &payload_hash);
    Ok(String::from_utf8_lossy(&canonical).into_owned())
}

/// The payload-hash lines that are acceptable for this request.
pub(crate) fn payload_hashes(
    req: &IncomingRequest<'_>,
    auth: &Auth,
) -> Result<Vec<String>, AuthError> {
    let declared: Vec<&[u8]> = req
        .headers
        .get_all("x-amz-content-sha256")
        .iter()
        .map(|v| v.as_bytes())
        .collect();
    let body_hash = || hex::encode(Sha256::digest(req.body));
    match declared[..] {
        [] => {
            let mut hashes = vec![body_hash()];
            // botocore presigns with the empty-body hash, other signers with
            // UNSIGNED-PAYLOAD; both are fine for GET (incl. WebSocket upgrades).
            if auth.presigned && req.method.eq_ignore_ascii_case("GET") {
                hashes.push(UNSIGNED_PAYLOAD.to_string());
            }
            Ok(hashes)
        }
        [value] if value == UNSIGNED_PAYLOAD.as_bytes() => Ok(vec![UNSIGNED_PAYLOAD.to_string()]),
        // Unsigned chunks with a trailing checksum: as unsigned as UNSIGNED-PAYLOAD.
        [value] if value == UNSIGNED_TRAILER.as_bytes() => Ok(vec![UNSIGNED_TRAILER.to_string()]),
        [value] if value.eq_ignore_ascii_case(body_hash().as_bytes()) => {
            // Sign with the value as sent (the client hashed its own spelling).
            Ok(vec![String::from_utf8_lossy(value).into_owned()])
        }
        _ => Err(AuthError::payload_mismatch()),
    }
}

pub(crate) fn build_canonical_request(
    req: &IncomingRequest<'_>,
    query: &[QueryParam],
    auth: &Auth,
    payload_hash: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + req.raw_path.len());
    out.extend_from_slice(req.method.to_ascii_uppercase().as_bytes());
    out.push(b'\n');
    if auth.service == "s3" {
        // S3 signs the path encoded once and as it is: keys may hold `//`, `.` and `..`.
        let decoded: Vec<u8> = percent_decode(req.raw_path.as_bytes()).collect();
        out.extend(percent_encode(&decoded, PATH).flat_map(str::bytes));
    } else {
        out.extend(
            percent_encode(remove_dot_segments(req.raw_path).as_bytes(), PATH).flat_map(str::bytes),
        );
    }
    out.push(b'\n');
    out.extend_from_slice(canonical_query(query, auth.presigned).as_bytes());
    out.push(b'\n');
    for name in auth.signed_headers.split(';') {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        for (i, value) in req.headers.get_all(name).iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_collapsed(&mut out, value.as_bytes());
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(auth.signed_headers.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    out
}

/// Appends a header value trimmed, with inner runs of spaces/tabs collapsed.
fn push_collapsed(out: &mut Vec<u8>, value: &[u8]) {
    let is_ws = |b: &u8| *b == b' ' || *b == b'\t';
    let mut pending_space = false;
    let mut started = false;
    for b in value {
        if is_ws(b) {
            pending_space = started;
        } else {
            if pending_space {
                out.push(b' ');
                pending_space = false;
            }
            out.push(*b);
            started = true;
        }
    }
}

/// Dot-segment removal as botocore and aws-sigv4 do it: `.` and empty
/// segments vanish, `..` pops; the trailing slash is kept.
fn remove_dot_segments(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    out.push('/');
    out.push_str(&segments.join("/"));
    if !segments.is_empty() && path.ends_with('/') {
        out.push('/');
    }
    out
}

fn canonical_query(query: &[QueryParam], presigned: bool) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .filter(|p| !(presigned && p.name == b"X-Amz-Signature"))
        .map(|p| {
            (
                percent_encode(&p.name, STRICT).to_string(),
                percent_encode(&p.value, STRICT).to_string(),
            )
        })
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

pub(crate) fn string_to_sign(timestamp: &str, scope: &str, canonical_request: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{timestamp}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request))
    )
}

pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Signing keys this thread derived lately, newest last: a key is four HMACs and lives a
/// day, so a signer calling one service over and over derives it once a day, not once per
/// request. Per thread, so no lock is shared between the data plane's worker threads.
const RECENT_KEYS: usize = 8;

type RecentKey = ((String, String, String, String), [u8; 32]);

thread_local! {
    static RECENT: std::cell::RefCell<Vec<RecentKey>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// [`signing_key`], remembered per thread for the last few (secret, date, region, service).
pub(crate) fn cached_signing_key(
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
) -> [u8; 32] {
    RECENT.with(|recent| {
        let mut recent = recent.borrow_mut();
        let found = recent
            .iter()
            .find(|((s, d, r, v), _)| s == secret && d == date && r == region && v == service);
        if let Some((_, key)) = found {
            return *key;
        }
        let key = signing_key(secret, date, region, service);
        if recent.len() == RECENT_KEYS {
            recent.remove(0);
        }
        let id = (secret.into(), date.into(), region.into(), service.into());
        recent.push((id, key));
        key
    })
}

pub(crate) fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, TERMINATOR.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments() {
        for (input, expected) in [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("/a/b/../c/./d", "/a/c/d"),
            ("/a/b/", "/a/b/"),
            ("/..", "/"),
            ("/../a", "/a"),
            ("/a/..", "/"),
            ("/a//b", "/a/b"),
            ("/%2E%2E/a", "/%2E%2E/a"),
        ] {
            assert_eq!(remove_dot_segments(input), expected, "{input}");
        }
    }

    #[test]
    fn collapsing_whitespace() {
        let mut out = Vec::new();
        push_collapsed(&mut out, b" \t a  \t b\tc  ");
        assert_eq!(out, b"a b c");
        let mut out = Vec::new();
        push_collapsed(&mut out, b"   ");
        assert!(out.is_empty());
    }

    #[test]
    fn a_remembered_signing_key_is_the_derived_one() {
        for _ in 0..2 {
            for date in ["20150830", "20150831"] {
                assert_eq!(
                    cached_signing_key("secret", date, "us-east-1", "iam"),
                    signing_key("secret", date, "us-east-1", "iam")
                );
            }
        }
        assert_ne!(
            cached_signing_key("other", "20150830", "us-east-1", "iam"),
            cached_signing_key("secret", "20150830", "us-east-1", "iam")
        );
        for n in 0..(2 * RECENT_KEYS) {
            let region = format!("r{n}");
            assert_eq!(
                cached_signing_key("secret", "20150830", &region, "iam"),
                signing_key("secret", "20150830", &region, "iam")
            );
        }
    }

    #[test]
    fn signing_key_vector_a() {
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20261122",
            "us-east-1",
            "apigateway",
        );
        assert_eq!(
            hex::encode(key),
            "11398e91da6b4520a10328740027d91ac95119dbd68cc11e6a34ed1015d46aa7"
        );
    }
}
