//! Response header names on HTTP/1.1 as API Gateway spells them (issue 20): a backend's
//! (HTTP_PROXY) and a Lambda function's (AWS_PROXY `headers`/`multiValueHeaders`) names as
//! they sent them, and the gateway's own as AWS does (`x-amzn-RequestId`, `x-amz-apigw-id`,
//! `Content-Type`, `x-amzn-Remapped-*`), recorded in
//! `test_apigateway_integrations.snapshot.json` (`test_apigateway_header_remapping_http`,
//! `response-headers`). Responses are read as raw bytes (`Http`): most HTTP clients lower
//! the names they read.
//!
//! HTTP APIs (no recording here; public `curl -v` transcripts of HTTP APIs over HTTP/1.1 and
//! HTTP/2): `Date`, `Content-Type`, `Content-Length`, `Connection` spelled as above, the
//! gateway's own `apigw-requestid` and `www-authenticate` lower case, and a backend's
//! headers passed, `Server` included, never remapped.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::lambda::*;
use common::*;
use serde_json::json;

/// The header names of a response, as they came over the wire.
fn names(r: &Response) -> Vec<&str> {
    r.headers.iter().map(|(n, _)| n.as_str()).collect()
}

/// Asserts `r` carries a header spelled exactly `name`.
fn assert_spelled(r: &Response, name: &str) {
    assert!(
        names(r).contains(&name),
        "no header spelled {name:?} in {:?}\n{r}",
        names(r)
    );
}

/// A backend answering every request with `head_lines` (CRLF-ended header lines) and
/// a two-byte body, on a thread of its own; its port.
fn raw_backend(head_lines: &'static str) -> u16 {
    counted_raw_backend(head_lines).0
}

/// [`raw_backend`], with how many requests it has answered.
fn counted_raw_backend(head_lines: &'static str) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let answered = Arc::new(AtomicUsize::new(0));
    let counter = answered.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                let mut seen = Vec::new();
                // One request per connection: answer once its head is in, then close.
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let answer = format!(
                    "HTTP/1.1 200 OK\r\n{head_lines}Content-Length: 2\r\nConnection: close\r\n\r\nok"
                );
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = stream.write_all(answer.as_bytes());
            });
        }
    });
    (port, answered)
}

/// An API named `name` whose `GET /p` is an HTTP_PROXY to the backend on `port`, deployed
/// to `prod`; its id.
fn proxied_api(s: &Server, name: &str, port: u16) -> String {
    let cp = Cp::new(s);
    let (api, root) = cp.create_api(name);
    let res = cp.resource(&api, &root, "p");
    cp.http_proxy(
        &api,
        &res,
        "GET",
        &format!("http://127.0.0.1:{port}/"),
        &[],
        None,
    );
    cp.deploy(&api, "prod");
    api
}

#[test]
fn http_proxy_passes_the_backends_spelling_and_spells_its_own_as_aws() {
    let s = Server::start();
    let port = raw_backend("X-CuStOm-Header: 1\r\nserver: lower\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nx-all-lower: 2\r\nContent-Type: text/plain\r\n");
    let api = proxied_api(&s, "case", port);
    let r = Http::get(s.port, &Server::exec_path(&api, "/prod/p")).send();
    assert_eq!((r.status, r.text().as_str()), (200, "ok"), "{r}");
    assert_spelled(&r, "X-CuStOm-Header");
    assert_spelled(&r, "x-all-lower");
    assert_spelled(&r, "Content-Type");
    // The backend's Date is remapped under its own spelling, its lower-case Server as sent.
    assert_spelled(&r, "x-amzn-Remapped-Date");
    assert_spelled(&r, "x-amzn-Remapped-server");
    // The gateway's own names (recorded spellings).
    for own in [
        "x-amzn-RequestId",
        "x-amz-apigw-id",
        "Date",
        "Content-Length",
    ] {
        assert_spelled(&r, own);
    }
    // The second request reuses the pooled backend connection: still the backend's case.
    let again = Http::get(s.port, &Server::exec_path(&api, "/prod/p")).send();
    assert_spelled(&again, "X-CuStOm-Header");
}

#[test]
fn mock_answers_spell_the_gateways_names_as_aws() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("mock-case");
    let res = cp.resource(&api, &root, "m");
    cp.mock(&api, &res, "GET", "{}");
    cp.deploy(&api, "prod");
    let r = Http::get(s.port, &Server::exec_path(&api, "/prod/m")).send();
    assert_eq!(r.status, 200, "{r}");
    for own in [
        "x-amzn-RequestId",
        "x-amz-apigw-id",
        "Content-Type",
        "Content-Length",
    ] {
        assert_spelled(&r, own);
    }
    // A gateway response (no such resource) too, with its error type.
    let r = Http::get(s.port, &Server::exec_path(&api, "/prod/nothing")).send();
    assert_eq!(r.status, 403, "{r}");
    for own in ["x-amzn-RequestId", "x-amzn-ErrorType", "Content-Type"] {
        assert_spelled(&r, own);
    }
}

