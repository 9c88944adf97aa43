//! No input may panic the verifier: a seeded pseudo-random loop over
//! malformed Authorization headers, dates, paths, queries and header bytes,
//! plus a few very large inputs. (A panic fails the test.)

mod common;

use std::time::Instant;

use common::*;
use http::{HeaderName, HeaderValue};
use tollgate_sigv4::canonical_request;

/// xorshift64*: tiny, deterministic, good enough to shuffle fragments.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    /// A string glued from interesting fragments and random bytes.
    fn junk(&mut self, fragments: &[&str], max_parts: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..self.below(max_parts + 1) {
            if self.below(5) == 0 {
                out.push(self.next() as u8);
            } else {
                out.extend_from_slice(self.pick(fragments).as_bytes());
            }
        }
        out
    }
}

const AUTH_FRAGMENTS: &[&str] = &[
    "AWS4-HMAC-SHA256 ",
    "AWS4-HMAC-SHA256",
    "Bearer ",
    "Credential=",
    "SignedHeaders=",
    "Signature=",
    "AKIDEXAMPLE",
    "/",
    "//",
    "20261122",
    "20261122/us-east-1/apigateway/aws4_request",
    "us-east-1",
    "apigateway",
    "execute-api",
    "aws4_request",
    "host",
    "x-amz-date",
    "accept;host;x-amz-date",
    "host;x-amz-date",
    ";",
    ";;",
    ",",
    ", ",
    "=",
    "==",
    " ",
    "\t",
    "é",
    "%",
    "%zz",
    "06cdc2767f31d75ec602d5af",
    "\"",
    "'",
    "\u{0}",
];
const QUERY_FRAGMENTS: &[&str] = &[
    "X-Amz-Algorithm=AWS4-HMAC-SHA256",
    "X-Amz-Credential=AKIDEXAMPLE%2F20261122%2Fus-east-1%2Fexecute-api%2Faws4_request",
    "X-Amz-Date=20261122T025250Z",
    "X-Amz-Expires=",
    "300",
    "604801",
    "-1",
    "99999999999999999999999",
    "X-Amz-SignedHeaders=host",
    "X-Amz-Signature=",
    "X-Amz-Security-Token=",
    "&",
    "=",
    "%",
    "%2",
    "%FF",
    "%00",
    "+",
    "a",
    "room=lobby",
    "&&",
];
const PATH_FRAGMENTS: &[&str] = &[
    "/", "..", ".", "%2E", "%", "%4", "a", "@", "ü", "//", "%FF", "?", "#",
];
const DATE_FRAGMENTS: &[&str] = &[
    "20261122T025250Z",
    "2026",
    "1122",
    "T",
    "Z",
    "99",
    "00",
    "13",
    "32",
    "24",
    "60",
    "-",
    "+",
    " ",
    "Sun, 22 Nov 2026 02:52:50 GMT",
    "Feb",
    "GMT",
];

/// A mostly well-formed SigV4 header: a random subset of the parameters in
/// random order, each value valid or junk, then a few random byte flips.
fn structured_authorization(rng: &mut Rng) -> Vec<u8> {
    let mut params = vec![
        (
            "Credential=",
            [
                "AKIDEXAMPLE/20261122/us-east-1/apigateway/aws4_request",
                "AKIDEXAMPLE/20261122/us-east-1/execute-api/aws4_request",
                "NOPE/20261122/us-east-1/apigateway/aws4_request",
                "a/b/c",
            ],
        ),
        (
            "SignedHeaders=",
            [
                "host;x-amz-date",
                "accept;host;x-amz-date",
                "host",
                "date;host",
            ],
        ),
        (
            "Signature=",
            [
                "06cdc2767f31d75ec602d5af24bf1d07067447161973eae0a4e4cbd09d65376f",
                "00",
                "",
                "zz",
            ],
        ),
    ];
    let mut out = b"AWS4-HMAC-SHA256 ".to_vec();
    let mut first = true;
    while !params.is_empty() {
        let (key, values) = params.swap_remove(rng.below(params.len()));
        if rng.below(6) == 0 {
            continue;
        }
        if !first {
            out.extend_from_slice(rng.pick(&[",", ", ", " , "]).as_bytes());
        }
        first = false;
        out.extend_from_slice(key.as_bytes());
        if rng.below(4) == 0 {
            out.extend(rng.junk(AUTH_FRAGMENTS, 3));
        } else {
            out.extend_from_slice(rng.pick(&values).as_bytes());
        }
    }
    for _ in 0..rng.below(4).saturating_sub(1) {
        let i = rng.below(out.len());
        out[i] = rng.next() as u8;
    }
    out
}

fn header_value(bytes: Vec<u8>) -> Option<HeaderValue> {
    HeaderValue::from_bytes(&bytes).ok()
}

