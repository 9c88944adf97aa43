//! Every failure of spec §2 with AWS's wording, tampering, clock handling,
//! session tokens, payload hashes and canonicalisation details. Signatures
//! for non-vector requests come from the naive signer in `common`.

mod common;

use std::time::Duration;

use common::*;
use http::HeaderValue;
use tollgate_sigv4::{canonical_request, AuthError, Verifier};

const T: &str = "20261122T025250Z";

/// A correctly signed control-plane GET at time `T` (like vector A).
fn signed_get() -> Req {
    let mut req = Req::new("GET", "/restapis", Some("limit=5"))
        .header("Host", "127.0.0.1:18555")
        .header("Accept", "application/json")
        .header("X-Amz-Date", T);
    Signing::spec("apigateway", T).sign_header_form(
        &mut req,
        &["accept", "host", "x-amz-date"],
        EMPTY_SHA256,
    );
    req
}

/// A correctly signed POST with a body.
fn signed_post(body: &[u8], payload_line: &str, content_sha: Option<&str>) -> Req {
    let mut req = Req::new("POST", "/restapis", None)
        .header("Host", "127.0.0.1:18555")
        .header("X-Amz-Date", T)
        .body(body);
    let mut signed = vec!["host", "x-amz-date"];
    if let Some(v) = content_sha {
        req.set("x-amz-content-sha256", v);
        signed.insert(1, "x-amz-content-sha256");
    }
    Signing::spec("apigateway", T).sign_header_form(&mut req, &signed, payload_line);
    req
}

fn check(req: &Req, now: &str) -> Result<(), AuthError> {
    verifier("apigateway")
        .verify(&req.as_incoming(), at(now))
        .map(|_| ())
}

fn assert_err(result: Result<(), AuthError>, error_type: &str, message: &str) {
    let err = result.expect_err("request must be rejected");
    assert_eq!(err.error_type, error_type, "{err}");
    assert_eq!(err.message, message);
    assert_eq!(err.status, 403);
}

fn assert_mismatch(result: Result<(), AuthError>) {
    assert_err(result, "InvalidSignatureException", MISMATCH);
}

#[test]
fn the_helper_signer_agrees_with_the_verifier() {
    check(&signed_get(), T).unwrap();
}

#[test]
fn missing_authentication_token() {
    let req = Req::new("GET", "/nowhere", Some("a=b")).header("Host", "h");
    assert_err(
        check(&req, T),
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    );
}

#[test]
fn other_authorization_schemes_are_incomplete_signatures() {
    let req = Req::new("GET", "/", None)
        .header("Host", "h")
        .header("Authorization", "Bearer abc");
    assert_err(
        check(&req, T),
        "IncompleteSignatureException",
        "Authorization header requires 'Credential' parameter. \
         Authorization header requires 'Signature' parameter. \
         Authorization header requires 'SignedHeaders' parameter. \
         Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
         Authorization=Bearer abc",
    );
}

#[test]
fn missing_parameters_are_listed() {
    let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/apigateway/aws4_request";
    let req = Req::new("GET", "/", None)
        .header("Host", "h")
        .header("X-Amz-Date", T)
        .header("Authorization", auth);
    assert_err(
        check(&req, T),
        "IncompleteSignatureException",
        &format!(
            "Authorization header requires 'Signature' parameter. \
             Authorization header requires 'SignedHeaders' parameter. Authorization={auth}"
        ),
    );
    let mut req = signed_get();
    req.headers.remove("x-amz-date");
    let err = check(&req, T).unwrap_err();
    assert!(err.message.starts_with(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Credential="
    ));
}

#[test]
fn header_parameters_in_any_order_and_spacing() {
    let req = signed_get();
    let auth = req.headers["authorization"].to_str().unwrap().to_string();
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256 ").unwrap();
    let mut parts: Vec<&str> = rest.split(", ").collect();
    parts.reverse();
    let mut shuffled = req.clone();
    shuffled.set(
        "authorization",
        &format!("AWS4-HMAC-SHA256 {}", parts.join(",")),
    );
    check(&shuffled, T).unwrap();
    let mut spaced = req.clone();
    spaced.set(
        "authorization",
        &format!("AWS4-HMAC-SHA256   {}", parts.join(" ,  ")),
    );
    check(&spaced, T).unwrap();
}

