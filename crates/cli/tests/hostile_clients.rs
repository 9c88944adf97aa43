//! Clients that try to exhaust the server (issue 9, "Hostile clients"): half-sent request
//! heads (slowloris), idle connections, more connections than allowed, HTTP/2 stream floods,
//! unsigned control-plane calls with huge bodies, and request bodies that make validation
//! expensive. Each test starts the real binary with small limits and speaks raw HTTP.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::*;

/// Longest a test waits for the server to close a connection (the timeouts under test are
/// 1 s; main closed nothing, ever).
const CLOSE_PATIENCE: Duration = Duration::from_secs(20);

fn start(flags: &[&str]) -> Server {
    Server::start_with(
        std::sync::Arc::new(tempfile::tempdir().expect("temp dir")),
        flags,
    )
}

fn connect(srv: &Server) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", srv.port)).expect("connect");
    s.set_read_timeout(Some(CLOSE_PATIENCE)).expect("timeout");
    s.set_write_timeout(Some(CLOSE_PATIENCE)).expect("timeout");
    s
}

/// Reads until the server closes the connection; panics if it is still open after
/// [`CLOSE_PATIENCE`]. Returns what was read before the close.
fn assert_closed_by_server(s: &mut TcpStream, what: &str) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return got,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("{what}: connection still open after {CLOSE_PATIENCE:?}")
            }
            Err(e) => panic!("{what}: read failed: {e}"),
        }
    }
}

/// Sends one keep-alive request and reads its whole response.
fn round_trip(s: &mut TcpStream, port: u16) -> String {
    let req = format!("GET /restapis HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    s.write_all(req.as_bytes()).expect("write request");
    read_one_response(s)
}

/// Reads one response (Content-Length framed) as text: status line, headers and body.
fn read_one_response(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = match s.read(&mut buf) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            r => r.expect("read response"),
        };
        assert!(
            n > 0,
            "closed before a response: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let len: usize = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + len {
                return text;
            }
        }
    }
}

#[test]
fn half_sent_request_head_is_closed_after_the_header_timeout() {
    let srv = start(&["--header-timeout", "1", "--idle-timeout", "3600"]);
    let mut s = connect(&srv);
    s.write_all(b"GET /restapis HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .unwrap();
    let got = assert_closed_by_server(&mut s, "half-sent head");
    assert!(got.is_empty(), "{:?}", String::from_utf8_lossy(&got));

    // A complete request in time is still served, and its connection stays usable.
    let mut s = connect(&srv);
    let first = round_trip(&mut s, srv.port);
    assert!(
        first.contains("MissingAuthenticationTokenException"),
        "{first}"
    );
}

#[test]
fn idle_connections_are_closed_after_the_idle_timeout() {
    let srv = start(&["--idle-timeout", "1", "--header-timeout", "3600"]);
    // A keep-alive connection after its response.
    let mut s = connect(&srv);
    let r = round_trip(&mut s, srv.port);
    assert!(r.starts_with("HTTP/1.1 403"), "{r}");
    assert_closed_by_server(&mut s, "idle keep-alive connection");
    // A connection that never sends a byte.
    let mut silent = connect(&srv);
    assert_closed_by_server(&mut silent, "silent connection");
}

#[test]
fn connections_over_the_cap_are_refused_and_logged_once() {
    let srv = start(&["--max-connections", "20", "--workers", "2"]);
    // Twenty connections, each known to be served (it answered a request).
    let mut held: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = connect(&srv);
            round_trip(&mut s, srv.port);
            s
        })
        .collect();
    for n in 0..3 {
        let mut extra = connect(&srv);
        // The request may or may not be written before the server closes the socket.
        let _ = extra.write_all(b"GET /restapis HTTP/1.1\r\nHost: x\r\n\r\n");
        let got =
            assert_closed_by_server(&mut extra, &format!("connection {} over the cap", 21 + n));
        assert!(got.is_empty(), "{:?}", String::from_utf8_lossy(&got));
    }
    // The server's stderr reaches the file through a copier thread: wait for the line
    // (bounded), then check that the burst logged it once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !srv.stderr().contains("connection limit reached") && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let log = srv.stderr();
    assert_eq!(
        log.matches("connection limit reached").count(),
        1,
        "one line per burst:\n{log}"
    );
    assert!(log.contains("--max-connections"), "{log}");

    // The held connections still work; once they are gone, new ones are served.
    let r = round_trip(&mut held[0], srv.port);
    assert!(r.starts_with("HTTP/1.1 403"), "{r}");
    held.clear();
    let answered = eventually("a new connection is served after the others closed", || {
        let mut s = connect(&srv);
        s.write_all(b"GET /restapis HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .ok()?;
        let got = assert_closed_by_server(&mut s, "new connection");
        (!got.is_empty()).then(|| String::from_utf8_lossy(&got).to_string())
    });
    assert!(answered.starts_with("HTTP/1.1 403"), "{answered}");
    eventually("the server says it accepts connections again", || {
        srv.stderr()
            .contains("accepting connections again")
            .then_some(())
    });
}