#[test]
fn random_inputs_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let apigw = verifier("apigateway");
    let exec = verifier("execute-api").without_clock_check();
    let now = at("20261122T025250Z");
    let mut outcomes = std::collections::BTreeMap::<&str, usize>::new();
    for round in 0..20_000 {
        let path = String::from_utf8_lossy(&rng.junk(PATH_FRAGMENTS, 8)).into_owned();
        let query = (rng.below(3) > 0)
            .then(|| String::from_utf8_lossy(&rng.junk(QUERY_FRAGMENTS, 10)).into_owned());
        let method = rng.pick(&["GET", "get", "POST", "", "PÜT"]);
        let mut req = Req::new(method, &path, query.as_deref());
        req.body = rng.junk(&["{", "}", "a"], 4);
        let auth = match rng.below(4) {
            0 => None,
            1 => Some(rng.junk(AUTH_FRAGMENTS, 14)),
            _ => Some(structured_authorization(&mut rng)),
        };
        if let Some(v) = auth.and_then(header_value) {
            req.headers.append("authorization", v);
        }
        for name in [
            "host",
            "x-amz-date",
            "date",
            "x-amz-security-token",
            "x-amz-content-sha256",
            "accept",
        ] {
            // Zero, one or two occurrences, sometimes with obs-text bytes.
            if (name == "x-amz-date" || name == "host") && rng.below(3) > 0 {
                req.set(
                    name,
                    if name == "host" {
                        "127.0.0.1:18555"
                    } else {
                        "20261122T025250Z"
                    },
                );
                continue;
            }
            for _ in 0..rng.below(3) {
                let bytes = if name.contains("date") {
                    rng.junk(DATE_FRAGMENTS, 4)
                } else {
                    rng.junk(
                        &[
                            "UNSIGNED-PAYLOAD",
                            "127.0.0.1:18555",
                            " ",
                            "\t",
                            "\u{e9}",
                            "x",
                        ],
                        4,
                    )
                };
                if let Some(v) = header_value(bytes) {
                    req.headers.append(HeaderName::from_static(name), v);
                }
            }
        }
        let incoming = req.as_incoming();
        let result = if round % 2 == 0 {
            apigw.verify(&incoming, now)
        } else {
            exec.verify(&incoming, now)
        };
        let _ = canonical_request(&incoming);
        match result {
            Ok(_) => *outcomes.entry("ok").or_default() += 1,
            Err(e) => {
                assert!(e.status == 403 || e.status == 400, "{e:?}");
                assert!(!e.message.is_empty());
                *outcomes.entry(e.error_type).or_default() += 1;
            }
        }
    }
    // The generator must reach deep into the verifier, not only step 1.
    for reached in [
        "MissingAuthenticationTokenException",
        "IncompleteSignatureException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "XAmzContentSHA256Mismatch",
    ] {
        assert!(outcomes.contains_key(reached), "{outcomes:?}");
    }
}

#[test]
fn random_bytes_in_every_header_never_panic() {
    let mut rng = Rng(42);
    let v = verifier("apigateway");
    let base = Req::new("GET", "/restapis", Some("limit=5"))
        .header("Host", "127.0.0.1:18555")
        .header("Accept", "application/json")
        .header("X-Amz-Date", "20261122T025250Z")
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/apigateway/aws4_request, \
             SignedHeaders=accept;host;x-amz-date, \
             Signature=06cdc2767f31d75ec602d5af24bf1d07067447161973eae0a4e4cbd09d65376f",
        );
    v.verify(&base.as_incoming(), at("20261122T025250Z"))
        .unwrap();
    for _ in 0..5_000 {
        let mut req = base.clone();
        let name = rng.pick(&[
            "host",
            "accept",
            "x-amz-date",
            "authorization",
            "x-amz-security-token",
        ]);
        // Mutate a few bytes of one header (HeaderValue rejects controls, so retry-free skip).
        let mut bytes = req
            .headers
            .get(name)
            .map(|v| v.as_bytes().to_vec())
            .unwrap_or_default();
        for _ in 0..=rng.below(3) {
            let i = rng.below(bytes.len().max(1));
            if i < bytes.len() {
                bytes[i] = rng.next() as u8;
            }
        }
        if let Some(value) = header_value(bytes) {
            req.headers.insert(HeaderName::from_static(name), value);
        }
        let _ = v.verify(&req.as_incoming(), at("20261122T025250Z"));
        let _ = canonical_request(&req.as_incoming());
    }
}

#[test]
fn huge_inputs_are_handled_quickly() {
    let start = Instant::now();
    let v = verifier("apigateway");
    let now = at("20261122T025250Z");
    let many_names: Vec<String> = (0..20_000).map(|i| format!("h{i:06}")).collect();
    let cases = [
        // Huge Authorization value (also echoed, clipped, in the message).
        Req::new("GET", "/", None)
            .header("Host", "h")
            .header("Authorization", &format!("AWS4-HMAC-SHA256 Credential={}", "é".repeat(100_000))),
        // Thousands of signed headers, none present.
        Req::new("GET", "/", None)
            .header("Host", "h")
            .header("X-Amz-Date", "20261122T025250Z")
            .header(
                "Authorization",
                &format!(
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/apigateway/aws4_request, SignedHeaders={};host, Signature=00",
                    many_names.join(";")
                ),
            ),
        // Deep dot segments and a long query.
        Req::new(
            "GET",
            &"/a/..".repeat(200_000),
            Some(&"x=%2&".repeat(100_000)),
        )
        .header("Host", "h")
        .header("X-Amz-Date", "20261122T025250Z")
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/apigateway/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
        ),
    ];
    for req in &cases {
        let err = v.verify(&req.as_incoming(), now).unwrap_err();
        assert!(err.message.len() < 2_000, "{}", err.message.len());
        let _ = canonical_request(&req.as_incoming());
    }
    assert!(start.elapsed().as_secs() < 20);
}
