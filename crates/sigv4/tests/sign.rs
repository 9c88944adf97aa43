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
