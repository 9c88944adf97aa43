//! HTTP API parameter mapping from bodies (request-pipeline.md §8 steps 6 and 8):
//! `$request.body.{path}` into the backend request's headers and query string, and
//! `$response.body.{path}` / `$response.header.x` into the client's response, through an
//! HTTP_PROXY integration to the echo backend, set up with the `aws apigatewayv2` CLI.

mod common;

use common::*;
use serde_json::json;

#[test]
fn request_and_response_bodies_feed_mappings() {
    let backend = Backend::start();
    let s = Server::start();
    let api = v2_http_api(&s, "bodies");
    let request = json!({
        "append:header.x-order": "$request.body.order.id",
        "overwrite:querystring.sku": "${request.body.order.items[1].sku}",
        "append:header.x-items": "$request.body.order.items",
        "append:header.x-missing": "[$request.body.nope]",
    })
    .to_string();
    let response = json!({"200": {
        "append:header.x-echoed": "order ${response.body.order.id}",
        "append:header.x-from-backend": "$response.header.x-backend",
    }})
    .to_string();
    let uri = format!("{}/orders", backend.url());
    let integration = v2_http_proxy(
        &s,
        &api,
        "POST",
        &uri,
        &[
            "--request-parameters",
            &request,
            "--response-parameters",
            &response,
        ],
    );
    v2_route(&s, &api, "POST /orders", &integration, &[]);
    v2_default_stage(&s, &api);

    let body = json!({"order": {"id": "o-7", "items": [{"sku": "a"}, {"sku": "b c"}]}}).to_string();
    let r = Http::post(s.port, "/orders?raw=1")
        .header("Host", &format!("{api}.execute-api.localhost:{}", s.port))
        .header("Content-Type", "application/json")
        .body(body.clone())
        .send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(
        r.text(),
        body,
        "the body read for mapping still reaches the backend whole"
    );
    let seen = backend.last();
    assert_eq!(seen.header("x-order"), Some("o-7"));
    assert_eq!(
        seen.header("x-items"),
        Some(r#"[{"sku":"a"},{"sku":"b c"}]"#)
    );
    assert_eq!(seen.header("x-missing"), Some("[]"));
    assert!(seen.query.contains("sku=b%20c"), "{}", seen.query);
    assert!(seen.query.contains("raw=1"), "{}", seen.query);
    assert_eq!(r.header("x-echoed"), Some("order o-7"), "{r}");
    assert!(r.header("x-from-backend").is_some(), "{r}");

    // A body that is not JSON maps to nothing.
    let r = Http::post(s.port, "/orders?raw=1")
        .header("Host", &format!("{api}.execute-api.localhost:{}", s.port))
        .body("plain text")
        .send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(backend.last().header("x-order"), Some(""));
    // (A trailing space does not survive HTTP: header values are trimmed.)
    assert_eq!(r.header("x-echoed"), Some("order"), "{r}");
}

/// A backend that sends its headers, then stalls mid-body: a mapping that reads
/// `$response.body` waits at most the integration's timeout, then answers 503.
#[test]
fn a_backend_stalling_mid_body_is_bounded_by_the_timeout() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":",
                );
                std::thread::sleep(std::time::Duration::from_secs(30));
            });
        }
    });
    let s = Server::start();
    let api = v2_http_api(&s, "stall");
    let response = json!({"200": {"append:header.x-id": "$response.body.id"}}).to_string();
    let integration = v2_http_proxy(
        &s,
        &api,
        "GET",
        &format!("http://127.0.0.1:{port}/slow"),
        &[
            "--response-parameters",
            &response,
            "--timeout-in-millis",
            "1000",
        ],
    );
    v2_route(&s, &api, "GET /slow", &integration, &[]);
    v2_default_stage(&s, &api);
    let r = Http::get(s.port, "/slow")
        .header("Host", &format!("{api}.execute-api.localhost:{}", s.port))
        .send();
    assert_eq!(r.status, 503, "{r}");
    assert_eq!(r.json(), json!({"message": "Service Unavailable"}));
}