#[test]
fn malformed_authorization_headers() {
    let good = signed_get();
    let auth = good.headers["authorization"].to_str().unwrap().to_string();
    let cases = [
        (auth.replace("Credential=", "Credential"), "Invalid key=value pair (missing equal-sign) in Authorization header"),
        (format!("{auth}, Extra=1"), "Unsupported parameter 'Extra' in Authorization header"),
        (format!("{auth}, Signature=00"), "Duplicate parameter 'Signature' in Authorization header"),
        (auth.replace("AKIDEXAMPLE/", "AKIDEXAMPLE/x/"), "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/x/20261122/us-east-1/apigateway/aws4_request'"),
        (auth.replace("/aws4_request", "/aws5_request"), "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. "),
        (auth.replace("accept;host", "host;accept"), "SignedHeaders must be a sorted, semicolon-separated list of lower-case header names, got 'host;accept;x-amz-date'"),
        (auth.replace("accept;host", "Accept;host"), "SignedHeaders must be a sorted, semicolon-separated list of lower-case header names, got 'Accept;host;x-amz-date'"),
    ];
    for (value, prefix) in cases {
        let mut req = good.clone();
        req.set("authorization", &value);
        let err = check(&req, T).unwrap_err();
        assert_eq!(err.error_type, "IncompleteSignatureException", "{value}");
        assert!(err.message.starts_with(prefix), "{value}: {}", err.message);
    }
    // Two Authorization headers are ambiguous.
    let mut req = good.clone();
    req.headers
        .append("authorization", HeaderValue::from_str(&auth).unwrap());
    assert_eq!(
        check(&req, T).unwrap_err().error_type,
        "IncompleteSignatureException"
    );
}

#[test]
fn header_and_query_auth_together_are_rejected() {
    let mut req = signed_get();
    req.query = Some("limit=5&X-Amz-Algorithm=AWS4-HMAC-SHA256".into());
    assert_err(
        check(&req, T),
        "IncompleteSignatureException",
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified",
    );
}

#[test]
fn malformed_and_mismatched_dates() {
    let mut req = signed_get();
    req.set("x-amz-date", "2026-11-22T02:52:50Z");
    assert_err(
        check(&req, T),
        "IncompleteSignatureException",
        "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
    );
    req.set("x-amz-date", "20261123T025250Z");
    assert_err(
        check(&req, "20261123T025250Z"),
        "InvalidSignatureException",
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261122' != '20261123', from '20261123T025250Z'.",
    );
}

#[test]
fn header_form_clock_window() {
    let req = signed_get();
    // 5 minutes either way is fine, one second more is not.
    check(&req, "20261122T025750Z").unwrap();
    check(&req, "20261122T024750Z").unwrap();
    assert_err(
        check(&req, "20261122T025751Z"),
        "InvalidSignatureException",
        "Signature expired: 20261122T025250Z is now earlier than 20261122T025251Z (20261122T025751Z - 5 min.)",
    );
    assert_err(
        check(&req, "20261122T024749Z"),
        "InvalidSignatureException",
        "Signature not yet current: 20261122T025250Z is still later than 20261122T025249Z (20261122T024749Z + 5 min.)",
    );
    // A custom window is reported in its own unit.
    let err = verifier("apigateway")
        .with_max_skew(Duration::from_secs(60))
        .verify(&req.as_incoming(), at("20261122T025400Z"))
        .unwrap_err();
    assert_eq!(
        err.message,
        "Signature expired: 20261122T025250Z is now earlier than 20261122T025300Z (20261122T025400Z - 1 min.)"
    );
    // Disabling the clock check accepts any time.
    verifier("apigateway")
        .without_clock_check()
        .verify(&req.as_incoming(), at("20990101T000000Z"))
        .unwrap();
}

#[test]
fn scope_service_and_region() {
    let req = signed_get();
    let err = verifier("execute-api")
        .verify(&req.as_incoming(), at(T))
        .unwrap_err();
    assert_eq!(err.error_type, "InvalidSignatureException");
    assert_eq!(
        err.message,
        "Credential should be scoped to correct service: 'execute-api'. "
    );
    let err = verifier("apigateway")
        .with_regions(["eu-west-1", "eu-central-1"])
        .verify(&req.as_incoming(), at(T))
        .unwrap_err();
    assert_eq!(err.error_type, "InvalidSignatureException");
    assert_eq!(
        err.message,
        "Credential should be scoped to a valid region. "
    );
    verifier("apigateway")
        .with_regions(["eu-west-1", "us-east-1"])
        .verify(&req.as_incoming(), at(T))
        .unwrap();
}

#[test]
fn unknown_access_key() {
    let req = signed_get();
    let v = Verifier::new(provider(&[("OTHER", SECRET, None)]), "apigateway");
    assert_err(
        v.verify(&req.as_incoming(), at(T)).map(|_| ()),
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    );
}