#[test]
fn mapped_response_headers_keep_the_mappings_spelling() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("mapped-case");
    let res = cp.resource(&api, &root, "m");
    let (verb, path) = (
        "GET",
        format!("/restapis/{api}/resources/{res}/methods/GET"),
    );
    cp.put_method(&api, &res, verb, json!({ "authorizationType": "NONE" }));
    cp.put_integration(
        &api,
        &res,
        verb,
        json!({ "type": "MOCK", "requestTemplates": { "application/json": "{\"statusCode\": 200}" } }),
    );
    let declared = json!({ "responseParameters": {
        "method.response.header.X-MaPpEd": false,
        "method.response.header.Content-MD5": false,
    } });
    cp.ok("PUT", &format!("{path}/responses/200"), Some(&declared));
    cp.put_integration_response(
        &api,
        &res,
        verb,
        "200",
        json!({ "responseParameters": {
            "method.response.header.X-MaPpEd": "'v'",
            "method.response.header.Content-MD5": "'m'",
        } }),
    );
    cp.deploy(&api, "prod");
    let r = Http::get(s.port, &Server::exec_path(&api, "/prod/m")).send();
    assert_eq!(r.status, 200, "{r}");
    assert_spelled(&r, "X-MaPpEd");
    // Recorded: `x-amzn-Remapped-Content-MD5`, the mapping's spelling after AWS's prefix.
    assert_spelled(&r, "x-amzn-Remapped-Content-MD5");
}

const RAW_PY: &str = r#"
import json
def raw(event, context):
    return json.loads(event["body"])
"#;

#[test]
fn aws_proxy_passes_the_functions_spelling() {
    let s = Server::start();
    let zip = zip_file(s.data_path(), "raw.zip", &[("app.py", RAW_PY, 0o644)]);
    create_function(&s, "raw", "python3.12", "app.raw", &zip, &[]);
    let api = proxy_api(&s, "raw");
    let call = |out: serde_json::Value| {
        Http::post(s.port, &Server::exec_path(&api, "/prod/x"))
            .body(out.to_string())
            .send()
    };
    let r = call(json!({
        "statusCode": 200,
        "headers": {"X-CuStOm-Header": "1", "content-type": "text/plain", "Server": "fn"},
        "multiValueHeaders": {"X-mUlTi": ["a", "b"]},
        "body": "x",
    }));
    assert_eq!(r.status, 200, "{r}");
    assert_spelled(&r, "X-CuStOm-Header");
    assert_spelled(&r, "X-mUlTi");
    // The function's own lower-case Content-Type stays lower case; its Server is remapped.
    assert_spelled(&r, "content-type");
    assert_spelled(&r, "x-amzn-Remapped-Server");
    assert_spelled(&r, "X-Amzn-Trace-Id");
    assert_spelled(&r, "x-amzn-RequestId");
    // Without one, the gateway's default Content-Type, spelled as AWS.
    let r = call(json!({"statusCode": 200, "headers": {"x-lower": "1"}, "body": "x"}));
    assert_spelled(&r, "Content-Type");
    assert_spelled(&r, "x-lower");
}

/// Payload 2.0 on an HTTP API: the function's names as it spelled them, its `Server`
/// passed (HTTP APIs remap nothing), its `Date` the gateway's own.
#[test]
fn http_api_functions_spell_their_own_names() {
    let s = Server::start();
    let zip = zip_file(s.data_path(), "raw.zip", &[("app.py", RAW_PY, 0o644)]);
    create_function(&s, "raw", "python3.12", "app.raw", &zip, &[]);
    let api = v2_http_api(&s, "v2-fn-case");
    let fn_arn = "arn:aws:lambda:us-east-1:000000000000:function:raw";
    let role = ["--credentials-arn", "arn:aws:iam::000000000000:role/invoke"];
    let integration = v2_lambda_proxy(&s, &api, fn_arn, &role);
    v2_route(&s, &api, "POST /x", &integration, &[]);
    v2_default_stage(&s, &api);
    let out = json!({
        "statusCode": 200,
        "headers": {"X-CuStOm-Header": "1", "Server": "fn", "Date": "yesterday"},
        "body": "x",
    });
    let r = Http::post(s.port, &Server::exec_path(&api, "/$default/x"))
        .body(out.to_string())
        .send();
    assert_eq!(r.status, 200, "{r}");
    assert_spelled(&r, "X-CuStOm-Header");
    assert_spelled(&r, "Server");
    assert_eq!(r.header("server"), Some("fn"));
    assert_eq!(r.headers_named("date").len(), 1, "{r}");
    assert_ne!(r.header("date"), Some("yesterday"), "{r}");
    assert_spelled(&r, "apigw-requestid");
}

