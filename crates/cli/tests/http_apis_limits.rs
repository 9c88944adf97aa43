//! HTTP APIs' limits on the data plane, against the real binary: a Lambda route past its
//! `timeoutInMillis` answers 503 and a body over 10 MB answers 413, each with HTTP APIs'
//! fixed body (request-pipeline.md §9.4), and the function behind the slow route is
//! still there for the next call.

mod common;

use common::lambda::*;
use common::*;

const APP_PY: &str = "import time\ndef handler(event, context):\n    time.sleep(float(event['queryStringParameters'].get('sleep', '0')))\n    return {'statusCode': 200, 'body': 'awake'}\n";

#[test]
fn lambda_timeout_is_503_and_a_large_body_is_413() {
    let s = Server::start();
    let zip = zip_file(s.data_path(), "app.zip", &[("app.py", APP_PY, 0o644)]);
    create_function(
        &s,
        "sleepy",
        "python3.12",
        "app.handler",
        &zip,
        &["--timeout", "10"],
    );
    let api = v2_http_api(&s, "limits");
    let integration = v2_lambda_proxy(
        &s,
        &api,
        "arn:aws:lambda:us-east-1:000000000000:function:sleepy",
        &["--timeout-in-millis", "1500"],
    );
    v2_route(&s, &api, "ANY /nap", &integration, &[]);
    v2_default_stage(&s, &api);
    let source = format!("arn:aws:execute-api:us-east-1:000000000000:{api}/*/*/nap");
    grant_apigateway(&s, "sleepy", "http-api", &source, None);

    // Warm, and within the timeout.
    let r = s.invoke(&api, "/$default/nap?sleep=0");
    assert_eq!((r.status, r.text().as_str()), (200, "awake"), "{r}");
    // Past it: the gateway stops waiting.
    let r = s.invoke(&api, "/$default/nap?sleep=4");
    assert_v2_error(&r, 503, "Service Unavailable");
    // The function keeps serving.
    let r = eventually("the function answering again", || {
        let r = s.invoke(&api, "/$default/nap?sleep=0");
        (r.status == 200).then_some(r)
    });
    assert_eq!(r.text(), "awake");

    // More than 10 MB of body: refused before the function is called.
    let big = vec![b'x'; 10 * 1024 * 1024 + 1];
    let r = Http::new(s.port, "POST", &Server::exec_path(&api, "/$default/nap"))
        .body(big)
        .send();
    assert_v2_error(&r, 413, "Request Entity Too Large");
}

/// The account-level throttle (UpdateAccount's `throttleSettings`, a Tollgate extension:
/// on AWS a service quota) covers HTTP APIs' routes too: 429 with the fixed body.
#[test]
fn account_throttle_applies_to_http_apis() {
    let s = Server::start();
    let backend = Backend::start();
    let api = v2_http_api(&s, "busy");
    let integration = v2_http_proxy(&s, &api, "GET", &backend.url(), &[]);
    v2_route(&s, &api, "GET /ping", &integration, &[]);
    v2_default_stage(&s, &api);
    assert_eq!(s.invoke(&api, "/$default/ping").status, 200);
    apigw(
        &s,
        &[
            "update-account",
            "--patch-operations",
            "op=replace,path=/throttleSettings/burstLimit,value=2",
            "op=replace,path=/throttleSettings/rateLimit,value=0.5",
        ],
    );
    let answers: Vec<Response> = (0..6).map(|_| s.invoke(&api, "/$default/ping")).collect();
    let refused: Vec<&Response> = answers.iter().filter(|r| r.status == 429).collect();
    assert!(
        refused.len() >= 3,
        "a burst of 2 at 0.5/s admits at most 3 of 6: {:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_v2_error(refused[0], 429, "Too Many Requests");
    assert!(answers.iter().all(|r| r.status == 200 || r.status == 429));
}