#[test]
fn wrong_secret() {
    let req = signed_get();
    let v = Verifier::new(provider(&[("AKIDEXAMPLE", "wrong", None)]), "apigateway");
    assert_mismatch(v.verify(&req.as_incoming(), at(T)).map(|_| ()));
}

#[test]
fn tampering() {
    // Body.
    let req = signed_post(b"{\"a\":1}", &sha256_hex(b"{\"a\":1}"), None);
    check(&req, T).unwrap();
    assert_mismatch(check(&req.clone().body(b"{\"a\":2}"), T));
    // A signed header value.
    let mut req = signed_get();
    req.set("accept", "text/html");
    assert_mismatch(check(&req, T));
    // Method, path, query.
    let mut req = signed_get();
    req.method = "DELETE".into();
    assert_mismatch(check(&req, T));
    let mut req = signed_get();
    req.path = "/restapis/x".into();
    assert_mismatch(check(&req, T));
    let mut req = signed_get();
    req.query = Some("limit=500".into());
    assert_mismatch(check(&req, T));
    // The signature itself: one flipped digit, upper-case hex, truncated.
    let req = signed_get();
    let auth = req.headers["authorization"].to_str().unwrap().to_string();
    let (head, sig) = auth.split_at(auth.len() - 64);
    let flipped = format!(
        "{head}{}{}",
        if sig.starts_with('0') { '1' } else { '0' },
        &sig[1..]
    );
    for bad in [
        flipped,
        format!("{head}{}", sig.to_uppercase()),
        auth[..auth.len() - 1].to_string(),
    ] {
        let mut r = req.clone();
        r.set("authorization", &bad);
        assert_mismatch(check(&r, T));
    }
}

#[test]
fn unsigned_extra_header_does_not_matter() {
    let req = signed_get()
        .header("User-Agent", "aws-cli/1.46")
        .header("X-Forwarded-For", "10.0.0.1")
        .header("Content-Type", "application/json");
    check(&req, T).unwrap();
}

