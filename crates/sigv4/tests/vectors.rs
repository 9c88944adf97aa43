//! The captured CLI/botocore vectors of spec §4: the canonical request we
//! build must be byte-identical, and the captured signatures must verify.

mod common;

use common::*;
use tollgate_sigv4::{canonical_request, Verified};

fn vector_a() -> Req {
    Req::new("GET", "/restapis", Some("limit=5"))
        .header("Host", "127.0.0.1:18555")
        .header("Accept", "application/json")
        .header("X-Amz-Date", "20261122T025250Z")
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/apigateway/aws4_request, \
             SignedHeaders=accept;host;x-amz-date, \
             Signature=06cdc2767f31d75ec602d5af24bf1d07067447161973eae0a4e4cbd09d65376f",
        )
}

fn vector_b() -> Req {
    Req::new(
        "PUT",
        "/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Frestapis%2Fabcdefghij%2Fstages%2Fdev",
        None,
    )
    .header("Host", "127.0.0.1:18555")
    .header("Accept", "application/json")
    .header("Content-Type", "application/json")
    .header("X-Amz-Date", "20261122T025255Z")
    .header(
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/apigateway/aws4_request, \
         SignedHeaders=accept;content-type;host;x-amz-date, \
         Signature=73b3db10c7a427584c463144ea20542ea096d107dbd130301763f77f134db10d",
    )
    .body(br#"{"tags": {"k1": "v1"}}"#)
}

fn vector_c() -> Req {
    Req::new("POST", "/prod/@connections/abc%3D", None)
        .header("Host", "127.0.0.1:18555")
        .header("X-Amz-Date", "20261122T025358Z")
        .header("X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLETOKEN")
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261122/eu-west-1/execute-api/aws4_request, \
             SignedHeaders=host;x-amz-date;x-amz-security-token, \
             Signature=b2dcc725adb2b81577aea126f6ba1a2bec442fd5b77dd7f27934b3414f130fee",
        )
        .body(br#"{"a":1}"#)
}

fn vector_d() -> Req {
    Req::new(
        "GET",
        "/prod",
        Some(
            "room=lobby&X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIDEXAMPLE%2F20240115%2Fus-east-1%2Fexecute-api%2Faws4_request\
             &X-Amz-Date=20240115T120000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host\
             &X-Amz-Security-Token=SESSIONTOKEN\
             &X-Amz-Signature=9e673d7075365fa3859d2fe7da31fee8c6da45c809d10cd480d3b43ed5269add",
        ),
    )
    .header("Host", "abc123defg.execute-api.us-east-1.amazonaws.com")
}

fn vectors() -> [Req; 4] {
    [vector_a(), vector_b(), vector_c(), vector_d()]
}

#[test]
fn a_canonical_request_and_signature() {
    let req = vector_a();
    let canonical = canonical_request(&req.as_incoming()).unwrap();
    assert_eq!(
        canonical,
        "GET\n/restapis\nlimit=5\naccept:application/json\nhost:127.0.0.1:18555\n\
         x-amz-date:20261122T025250Z\n\naccept;host;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        sha256_hex(canonical.as_bytes()),
        "9841b608ec42dd3a5ca37d50c23de87c88eff48028254ddff805bdb46e492b8a"
    );
    let verified = verifier("apigateway")
        .without_clock_check()
        .verify(&req.as_incoming(), at("20000101T000000Z"))
        .unwrap();
    assert_eq!(
        verified,
        Verified {
            access_key_id: "AKIDEXAMPLE".into(),
            region: "us-east-1".into(),
            service: "apigateway".into(),
        }
    );
    // Same with the clock check on and the clock injected.
    verifier("apigateway")
        .verify(&req.as_incoming(), at("20261122T025300Z"))
        .unwrap();
}

#[test]
fn b_double_encoded_path() {
    let req = vector_b();
    assert_eq!(
        canonical_request(&req.as_incoming()).unwrap(),
        "PUT\n/tags/arn%253Aaws%253Aapigateway%253Aus-east-1%253A%253A%252Frestapis%252Fabcdefghij%252Fstages%252Fdev\n\n\
         accept:application/json\ncontent-type:application/json\nhost:127.0.0.1:18555\n\
         x-amz-date:20261122T025255Z\n\naccept;content-type;host;x-amz-date\n\
         02ccf1057354f3e456d592b31a71c5179e74f8f957617365294bf8b0f3c0c562"
    );
    verifier("apigateway")
        .verify(&req.as_incoming(), at("20261122T025255Z"))
        .unwrap();
}

#[test]
fn c_connections_with_session_token() {
    let req = vector_c();
    assert_eq!(
        canonical_request(&req.as_incoming()).unwrap(),
        "POST\n/prod/%40connections/abc%253D\n\nhost:127.0.0.1:18555\n\
         x-amz-date:20261122T025358Z\nx-amz-security-token:FQoGZXIvYXdzEXAMPLETOKEN\n\n\
         host;x-amz-date;x-amz-security-token\n\
         015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"
    );
    let keys = provider(&[("ASIAEXAMPLE", "secret", Some("FQoGZXIvYXdzEXAMPLETOKEN"))]);
    let verified = tollgate_sigv4::Verifier::new(keys, "execute-api")
        .with_regions(["eu-west-1"])
        .verify(&req.as_incoming(), at("20261122T025358Z"))
        .unwrap();
    assert_eq!(verified.access_key_id, "ASIAEXAMPLE");
    assert_eq!(verified.region, "eu-west-1");
    assert_eq!(verified.service, "execute-api");
}

#[test]
fn d_presigned_websocket_connect() {
    let req = vector_d();
    assert_eq!(
        canonical_request(&req.as_incoming()).unwrap(),
        "GET\n/prod\n\
         X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240115%2Fus-east-1%2Fexecute-api%2Faws4_request\
         &X-Amz-Date=20240115T120000Z&X-Amz-Expires=300&X-Amz-Security-Token=SESSIONTOKEN\
         &X-Amz-SignedHeaders=host&room=lobby\n\
         host:abc123defg.execute-api.us-east-1.amazonaws.com\n\nhost\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    verifier("execute-api")
        .without_clock_check()
        .verify(&req.as_incoming(), at("20300101T000000Z"))
        .unwrap();
    let verified = verifier("execute-api")
        .verify(&req.as_incoming(), at("20240115T120010Z"))
        .unwrap();
    assert_eq!(verified.region, "us-east-1");
}

#[test]
fn vectors_reject_a_wrong_secret() {
    let keys = provider(&[
        ("AKIDEXAMPLE", "not-the-secret", None),
        ("ASIAEXAMPLE", "not-the-secret", None),
    ]);
    for (req, service) in
        vectors()
            .into_iter()
            .zip(["apigateway", "apigateway", "execute-api", "execute-api"])
    {
        let err = tollgate_sigv4::Verifier::new(keys.clone(), service)
            .without_clock_check()
            .verify(&req.as_incoming(), at("20261122T025255Z"))
            .unwrap_err();
        assert_eq!(err.error_type, "InvalidSignatureException");
        assert_eq!(err.status, 403);
        assert_eq!(err.message, MISMATCH);
    }
}

#[test]
fn unsigned_extra_headers_do_not_matter() {
    for (req, service, secret) in [
        (vector_a(), "apigateway", SECRET),
        (vector_c(), "execute-api", "secret"),
        (vector_d(), "execute-api", SECRET),
    ] {
        let req = req
            .header("User-Agent", "aws-cli/1.46 Python/3.12")
            .header("X-Amzn-Trace-Id", "Root=1-abc")
            .header("Connection", "keep-alive")
            .header("Content-Type", "text/plain");
        let keys = provider(&[("AKIDEXAMPLE", secret, None), ("ASIAEXAMPLE", secret, None)]);
        tollgate_sigv4::Verifier::new(keys, service)
            .without_clock_check()
            .verify(&req.as_incoming(), at("20261122T025255Z"))
            .unwrap();
    }
}