#[test]
fn a_stage_cache_hit_keeps_the_backends_spelling() {
    let s = Server::start();
    let (port, answered) =
        counted_raw_backend("X-CuStOm-Header: 1\r\nContent-Type: text/plain\r\n");
    let api = proxied_api(&s, "case-cached", port);
    update_stage(
        &s,
        &api,
        "prod",
        &json!([
            {"op": "replace", "path": "/cacheClusterEnabled", "value": "true"},
            {"op": "replace", "path": "/*/*/caching/enabled", "value": "true"},
        ]),
    );
    eventually("the stage's cache exists", || {
        let st = apigw(
            &s,
            &["get-stage", "--rest-api-id", &api, "--stage-name", "prod"],
        );
        (st["cacheClusterStatus"] == "AVAILABLE").then_some(())
    });
    let path = Server::exec_path(&api, "/prod/p");
    let miss = Http::get(s.port, &path).send();
    assert_eq!((miss.status, miss.text().as_str()), (200, "ok"), "{miss}");
    assert_spelled(&miss, "X-CuStOm-Header");
    let hit = Http::get(s.port, &path).send();
    assert_eq!(
        answered.load(Ordering::SeqCst),
        1,
        "the second answer is the cache's"
    );
    assert_eq!((hit.status, hit.text().as_str()), (200, "ok"), "{hit}");
    assert_spelled(&hit, "X-CuStOm-Header");
    assert_spelled(&hit, "Content-Type");
}

#[test]
fn gateway_response_headers_keep_the_apis_spelling() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("case-gateway-response");
    let res = cp.resource(&api, &root, "p");
    cp.mock(&api, &res, "GET", "ok");
    apigw(
        &s,
        &[
            "put-gateway-response",
            "--rest-api-id",
            &api,
            "--response-type",
            "MISSING_AUTHENTICATION_TOKEN",
            "--response-parameters",
            r#"{"gatewayresponse.header.Access-Control-Allow-Origin": "'*'", "gatewayresponse.header.x-lower": "'v'"}"#,
        ],
    );
    cp.deploy(&api, "prod");
    let r = Http::get(s.port, &Server::exec_path(&api, "/prod/nowhere")).send();
    assert_eq!(r.status, 403, "{r}");
    assert_spelled(&r, "Access-Control-Allow-Origin");
    assert_spelled(&r, "x-lower");
    assert_spelled(&r, "x-amzn-ErrorType");
}

#[test]
fn http_apis_pass_backend_headers_unremapped_and_spell_their_own_in_lower_case() {
    let s = Server::start();
    let port = raw_backend("X-CuStOm-Header: v\r\nServer: backend/1.0\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\nContent-Type: text/plain\r\n");
    let api = v2_http_api(&s, "v2-case");
    let integration = v2_http_proxy(&s, &api, "GET", &format!("http://127.0.0.1:{port}/"), &[]);
    v2_route(&s, &api, "GET /p", &integration, &[]);
    v2_default_stage(&s, &api);
    let r = s.invoke(&api, "/$default/p");
    assert_eq!(r.status, 200, "{r}");
    assert_spelled(&r, "X-CuStOm-Header");
    assert_spelled(&r, "apigw-requestid");
    assert_spelled(&r, "Content-Length");
    assert_spelled(&r, "Date");
    assert_eq!(r.header("server"), Some("backend/1.0"), "{r}");
    assert!(
        !names(&r)
            .iter()
            .any(|n| n.to_ascii_lowercase().starts_with("x-amzn-remapped-")),
        "HTTP APIs remap nothing: {r}"
    );
    assert_eq!(r.headers_named("date").len(), 1, "{r}");
    assert_ne!(
        r.header("date"),
        Some("Thu, 01 Jan 1970 00:00:00 GMT"),
        "{r}"
    );
    assert_eq!(r.headers_named("content-length"), ["2"], "{r}");
    // The gateway's own answer.
    let r = s.invoke(&api, "/$default/nowhere");
    assert_eq!(r.status, 404, "{r}");
    for name in ["Content-Type", "Content-Length", "Date", "apigw-requestid"] {
        assert_spelled(&r, name);
    }
}