/// HTTP/2 frame header: length (24 bits), type, flags, stream id.
fn read_frame(s: &mut TcpStream) -> (u8, u8, Vec<u8>) {
    let mut head = [0u8; 9];
    s.read_exact(&mut head).expect("frame header");
    let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).expect("frame payload");
    (head[3], head[4], payload)
}

#[test]
fn http2_connections_advertise_a_bound_on_streams_and_headers() {
    let srv = Server::start();
    let mut s = connect(&srv);
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").unwrap();
    s.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).unwrap(); // empty SETTINGS
    let (kind, flags, payload) = read_frame(&mut s);
    assert_eq!(
        (kind, flags),
        (4, 0),
        "the server's first frame is its SETTINGS"
    );
    let settings: Vec<(u16, u32)> = payload
        .chunks(6)
        .map(|c| {
            (
                u16::from_be_bytes([c[0], c[1]]),
                u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
            )
        })
        .collect();
    // SETTINGS_MAX_CONCURRENT_STREAMS (3) and SETTINGS_MAX_HEADER_LIST_SIZE (6).
    assert!(settings.contains(&(3, 128)), "{settings:?}");
    assert!(settings.contains(&(6, 16 * 1024)), "{settings:?}");
}

#[test]
fn serve_help_lists_the_connection_limits_with_their_variables() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["serve", "--help"])
        .output()
        .expect("run tollgate serve --help");
    let help = String::from_utf8_lossy(&out.stdout);
    for (flag, var, default) in [
        ("--header-timeout", "TOLLGATE_HEADER_TIMEOUT", "30"),
        ("--idle-timeout", "TOLLGATE_IDLE_TIMEOUT", "60"),
        ("--max-connections", "TOLLGATE_MAX_CONNECTIONS", "10000"),
    ] {
        let line = help
            .split("\n\n")
            .find(|block| block.contains(flag))
            .unwrap_or_else(|| panic!("{flag} missing from:\n{help}"));
        assert!(line.contains(&format!("env: {var}")), "{line}");
        assert!(line.contains(&format!("default: {default}")), "{line}");
    }
}