#[test]
fn required_signed_headers() {
    let mut req = Req::new("GET", "/restapis", None)
        .header("Host", "h")
        .header("X-Amz-Date", T);
    Signing::spec("apigateway", T).sign_header_form(&mut req, &["x-amz-date"], EMPTY_SHA256);
    assert_err(
        check(&req, T),
        "IncompleteSignatureException",
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
    let mut req = Req::new("GET", "/restapis", None)
        .header("Host", "h")
        .header("X-Amz-Date", T);
    Signing::spec("apigateway", T).sign_header_form(&mut req, &["host"], EMPTY_SHA256);
    assert_err(
        check(&req, T),
        "IncompleteSignatureException",
        "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
    );
    // A signed header that is absent from the request.
    let mut req = signed_get();
    req.headers.remove("accept");
    assert_mismatch(check(&req, T));
}

#[test]
fn session_tokens() {
    let mut req = Req::new("POST", "/prod/connections/abc", None)
        .header("Host", "h")
        .header("X-Amz-Date", T)
        .header("X-Amz-Security-Token", "TOKEN-1");
    Signing::spec("execute-api", T).sign_header_form(
        &mut req,
        &["host", "x-amz-date", "x-amz-security-token"],
        EMPTY_SHA256,
    );
    let run = |stored: Option<&str>, req: &Req| {
        Verifier::new(provider(&[("AKIDEXAMPLE", SECRET, stored)]), "execute-api")
            .verify(&req.as_incoming(), at(T))
            .map(|_| ())
    };
    run(Some("TOKEN-1"), &req).unwrap();
    run(None, &req).unwrap(); // dev mode: any token
    let invalid = "The security token included in the request is invalid.";
    assert_err(
        run(Some("TOKEN-2"), &req),
        "UnrecognizedClientException",
        invalid,
    );
    assert_err(
        run(Some("TOKEN-1x"), &req),
        "UnrecognizedClientException",
        invalid,
    );
    // A stored token requires the request to carry it.
    assert_err(
        Verifier::new(
            provider(&[("AKIDEXAMPLE", SECRET, Some("T"))]),
            "apigateway",
        )
        .verify(&signed_get().as_incoming(), at(T))
        .map(|_| ()),
        "UnrecognizedClientException",
        invalid,
    );
}

#[test]
fn content_sha256_header() {
    let body = b"hello";
    // UNSIGNED-PAYLOAD: the body is not covered.
    let req = signed_post(body, "UNSIGNED-PAYLOAD", Some("UNSIGNED-PAYLOAD"));
    check(&req, T).unwrap();
    check(&req.clone().body(b"other"), T).unwrap();
    // A matching hash is used as the payload line.
    let req = signed_post(body, &sha256_hex(body), Some(&sha256_hex(body)));
    check(&req, T).unwrap();
    // A hash that does not match the body is a 400.
    let err = check(&req.clone().body(b"other"), T).unwrap_err();
    assert_eq!(err.status, 400);
    assert_eq!(err.error_type, "XAmzContentSHA256Mismatch");
    let req = signed_post(
        body,
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        Some("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
    );
    assert_eq!(check(&req, T).unwrap_err().status, 400);
}

#[test]
fn signed_date_header_instead_of_x_amz_date() {
    let mut req = Req::new("GET", "/restapis", None)
        .header("Host", "h")
        .header("Date", "Sun, 22 Nov 2026 02:52:50 GMT");
    // The string to sign carries the ISO form of the Date header.
    Signing::spec("apigateway", T).sign_header_form(&mut req, &["date", "host"], EMPTY_SHA256);
    check(&req, T).unwrap();
    assert!(check(&req, "20261122T030000Z")
        .unwrap_err()
        .message
        .starts_with("Signature expired"));
    // An unsigned Date header does not count.
    let mut req = Req::new("GET", "/restapis", None)
        .header("Host", "h")
        .header("Date", "Sun, 22 Nov 2026 02:52:50 GMT");
    Signing::spec("apigateway", T).sign_header_form(&mut req, &["host"], EMPTY_SHA256);
    let err = check(&req, T).unwrap_err();
    assert_eq!(err.error_type, "IncompleteSignatureException");
    assert!(err.message.starts_with(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
    ));
}

#[test]
fn repeated_headers_and_whitespace_are_canonicalised() {
    let mut req = Req::new("GET", "/", None)
        .header("Host", "h")
        .header("X-Amz-Date", T)
        .header("X-Custom", "  a   b\t\tc ")
        .header("X-Custom", "d");
    // The naive signer reads only the first value, so give it the canonical one.
    req.set("x-custom", "a b c,d");
    Signing::spec("apigateway", T).sign_header_form(
        &mut req,
        &["host", "x-amz-date", "x-custom"],
        EMPTY_SHA256,
    );
    req.headers.remove("x-custom");
    req = req
        .header("X-Custom", "  a   b\t\tc ")
        .header("X-Custom", "d");
    assert!(canonical_request(&req.as_incoming())
        .unwrap()
        .contains("\nx-custom:a b c,d\n"));
    check(&req, T).unwrap();
}

#[test]
fn canonical_uri_and_query_rules() {
    let mut req = signed_get();
    req.path = "/a/./b/../c//d%2F%20e@f$g~h/".into();
    req.query = Some("b=2&a=1&a=0&c&X-Amz-Foo=x+y%2f&sp=%20&sp2=a%7Eb!&e=".into());
    let canonical = canonical_request(&req.as_incoming()).unwrap();
    let lines: Vec<&str> = canonical.lines().collect();
    assert_eq!(lines[1], "/a/c/d%252F%2520e%40f%24g~h/");
    assert_eq!(
        lines[2],
        "X-Amz-Foo=x%2By%2F&a=0&a=1&b=2&c=&e=&sp=%20&sp2=a~b%21"
    );
}

fn presigned(method: &str, payload: &str, expires: u32) -> Req {
    let mut req =
        Req::new(method, "/prod", None).header("Host", "abc.execute-api.us-east-1.amazonaws.com");
    Signing::spec("execute-api", T).presign(&mut req, &[("room", "lobby")], expires, payload);
    req
}

fn check_presigned(req: &Req, now: &str) -> Result<(), AuthError> {
    verifier("execute-api")
        .verify(&req.as_incoming(), at(now))
        .map(|_| ())
}

#[test]
fn presigned_expiry() {
    let req = presigned("GET", EMPTY_SHA256, 60);
    check_presigned(&req, T).unwrap();
    check_presigned(&req, "20261122T025350Z").unwrap();
    assert_err(
        check_presigned(&req, "20261122T025351Z"),
        "InvalidSignatureException",
        "Signature expired: 20261122T025250Z is now earlier than 20261122T025251Z (20261122T025351Z - 1 min.)",
    );
    let req = presigned("GET", EMPTY_SHA256, 90);
    assert_eq!(
        check_presigned(&req, "20261122T025421Z").unwrap_err().message,
        "Signature expired: 20261122T025250Z is now earlier than 20261122T025251Z (20261122T025421Z - 90 sec.)"
    );
    // A long validity is not cut by the 5-minute window ...
    let req = presigned("GET", EMPTY_SHA256, 3600);
    check_presigned(&req, "20261122T035250Z").unwrap();
    // ... but a URL from the future still is.
    assert_err(
        check_presigned(&req, "20261122T024749Z"),
        "InvalidSignatureException",
        "Signature not yet current: 20261122T025250Z is still later than 20261122T025249Z (20261122T024749Z + 5 min.)",
    );
}

#[test]
fn presigned_payload_variants() {
    check_presigned(&presigned("GET", "UNSIGNED-PAYLOAD", 300), T).unwrap();
    check_presigned(&presigned("GET", EMPTY_SHA256, 300), T).unwrap();
    // UNSIGNED-PAYLOAD is only implied for GET.
    assert_mismatch(check_presigned(
        &presigned("POST", "UNSIGNED-PAYLOAD", 300),
        T,
    ));
    check_presigned(&presigned("POST", EMPTY_SHA256, 300), T).unwrap();
}

#[test]
fn presigned_tampering_and_malformed_parameters() {
    let req = presigned("GET", EMPTY_SHA256, 300);
    let query = req.query.clone().unwrap();
    let with_query = |q: String| {
        let mut r = req.clone();
        r.query = Some(q);
        r
    };
    assert_mismatch(check_presigned(
        &with_query(query.replace("room=lobby", "room=hall")),
        T,
    ));
    assert_mismatch(check_presigned(&with_query(format!("{query}&extra=1")), T));
    // Order of parameters on the wire does not matter.
    let mut parts: Vec<&str> = query.split('&').collect();
    parts.reverse();
    check_presigned(&with_query(parts.join("&")), T).unwrap();

    let required = "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.";
    for (from, to, message) in [
        ("X-Amz-Expires=300", "", required),
        ("X-Amz-Expires=300", "X-Amz-Expires=", required),
        (
            "X-Amz-Expires=300",
            "X-Amz-Expires=0",
            "X-Amz-Expires must be a positive number of seconds",
        ),
        (
            "X-Amz-Expires=300",
            "X-Amz-Expires=-5",
            "X-Amz-Expires must be a positive number of seconds",
        ),
        (
            "X-Amz-Expires=300",
            "X-Amz-Expires=604801",
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        ),
        (
            "X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "X-Amz-Algorithm=AWS4-HMAC-SHA1",
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
        ),
        (
            "X-Amz-Date=20261122T025250Z",
            "X-Amz-Date=20261122",
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
        ),
        (
            "X-Amz-Expires=300",
            "X-Amz-Expires=300&X-Amz-Expires=300",
            "Only one 'X-Amz-Expires' query parameter may be specified",
        ),
    ] {
        let err = check_presigned(&with_query(query.replace(from, to)), T).unwrap_err();
        assert_eq!(err.error_type, "IncompleteSignatureException", "{to}");
        assert_eq!(err.message, message, "{to}");
    }
}

/// The head check never looks at the body: a server can refuse a request before reading
/// it, and the signature (which covers the body) is checked once the body is in.
#[test]
fn the_head_is_checked_without_the_body_and_the_signature_with_it() {
    let body = b"{\"a\":1}";
    let req = signed_post(body, &sha256_hex(body), None);
    let v = verifier("apigateway");
    let mut head = req.clone();
    head.body.clear();
    let checked = v
        .check_head(&head.as_incoming(), at(T), "apigateway")
        .expect("a good head passes without its body");
    assert_eq!(
        checked
            .verify_signature(&req.as_incoming())
            .unwrap()
            .access_key_id,
        "AKIDEXAMPLE"
    );
    // The same head with another body: the head still passes, the signature does not.
    let checked = v
        .check_head(&head.as_incoming(), at(T), "apigateway")
        .unwrap();
    assert_mismatch(checked.verify_signature(&head.as_incoming()).map(|_| ()));
    // What the head alone proves wrong is refused by the head check.
    assert_err(
        v.check_head(&head.as_incoming(), at("20261122T040000Z"), "apigateway")
            .map(|_| ()),
        "InvalidSignatureException",
        "Signature expired: 20261122T025250Z is now earlier than 20261122T035500Z (20261122T040000Z - 5 min.)",
    );
    let mut stranger = head.clone();
    let auth = stranger.headers["authorization"]
        .to_str()
        .unwrap()
        .replace("AKIDEXAMPLE", "AKIDNOBODY");
    stranger.set("authorization", &auth);
    assert_eq!(
        v.check_head(&stranger.as_incoming(), at(T), "apigateway")
            .unwrap_err()
            .error_type,
        "UnrecognizedClientException"
    );
}
