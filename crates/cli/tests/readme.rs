//! The README, as a new user meets it: the gateway started with default flags (no
//! `--data-dir`, so `./.tollgate` in the working directory) and every `sh` block after the
//! setup block pasted into bash, in order, with the real aws CLI and curl.
//!
//! Only what cannot be the same on a test machine is substituted: the port (4566 may be
//! taken, so a free one), the backend's port 8000 (a Python file server the test starts),
//! `cargo run --release -p tollgate --` (the binary under test) and `--follow` (it never
//! ends).

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, what: &str, child: &mut Child) {
    let deadline = Instant::now() + common::PATIENCE;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before listening: {status}");
        }
        assert!(Instant::now() < deadline, "{what} never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The README's fenced `sh` blocks, in order.
fn sh_blocks(readme: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(_), "```") => blocks.push(current.take().unwrap()),
            (Some(b), l) => {
                b.push_str(l);
                b.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

#[test]
fn readme_setup_has_exactly_two_commands() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let setup = &sh_blocks(&readme)[0];
    let commands: Vec<&str> = setup.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(commands.len(), 2, "{setup}");
    assert!(commands[0].starts_with("cargo run --release -p tollgate -- serve"));
    assert!(commands[1].starts_with("bash .ci/run"));
}

#[test]
fn readme_examples_work_with_default_flags() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let blocks = sh_blocks(&readme);
    assert!(blocks.len() >= 2, "README has no examples");

    let cwd = tempfile::tempdir().unwrap();
    let port = free_port();
    let web_port = free_port();
    // The AWS integrations section runs moto and a second gateway of its own.
    let (moto_port, aws_gw_port) = (free_port(), free_port());
    let bin = env!("CARGO_BIN_EXE_tollgate");

    // The backend of the `{proxy+}` example: `python3 -m http.server 8000` in a folder with
    // a README.md.
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("README.md"), "served by the backend\n").unwrap();
    let mut web = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &web_port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .current_dir(site.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 -m http.server");
    wait_for_port(web_port, "the file server", &mut web);
    let _web = Killed(web);

    // `tollgate serve` as the README runs it: default data dir, from the user's directory.
    let stderr = std::fs::File::create(cwd.path().join("tollgate.log")).unwrap();
    let mut cmd = Command::new(bin);
    cmd.args(["serve", "--listen", &format!("localhost:{port}")])
        .current_dir(cwd.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    for (k, _) in std::env::vars() {
        if k.starts_with("TOLLGATE_") {
            cmd.env_remove(k);
        }
    }
    let mut server = cmd.spawn().expect("tollgate serve");
    wait_for_port(port, "tollgate", &mut server);
    let _server = Killed(server);

    let script: String = blocks[1..]
        .iter()
        .map(|b| {
            b.replace("localhost:4566", &format!("localhost:{port}"))
                .replace("127.0.0.1:8000", &format!("127.0.0.1:{web_port}"))
                .replace("-p 5000", &format!("-p {moto_port}"))
                .replace("127.0.0.1:5000", &format!("127.0.0.1:{moto_port}"))
                .replace("localhost:4567", &format!("localhost:{aws_gw_port}"))
                .replace("cargo run --release -p tollgate --", bin)
                .replace(" --follow", "")
        })
        .collect();
    let mut bash = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(cwd.path())
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash");
    // Bounded: the whole README runs in well under the patience of a few minutes.
    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        if let Some(s) = bash.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = bash.kill();
            panic!("the README's examples did not finish in 300 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (mut out, mut err) = (String::new(), String::new());
    bash.stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    bash.stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let log = std::fs::read_to_string(cwd.path().join("tollgate.log")).unwrap_or_default();
    let context = format!("stdout:\n{out}\nstderr:\n{err}\nserver log:\n{log}");
    assert!(
        status.success(),
        "the README's examples failed ({status})\n{context}"
    );

    for expected in [
        r#"[{"id": 1}]"#,
        r#"{"id": "7"}"#,
        "served by the backend",
        "Missing Authentication Token",
        r#"{"message":"Forbidden"}"#,
        "Missing required request parameters: [owner]",
        "hello from /any/path",
        "hello from /pets",
        "REPORT RequestId:",
        r#"{"message":"Unauthorized"}"#,
        "with an explicit deny",
        "hello from /secret",
        r#"{"caller": "arn:aws:iam::000000000000:root"}"#,
        r#"{"caller": "arn:aws:iam::000000000000:user/alice"}"#,
        "hello from /via-url",
        "hello from /from-localstack",
        "hello from S3 through the front door",
        r#"{"you": ""#,
        "hello, room",
        r#""description" : "Pets, from OpenAPI""#,
        r#"{"message": "hello from SAM"}"#,
        ",resource=\"/web/{proxy+}\",method=\"ANY\"} 1",
        ") Method completed with status: 200",
        r#"{"hello": "v1"}"#,
        r#"/prod">shop</a>"#,
        r#"{"queued": true}"#,
        r#"{"order": 1}"#,
    ] {
        assert!(out.contains(expected), "missing {expected:?}\n{context}");
    }
    // State and logs went to the default data directory.
    let data = cwd.path().join(".tollgate");
    assert!(
        data.join("tollgate.db").is_file(),
        "no ./.tollgate/tollgate.db"
    );
    assert!(data.join("functions/logs/hello.log").is_file());
}
