//! The Lambda engine's limits, end to end with the real `aws` CLI and the real binary:
//! oversized log lines, remote endpoints that answer too much or never, code packages whose
//! symlinks climb out, concurrency counted per function, and memory counted over a worker's
//! whole process group.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use serde_json::Value;

const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";
const SYMLINK: u32 = 0o120777;

/// A server with the helpers these tests share.
struct Lambda {
    s: Server,
}

impl Lambda {
    fn start() -> Lambda {
        Lambda { s: Server::start() }
    }

    /// Writes a zip of `(name, contents, mode)` entries; the `fileb://` argument for it.
    fn package(&self, name: &str, files: &[(&str, &[u8], u32)]) -> String {
        let path = self.s.data_path().join(name);
        std::fs::write(&path, tollgate_functions::code::build_zip(files)).unwrap();
        format!("fileb://{}", path.display())
    }

    fn create(
        &self,
        name: &str,
        runtime: &str,
        zip: &str,
        extra: &[&str],
    ) -> Result<Value, AwsError> {
        let mut args = vec![
            "lambda",
            "create-function",
            "--function-name",
            name,
            "--runtime",
            runtime,
            "--handler",
            "app.handler",
            "--role",
            ROLE,
            "--zip-file",
            zip,
        ];
        args.extend_from_slice(extra);
        aws(&self.s, &args)
    }

    /// `aws lambda invoke`: the CLI's output and the payload written.
    fn invoke(&self, args: &[&str]) -> Result<(Value, String), AwsError> {
        invoke_on(&self.s, args)
    }

    fn log(&self, function: &str) -> String {
        let path = self
            .s
            .data_path()
            .join("functions/logs")
            .join(format!("{function}.log"));
        std::fs::read_to_string(path).unwrap_or_default()
    }
}

fn invoke_on(s: &Server, args: &[&str]) -> Result<(Value, String), AwsError> {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out = s.data_path().join(format!("limits-out-{n}.json"));
    let out_s = out.to_string_lossy().into_owned();
    let mut full = vec!["lambda", "invoke"];
    full.extend_from_slice(args);
    full.push(&out_s);
    let v = aws(s, &full)?;
    Ok((v, std::fs::read_to_string(&out).unwrap_or_default()))
}

/// Waits (bounded) until `path` exists.
fn wait_for_file(path: &Path) {
    let start = std::time::Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < PATIENCE,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn decode_b64(s: &str) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s)
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn a_huge_log_line_is_cut_and_the_invocation_completes() {
    let l = Lambda::start();
    // 10 MB without a newline, then a normal line.
    let app = b"import sys\ndef handler(event, context):\n    sys.stdout.write('x' * (10 << 20))\n    sys.stdout.write('\\nafter the long line\\n')\n    sys.stdout.flush()\n    return 'ok'\n";
    let zip = l.package("loud.zip", &[("app.py", app, 0o644)]);
    l.create("loud", "python3.12", &zip, &["--timeout", "30"])
        .unwrap();
    let (v, p) = l
        .invoke(&["--function-name", "loud", "--log-type", "Tail"])
        .unwrap();
    assert!(v.get("FunctionError").is_none(), "{v} {p}");
    assert_eq!(p, r#""ok""#);
    let tail = decode_b64(v["LogResult"].as_str().unwrap_or_default());
    assert!(
        tail.len() <= 4096 && tail.contains("REPORT RequestId"),
        "{tail}"
    );
    // The log gets the first 256 KB of the long line, then the next line.
    let start = std::time::Instant::now();
    while !l.log("loud").contains("after the long line") {
        assert!(
            start.elapsed() < PATIENCE,
            "the line after never reached the log"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = l.log("loud");
    let longest = log.lines().map(str::len).max().unwrap_or(0);
    assert_eq!(longest, 256 * 1024, "longest log line");
    assert!(log.contains(&format!("\n{}\n", "x".repeat(256 * 1024))));
}

/// A Lambda endpoint that answers `huge` with an endless 100 MB body and never answers
/// `slow`.
fn misbehaving_lambda_endpoint() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || misbehave(stream));
        }
    });
    port
}

fn misbehave(mut stream: TcpStream) {
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    let _ = reader.read_line(&mut request_line);
    let mut length = 0;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    if request_line.contains("/functions/huge/") {
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n",
        );
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..1600 {
            if stream.write_all(&chunk).is_err() {
                return;
            }
        }
    } else {
        // Never answers; holds the connection until the caller gives up (bounded).
        let _ = reader.read(&mut [0; 1]);
    }
}

#[test]
fn remote_answers_that_are_huge_or_slow_are_bounded() {
    let port = misbehaving_lambda_endpoint();
    let endpoint = format!("http://127.0.0.1:{port}");
    let front = Server::start_with(
        std::sync::Arc::new(tempfile::tempdir().unwrap()),
        &[
            "--lambda-endpoint",
            &endpoint,
            "--lambda-access-key-id",
            "test",
            "--lambda-secret-access-key",
            "test",
            "--lambda-endpoint-timeout",
            "3",
        ],
    );
    // Lambda's ServiceException instead of buffering 100 MB or waiting forever.
    let e = invoke_on(&front, &["--function-name", "huge"]).unwrap_err();
    assert!(
        e.stderr.contains("ServiceException") && e.stderr.contains("larger than 6291456 bytes"),
        "{}",
        e.stderr
    );
    let e = invoke_on(&front, &["--function-name", "slow"]).unwrap_err();
    assert!(
        e.stderr.contains("ServiceException") && e.stderr.contains("did not answer within 3 s"),
        "{}",
        e.stderr
    );
}