/// The server's peak resident memory (VmHWM), for the report; never asserted.
fn peak_rss_kib(srv: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", srv.pid())).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_body_with_millions_of_violations_is_answered_with_a_bounded_list() {
    let srv = Server::start();
    let cp = Cp::new(&srv);
    let (api, root) = cp.create_api("validation-flood");
    let res = cp.resource(&api, &root, "items");
    let schema = r#"{"type":"array","items":{"type":"object","required":["a"]}}"#;
    cp.ok(
        "POST",
        &format!("/restapis/{api}/models"),
        Some(&serde_json::json!({"name": "Items", "contentType": "application/json", "schema": schema})),
    );
    let validator = cp.ok(
        "POST",
        &format!("/restapis/{api}/requestvalidators"),
        Some(&serde_json::json!({"name": "body", "validateRequestBody": true})),
    );
    cp.put_method(
        &api,
        &res,
        "POST",
        serde_json::json!({
            "authorizationType": "NONE",
            "requestValidatorId": str_of(&validator, "id"),
            "requestModels": {"application/json": "Items"},
        }),
    );
    cp.put_integration(
        &api,
        &res,
        "POST",
        serde_json::json!({"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}),
    );
    cp.put_method_response(&api, &res, "POST", "200");
    cp.put_integration_response(&api, &res, "POST", "200", serde_json::json!({}));
    // The violations are visible through a customised BAD_REQUEST_BODY.
    cp.ok(
        "PUT",
        &format!("/restapis/{api}/gatewayresponses/BAD_REQUEST_BODY"),
        Some(&serde_json::json!({
            "responseTemplates": {"application/json": "$context.error.validationErrorString"}
        })),
    );
    cp.deploy(&api, "dev");

    // Just under AWS's 10 MB: 3.4 million objects, each missing `a`.
    let mut body = Vec::with_capacity(10_300_000);
    body.push(b'[');
    for i in 0..3_400_000 {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(b"{}");
    }
    body.push(b']');
    let r = Http::post(srv.port, &Server::exec_path(&api, "/dev/items"))
        .header("Content-Type", "application/json")
        .body(body)
        .send();
    assert_eq!(r.status, 400, "{r}");
    // A body this large reports its first violation only.
    assert_eq!(
        r.text(),
        r#"[object has missing required properties (["a"])]"#,
        "{r}"
    );
    eprintln!(
        "server peak RSS after the flood: {} KiB",
        peak_rss_kib(&srv)
    );

    // A smaller body lists its violations, at most 100 of them.
    let small = format!("[{}]", vec!["{}"; 3000].join(","));
    let r = Http::post(srv.port, &Server::exec_path(&api, "/dev/items"))
        .header("Content-Type", "application/json")
        .body(small)
        .send();
    assert_eq!(r.status, 400, "{r}");
    let listed = r
        .text()
        .matches("object has missing required properties")
        .count();
    assert_eq!(listed, 100, "a bounded list of violations: {}", r.text());
}

/// 50 MB, declared and never sent.
const HUGE: usize = 50 * 1024 * 1024;

/// Sends only the head of a request that declares a `declared`-byte body, and returns the
/// answer the server gives without having the body. The connection is returned too, so a
/// caller can keep the request pending.
fn head_only(
    srv: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    declared: usize,
) -> TcpStream {
    let mut s = connect(srv);
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\n",
        srv.port
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).expect("write head");
    s
}

/// `X-Amz-Date` for `offset_secs` from now.
fn amz_date(offset_secs: i64) -> (String, String) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + offset_secs;
    let stamp =
        tollgate_sigv4::format_amz_date(std::time::UNIX_EPOCH + Duration::from_secs(secs as u64));
    (stamp[..8].to_string(), stamp)
}

/// Headers of a SigV4 request whose head is right (or as `key`, `offset_secs` and
/// `service` make it wrong) and whose signature cannot be checked without the body.
fn signed_head(key: &str, offset_secs: i64, service: &str) -> Vec<(&'static str, String)> {
    let (date, stamp) = amz_date(offset_secs);
    vec![
        ("X-Amz-Date", stamp),
        (
            "Authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={key}/{date}/us-east-1/{service}/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date, Signature={}",
                "0".repeat(64)
            ),
        ),
    ]
}

fn assert_refused(resp: &str, status: &str, error_type: &str, message: &str) {
    assert!(resp.starts_with(&format!("HTTP/1.1 {status}")), "{resp}");
    assert!(
        resp.to_ascii_lowercase().contains(&format!(
            "x-amzn-errortype: {}",
            error_type.to_ascii_lowercase()
        )),
        "{resp}"
    );
    assert!(resp.contains(message), "{message} in {resp}");
}

#[test]
fn control_plane_refuses_bad_signatures_before_reading_the_body() {
    let srv = Server::start();
    let refused = |path: &str, headers: Vec<(&str, String)>, error_type: &str, message: &str| {
        let mut s = head_only(&srv, "POST", path, &headers, HUGE);
        assert_refused(&read_one_response(&mut s), "403", error_type, message);
    };
    let (missing, unknown, invalid) = (
        "MissingAuthenticationTokenException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
    );
    let v1 = "/restapis";
    refused(v1, vec![], missing, "Missing Authentication Token");
    refused(
        v1,
        signed_head("nobody", 0, "apigateway"),
        unknown,
        "The security token included in the request is invalid.",
    );
    refused(
        v1,
        signed_head("test", -3600, "apigateway"),
        invalid,
        "Signature expired",
    );
    refused(
        v1,
        signed_head("test", 3600, "apigateway"),
        invalid,
        "Signature not yet current",
    );
    refused(
        v1,
        signed_head("test", 0, "lambda"),
        invalid,
        "Credential should be scoped to correct service: 'apigateway'",
    );
    let lambda = "/2015-03-31/functions";
    refused(lambda, vec![], missing, "Missing Authentication Token");
    refused(
        lambda,
        signed_head("nobody", 0, "lambda"),
        unknown,
        "security token",
    );
    refused(
        "/2015-03-31/functions/f/invocations",
        signed_head("test", -3600, "lambda"),
        invalid,
        "Signature expired",
    );
    // A good head over the limit is refused before its body too.
    for (path, service, limit) in [
        ("/restapis", "apigateway", 8),
        ("/2015-03-31/functions", "lambda", 72),
    ] {
        let mut s = head_only(
            &srv,
            "POST",
            path,
            &signed_head("test", 0, service),
            (limit + 1) * 1024 * 1024,
        );
        let resp = read_one_response(&mut s);
        assert_refused(
            &resp,
            "413",
            "RequestTooLargeException",
            "Request body too large",
        );
    }
}

