//! `minimumCompressionSize` (request-pipeline.md §6.1, stages-canary-domains.md §9) end to
//! end: responses at least that large are gzip- or deflate-encoded per `Accept-Encoding`,
//! smaller ones and clients that accept neither get the body as is, and compressed request
//! bodies are decoded before mapping templates, within the 10 MB payload limit.

mod common;

use std::io::{Read, Write};

use common::*;
use serde_json::json;

fn gunzip(b: &[u8]) -> String {
    let mut out = String::new();
    flate2::read::GzDecoder::new(b)
        .read_to_string(&mut out)
        .expect("gzip");
    out
}

fn inflate(b: &[u8]) -> String {
    let mut out = String::new();
    flate2::read::ZlibDecoder::new(b)
        .read_to_string(&mut out)
        .expect("deflate (zlib)");
    out
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

/// `/big` answers about 2 KB, `/small` a few bytes, `/echo` (POST) maps the client's body
/// to an HTTP backend; the API compresses from 1,000 bytes.
fn compressing_api(s: &Server, b: &Backend) -> (String, String) {
    let cp = Cp::new(s);
    let (api, root) = cp.create_api("compressing");
    let big_body = "0123456789".repeat(200);
    let big = cp.resource(&api, &root, "big");
    cp.mock(&api, &big, "GET", &format!("{{\"data\": \"{big_body}\"}}"));
    let small = cp.resource(&api, &root, "small");
    cp.mock(&api, &small, "GET", "{\"ok\": true}");
    let echo = cp.resource(&api, &root, "echo");
    cp.put_method(&api, &echo, "POST", json!({ "authorizationType": "NONE" }));
    cp.put_integration(
        &api,
        &echo,
        "POST",
        json!({ "type": "HTTP", "httpMethod": "POST", "uri": format!("{}/echo", b.url()),
                "requestTemplates": { "application/json": "{\"name\": $input.json('$.name')}" } }),
    );
    cp.put_method_response(&api, &echo, "POST", "200");
    cp.put_integration_response(
        &api,
        &echo,
        "POST",
        "200",
        json!({ "selectionPattern": "" }),
    );
    let updated = apigw(
        s,
        &[
            "update-rest-api",
            "--rest-api-id",
            &api,
            "--patch-operations",
            "op=replace,path=/minimumCompressionSize,value=1000",
        ],
    );
    assert_eq!(updated["minimumCompressionSize"], 1000, "{updated:#}");
    deploy(s, &api, "dev");
    (api, format!("{{\"data\": \"{big_body}\"}}"))
}

#[test]
fn responses_are_compressed_per_accept_encoding() {
    let s = Server::start();
    let b = Backend::start();
    let (api, expected) = compressing_api(&s, &b);
    let path = Server::exec_path(&api, "/dev/big");

    let r = Http::get(s.port, &path)
        .header("Accept-Encoding", "gzip, deflate")
        .send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.header("content-encoding"), Some("gzip"), "{r}");
    assert!(r.body.len() < expected.len(), "smaller than the body");
    assert_eq!(gunzip(&r.body), expected);

    let r = Http::get(s.port, &path)
        .header("Accept-Encoding", "deflate")
        .send();
    assert_eq!(r.header("content-encoding"), Some("deflate"), "{r}");
    assert_eq!(inflate(&r.body), expected);

    let r = Http::get(s.port, &path)
        .header("Accept-Encoding", "gzip;q=0.2, deflate;q=0.8")
        .send();
    assert_eq!(r.header("content-encoding"), Some("deflate"), "{r}");

    // No Accept-Encoding, or only identity: as is.
    for accept in [None, Some("identity")] {
        let mut req = Http::get(s.port, &path);
        if let Some(a) = accept {
            req = req.header("Accept-Encoding", a);
        }
        let r = req.send();
        assert_eq!(r.header("content-encoding"), None, "{r}");
        assert_eq!(r.text(), expected);
    }
    // Below the minimum: as is.
    let r = Http::get(s.port, &Server::exec_path(&api, "/dev/small"))
        .header("Accept-Encoding", "gzip")
        .send();
    assert_eq!(r.header("content-encoding"), None, "{r}");
    assert_eq!(r.json(), json!({"ok": true}));

    // Removing the setting (and redeploying) turns compression off.
    apigw(
        &s,
        &[
            "update-rest-api",
            "--rest-api-id",
            &api,
            "--patch-operations",
            r#"[{"op": "replace", "path": "/minimumCompressionSize"}]"#,
        ],
    );
    deploy(&s, &api, "dev");
    let r = Http::get(s.port, &path)
        .header("Accept-Encoding", "gzip")
        .send();
    assert_eq!(r.header("content-encoding"), None, "{r}");
}

#[test]
fn compressed_request_bodies_are_decoded_before_mapping() {
    let s = Server::start();
    let b = Backend::start();
    let (api, _) = compressing_api(&s, &b);
    let path = Server::exec_path(&api, "/dev/echo");

    let r = Http::post(s.port, &path)
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(gzip(br#"{"name": "zipped"}"#))
        .send();
    assert_eq!(r.status, 200, "{r}");
    let seen = b.last();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(seen.body.as_deref().unwrap()).unwrap(),
        json!({"name": "zipped"}),
        "the template read the decoded body"
    );

    // A body that does not decode is refused, and nothing reaches the backend.
    let before = b.count();
    let r = Http::post(s.port, &path)
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(b"not gzip at all".to_vec())
        .send();
    assert_eq!(r.status, 400, "{r}");
    // A small body that inflates past the 10 MB payload limit: 413, bounded.
    let bomb = gzip(&vec![b' '; 10 * 1024 * 1024 + 1]);
    assert!(bomb.len() < 100_000);
    let r = Http::post(s.port, &path)
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(bomb)
        .send();
    assert_eq!(r.status, 413, "{r}");
    assert_eq!(b.count(), before);
}