#[test]
fn a_package_whose_symlinks_climb_out_through_each_other_is_refused() {
    let l = Lambda::start();
    let zip = l.package(
        "climb.zip",
        &[
            ("app.py", b"def handler(e, c):\n    return 1\n", 0o644),
            ("a/b/c/file", b"x", 0o644),
            ("a/b/c/l", b"../../..", SYMLINK),
            ("x", b"a/b/c/l/../../..", SYMLINK),
        ],
    );
    let e = l.create("climb", "python3.12", &zip, &[]).unwrap_err();
    assert_cli_error(
        &e,
        "InvalidParameterValueException",
        "the code package contains an unsafe path: x",
    );
    let e = aws(
        &l.s,
        &["lambda", "get-function", "--function-name", "climb"],
    )
    .unwrap_err();
    assert!(
        e.stderr.contains("ResourceNotFoundException"),
        "{}",
        e.stderr
    );
    // Nothing was unpacked.
    let code: PathBuf = l.s.data_path().join("functions/code");
    let left: Vec<_> = std::fs::read_dir(&code)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn reserved_concurrency_counts_every_version_together() {
    let l = Lambda::start();
    // Signals it started, then holds its slot until released (bounded).
    let app = b"import os, time\ndef handler(event, context):\n    if 'started' in event:\n        open(event['started'], 'w').close()\n        for _ in range(1200):\n            if os.path.exists(event['release']):\n                break\n            time.sleep(0.05)\n    return context.function_version\n";
    let zip = l.package("held.zip", &[("app.py", app, 0o644)]);
    l.create("held", "python3.12", &zip, &["--timeout", "120"])
        .unwrap();
    aws(
        &l.s,
        &["lambda", "publish-version", "--function-name", "held"],
    )
    .unwrap();
    aws(
        &l.s,
        &[
            "lambda",
            "put-function-concurrency",
            "--function-name",
            "held",
            "--reserved-concurrent-executions",
            "1",
        ],
    )
    .unwrap();
    let started = l.s.data_path().join("started");
    let release = l.s.data_path().join("release");
    let payload = serde_json::json!({"started": started, "release": release}).to_string();
    std::thread::scope(|scope| {
        let slow = scope.spawn(|| {
            l.invoke(&[
                "--function-name",
                "held",
                "--qualifier",
                "1",
                "--payload",
                &payload,
            ])
        });
        wait_for_file(&started);
        // Version 1 holds the function's one slot: $LATEST is throttled too.
        let e = l.invoke(&["--function-name", "held"]).unwrap_err();
        assert!(
            e.stderr.contains("TooManyRequestsException"),
            "{}",
            e.stderr
        );
        std::fs::write(&release, "").unwrap();
        let (_, answer) = slow.join().unwrap().unwrap();
        assert_eq!(answer, r#""1""#);
    });
    let (_, p) = l.invoke(&["--function-name", "held"]).unwrap();
    assert_eq!(p, r#""$LATEST""#);
}

#[test]
fn memory_size_counts_the_whole_process_group() {
    let l = Lambda::start();
    // The shell stays the group leader; the Python process it starts does the work.
    let bootstrap =
        b"#!/bin/sh\npython3 \"$LAMBDA_TASK_ROOT/loop.py\"\necho \"runtime loop ended\"\n";
    let r#loop = b"import json, os, time, urllib.request
api = 'http://' + os.environ['AWS_LAMBDA_RUNTIME_API'] + '/2018-06-01/runtime/invocation/'
while True:
    with urllib.request.urlopen(api + 'next') as r:
        rid = r.headers['Lambda-Runtime-Aws-Request-Id']
        event = json.loads(r.read())
    data = b'x' * (event['mb'] * 1024 * 1024)
    time.sleep(1)
    body = json.dumps(len(data)).encode()
    urllib.request.urlopen(urllib.request.Request(api + rid + '/response', data=body, method='POST')).read()
";
    let zip = l.package(
        "group.zip",
        &[("bootstrap", bootstrap, 0o755), ("loop.py", r#loop, 0o644)],
    );
    l.create(
        "group",
        "provided.al2023",
        &zip,
        &["--memory-size", "128", "--timeout", "10"],
    )
    .unwrap();
    let big = r#"{"mb": 200}"#;
    let (v, p) = l
        .invoke(&["--function-name", "group", "--payload", big])
        .unwrap();
    assert_eq!(v["FunctionError"], "Unhandled", "{v} {p}");
    let err: Value = serde_json::from_str(&p).unwrap();
    assert_eq!(err["errorType"], "Runtime.OutOfMemory", "{err}");
    // Under the limit, a fresh worker serves; REPORT counts the Python process's memory.
    let small = r#"{"mb": 20}"#;
    let (v, p) = l
        .invoke(&[
            "--function-name",
            "group",
            "--payload",
            small,
            "--log-type",
            "Tail",
        ])
        .unwrap();
    assert!(v.get("FunctionError").is_none(), "{v} {p}");
    assert_eq!(p, (20 << 20).to_string());
    let tail = decode_b64(v["LogResult"].as_str().unwrap_or_default());
    let used: u64 = tail
        .split("Max Memory Used: ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no Max Memory Used in {tail}"));
    assert!(used >= 20, "Max Memory Used: {used} MB\n{tail}");
}
