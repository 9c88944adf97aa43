//! TLS at the edge (`--tls-cert/--tls-key`): the same listener serves HTTPS with HTTP/2 by
//! ALPN, requests are classified through the frontend table as on plain listeners, and a
//! client that never finishes its handshake is dropped after the head timeout.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

fn data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../gateway/tests/data")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn start_tls(extra: &[&str]) -> Server {
    let (cert, key) = (data("localhost.cert.pem"), data("localhost.key.pem"));
    let mut flags = vec!["--tls-cert", cert.as_str(), "--tls-key", key.as_str()];
    flags.extend_from_slice(extra);
    Server::start_with(
        std::sync::Arc::new(tempfile::tempdir().expect("temp dir")),
        &flags,
    )
}

/// `curl` over HTTPS to `host` (resolved to the server), trusting the test certificate:
/// (HTTP version, status, body).
fn curl(srv: &Server, host: &str, path: &str) -> (String, String, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--cacert"])
        .arg(data("localhost.cert.pem"))
        .arg("--resolve")
        .arg(format!("{host}:{}:127.0.0.1", srv.port))
        .args(["-w", "\n%{http_version} %{http_code}"])
        .arg(format!("https://{host}:{}{path}", srv.port))
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, last) = text.rsplit_once('\n').expect("curl's -w line");
    let (version, status) = last.split_once(' ').expect("version and status");
    (version.into(), status.into(), body.into())
}

#[test]
fn https_serves_apis_and_control_plane_over_http2() {
    let srv = start_tls(&[]);
    // A default endpoint for an API that does not exist: the data plane's 403.
    let (version, status, body) = curl(&srv, "nope.execute-api.localhost", "/dev/x");
    assert_eq!((version.as_str(), status.as_str()), ("2", "403"));
    assert_eq!(body, r#"{"message":"Forbidden"}"#);
    // The path form too.
    let (_, status, body) = curl(&srv, "localhost", "/_aws/execute-api/nope/dev/x");
    assert_eq!(
        (status.as_str(), body.as_str()),
        ("403", r#"{"message":"Forbidden"}"#)
    );
    // Anything else is the control plane (here, unsigned: its own 403).
    let (_, status, body) = curl(&srv, "localhost", "/restapis");
    assert_eq!(status, "403");
    assert!(
        body.contains("MissingAuthenticationToken") || body.contains("message"),
        "{body}"
    );
}

#[test]
fn a_handshake_that_never_finishes_is_dropped_after_the_header_timeout() {
    let srv = start_tls(&["--header-timeout", "1", "--idle-timeout", "3600"]);
    let mut s = TcpStream::connect(("127.0.0.1", srv.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap_or(0);
    assert_eq!(
        n, 0,
        "the server sent bytes to a client that never said hello"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "not closed in time"
    );
}

#[test]
fn a_bad_certificate_file_stops_the_start_with_a_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(data("localhost.key.pem"))
        .arg("--tls-key")
        .arg(data("localhost.key.pem"))
        .env("TOLLGATE_DATA_DIR", dir.path())
        .output()
        .expect("run tollgate");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no certificate in"), "{err}");
}
