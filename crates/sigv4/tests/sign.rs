//! The signer's output must pass our own verifier (and fail it once anything changes).

use std::collections::HashMap;
use std::time::SystemTime;

use http::HeaderMap;
use tollgate_sigv4::{sign, Credential, IncomingRequest, Signer, Verifier};

fn credential() -> Credential {
    Credential {
        secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        session_token: None,
    }
}

fn signed(body: &[u8], query: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("host", "lambda.eu-west-1.amazonaws.com".parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    sign(
        "POST",
        "/2015-03-31/functions/my-fn/invocations",
        query,
        &mut headers,
        body,
        &Signer {
            access_key_id: "AKIDEXAMPLE",
            credential: &credential(),
            region: "eu-west-1",
            service: "lambda",
        },
        SystemTime::now(),
    );
    headers
}

#[test]
fn signed_requests_verify() {
    let keys: HashMap<String, Credential> = [("AKIDEXAMPLE".to_string(), credential())].into();
    let verifier = Verifier::new(keys, "lambda");
    let body = br#"{"hello":"world"}"#;
    let headers = signed(body, Some("Qualifier=live"));
    let req =
        |path: &'static str, query: Option<&'static str>, body: &'static [u8]| IncomingRequest {
            method: "POST",
            raw_path: path,
            raw_query: query,
            headers: &headers,
            body,
        };
    let ok = verifier.verify(
        &req(
            "/2015-03-31/functions/my-fn/invocations",
            Some("Qualifier=live"),
            br#"{"hello":"world"}"#,
        ),
        SystemTime::now(),
    );
    assert!(ok.is_ok(), "{ok:?}");
    assert!(headers["authorization"]
        .to_str()
        .unwrap()
        .contains("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date"));
    for (path, query, body) in [
        (
            "/2015-03-31/functions/other/invocations",
            Some("Qualifier=live"),
            &br#"{"hello":"world"}"#[..],
        ),
        (
            "/2015-03-31/functions/my-fn/invocations",
            Some("Qualifier=prod"),
            &br#"{"hello":"world"}"#[..],
        ),
        (
            "/2015-03-31/functions/my-fn/invocations",
            Some("Qualifier=live"),
            &br#"{"hello":"there"}"#[..],
        ),
    ] {
        assert!(
            verifier
                .verify(&req(path, query, body), SystemTime::now())
                .is_err(),
            "{path} {query:?}"
        );
    }
}

/// S3 signs its path encoded once and without dot-segment removal; the other services
/// encode it once more and normalise it.
#[test]
fn s3_paths_are_encoded_once_and_kept() {
    let path = "/b/a%20b//c/../d";
    for (service, expected) in [("s3", "/b/a%20b//c/../d"), ("sqs", "/b/a%2520b/d")] {
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1".parse().unwrap());
        sign(
            "GET",
            path,
            None,
            &mut headers,
            b"",
            &Signer {
                access_key_id: "AKIDEXAMPLE",
                credential: &credential(),
                region: "us-east-1",
                service,
            },
            SystemTime::now(),
        );
        let req = IncomingRequest {
            method: "GET",
            raw_path: path,
            raw_query: None,
            headers: &headers,
            body: b"",
        };
        let canonical = tollgate_sigv4::canonical_request(&req).unwrap();
        assert_eq!(canonical.lines().nth(1), Some(expected), "{service}");
        let keys: HashMap<String, Credential> = [("AKIDEXAMPLE".to_string(), credential())].into();
        let verified = Verifier::new(keys, "s3").verify_for(&req, SystemTime::now(), service);
        assert!(verified.is_ok(), "{service}: {verified:?}");
    }
}

/// AWS's published example of a signed S3 GET Object request.
#[test]
fn s3_get_object_example_verifies() {
    let mut headers = HeaderMap::new();
    for (k, v) in [
        ("host", "examplebucket.s3.amazonaws.com"),
        ("range", "bytes=0-9"),
        (
            "x-amz-content-sha256",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        ("x-amz-date", "20130524T000000Z"),
        ("authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
    ] {
        headers.insert(k, v.parse().unwrap());
    }
    let keys: HashMap<String, Credential> =
        [("AKIAIOSFODNN7EXAMPLE".to_string(), credential())].into();
    let req = IncomingRequest {
        method: "GET",
        raw_path: "/test.txt",
        raw_query: None,
        headers: &headers,
        body: b"",
    };
    let verified = Verifier::new(keys, "s3")
        .without_clock_check()
        .verify(&req, SystemTime::now());
    assert!(verified.is_ok(), "{verified:?}");
}