#[test]
fn data_plane_refuses_a_declared_body_over_10mb_before_reading_it() {
    let srv = Server::start();
    let cp = Cp::new(&srv);
    let (api, root) = cp.create_api("big-heads");
    let res = cp.resource(&api, &root, "up");
    cp.mock(&api, &res, "POST", "{}");
    cp.deploy(&api, "dev");
    let mut s = head_only(&srv, "POST", &Server::exec_path(&api, "/dev/up"), &[], HUGE);
    let resp = read_one_response(&mut s);
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    assert!(
        resp.contains("HTTP content length exceeded 10485760 bytes."),
        "{resp}"
    );
}

#[test]
fn a_stalled_data_plane_body_is_abandoned() {
    let srv = start(&["--idle-timeout", "1"]);
    let cp = Cp::new(&srv);
    let (api, root) = cp.create_api("slow-bodies");
    let res = cp.resource(&api, &root, "up");
    // MOCK reads the body into memory to render its template.
    cp.mock(&api, &res, "POST", "{}");
    cp.deploy(&api, "dev");
    let mut s = head_only(&srv, "POST", &Server::exec_path(&api, "/dev/up"), &[], 1000);
    s.write_all(b"{\"a\": ").expect("part of the body");
    let resp = read_one_response(&mut s);
    assert!(resp.starts_with("HTTP/1.1 408"), "{resp}");
    assert!(resp.contains("Request body not received in time"), "{resp}");
}

#[test]
fn control_plane_bodies_in_flight_share_a_bounded_budget() {
    let srv = Server::start();
    // Lambda calls with good heads hold 60 MB of the 128 MB budget each while their bodies
    // do not come: the third in the server's order waits for room (5 s), then is told to
    // retry. Which one is third is the server's choice, so calls are added until one
    // answers; those still waiting hold their room.
    let declared = 60 * 1024 * 1024;
    let head = signed_head("test", 0, "lambda");
    let mut pending: Vec<TcpStream> = (0..2)
        .map(|_| head_only(&srv, "POST", "/2015-03-31/functions", &head, declared))
        .collect();
    let mut third = None;
    for _ in 0..4 {
        let mut s = head_only(&srv, "POST", "/2015-03-31/functions", &head, declared);
        s.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
        let mut first = [0u8; 1];
        match s.read(&mut first) {
            Ok(1) => {
                s.set_read_timeout(Some(CLOSE_PATIENCE)).unwrap();
                third = Some(format!("H{}", read_one_response(&mut s)));
                break;
            }
            _ => pending.push(s),
        }
    }
    let third = third.expect("some call over the budget is answered");
    assert_refused(
        &third,
        "429",
        "TooManyRequestsException",
        "Too Many Requests",
    );
    assert!(
        srv.stderr().contains("hold the whole budget"),
        "{}",
        srv.stderr()
    );
    // Calls without a body still pass, and room comes back when the holders give up.
    let cp = Cp::new(&srv);
    cp.ok("GET", "/restapis", None);
    drop(pending);
    eventually("room comes back when the pending calls are gone", || {
        let mut s = head_only(&srv, "POST", "/2015-03-31/functions", &head, declared);
        // Waiting for room ends in a 429 within 5 s; a call that got its room waits for its
        // body, silently.
        s.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
        let mut buf = [0u8; 64];
        match s.read(&mut buf) {
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Some(()),
            _ => None,
        }
    });
}

#[test]
fn a_stalled_control_plane_body_is_abandoned() {
    let srv = start(&["--idle-timeout", "1"]);
    let head = signed_head("test", 0, "lambda");
    let mut s = head_only(&srv, "POST", "/2015-03-31/functions", &head, 1000);
    s.write_all(b"{\"FunctionName\": ").unwrap();
    let resp = read_one_response(&mut s);
    assert_refused(
        &resp,
        "408",
        "RequestTimeoutException",
        "Request body not received within 1 s",
    );
}
