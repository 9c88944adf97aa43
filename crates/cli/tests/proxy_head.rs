//! REST `HTTP_PROXY` to a plain `http://` backend writes the backend's request head
//! straight from the client's (no execution log) or from a header map (with one): the
//! backend must see the same bytes either way. One deployment on two stages, one with
//! execution logging; a raw backend keeps each request head as sent.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use common::*;
use serde_json::json;

/// A backend that keeps every request head byte for byte and answers `ok`.
struct RawBackend {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
}

impl RawBackend {
    fn start() -> RawBackend {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let heads: Arc<Mutex<Vec<String>>> = Arc::default();
        let kept = heads.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let kept = kept.clone();
                std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                            match stream.read(&mut chunk) {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                            continue;
                        };
                        let head = String::from_utf8_lossy(&buf[..end + 4]).into_owned();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length: "))
                            .map_or(0, |n| n.trim().parse::<usize>().expect("a length"));
                        while buf.len() < end + 4 + length {
                            match stream.read(&mut chunk) {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        buf.drain(..end + 4 + length);
                        kept.lock().unwrap().push(head);
                        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                        if stream.write_all(answer).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        RawBackend { port, heads }
    }

    fn last(&self) -> String {
        self.heads.lock().unwrap().last().cloned().expect("a head")
    }
}

/// The head with the values that differ between any two requests (trace ids) blanked.
fn comparable(head: &str) -> String {
    head.lines()
        .map(|l| match l.split_once(": ") {
            Some((name @ ("x-amzn-trace-id" | "traceparent"), _)) => format!("{name}: *"),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_backend_head_is_the_same_written_directly_or_from_a_map() {
    let backend = RawBackend::start();
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("heads");
    let proxy = cp.resource(&api, &root, "{proxy+}");
    cp.http_proxy(
        &api,
        &proxy,
        "ANY",
        &format!("http://127.0.0.1:{}/up/{{proxy}}", backend.port),
        &[
            (
                "integration.request.path.proxy",
                "method.request.path.proxy",
            ),
            ("integration.request.header.x-mapped", "'literal'"),
            ("integration.request.header.x-custom", "'replaced'"),
            ("integration.request.querystring.m", "'v w'"),
        ],
        None,
    );
    cp.deploy(&api, "plain");
    cp.deploy(&api, "logged");
    cp.patch_stage(
        &api,
        "logged",
        json!([{"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"}]),
    );

    type Case = (
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
        Option<&'static str>,
    );
    let cases: &[Case] = &[
        (
            "GET",
            "/a/b?x=1&y=%20z",
            &[("X-Custom", "one"), ("X-Other", "2")],
            None,
        ),
        (
            "GET",
            "/a",
            &[
                ("X-Forwarded-For", "10.0.0.1"),
                ("X-Amzn-Apigateway-Api-Id", "spoofed"),
                ("X-Forwarded-Proto", "spoofed"),
                ("X-Multi", "1"),
                ("X-Between", "b"),
                ("X-Multi", "2"),
                ("Via", "1.1 client"),
                ("Content-Encoding", "gzip"),
                ("Max-Forwards", "3"),
                (
                    "traceparent",
                    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                ),
            ],
            None,
        ),
        (
            "POST",
            "/p?q",
            &[("Content-Type", "application/json")],
            Some("{\"a\":1}"),
        ),
        ("DELETE", "/d", &[("Host", "example.com:8080")], None),
        // Characters outside the plain set: the head comes from the map on both stages.
        ("GET", "/c/%7B%7D?k={v}", &[], None),
    ];
    for (method, path, headers, body) in cases {
        let mut heads = vec![];
        for stage in ["plain", "logged"] {
            let mut req = Http::new(
                s.port,
                method,
                &Server::exec_path(&api, &format!("/{stage}{path}")),
            );
            for (k, v) in *headers {
                req = req.header(k, v);
            }
            if let Some(b) = body {
                req = req.body(*b);
            }
            let r = req.send();
            assert_eq!(r.status, 200, "{method} {path} on {stage}: {r}");
            heads.push(comparable(&backend.last()));
        }
        assert_eq!(
            heads[0], heads[1],
            "{method} {path}: written directly, then from a map"
        );
        assert!(heads[0].contains("x-mapped: literal"), "{}", heads[0]);
        assert!(
            heads[0].starts_with(&format!("{method} /up")),
            "the mapped path: {}",
            heads[0]
        );
    }
}
