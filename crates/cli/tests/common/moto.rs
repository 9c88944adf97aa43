//! moto's server (`moto_server` from the venv .ci/run sets up) on a free loopback port, for
//! tests of AWS service integrations; killed when dropped.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use serde_json::Value;

use super::PATIENCE;

pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    pub fn start() -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run moto_server ({e}): install it with \
                     `.venv/bin/pip install 'moto[server]'` and put .venv/bin on PATH (.ci/run does)"
                )
            });
        let moto = Moto { child, port };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < PATIENCE, "moto_server did not start");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The bodies of the messages waiting in `queue_url` (up to 10), sorted.
    pub fn queue_bodies(&self, queue_url: &str) -> Vec<String> {
        let got = self.aws(&[
            "sqs",
            "receive-message",
            "--queue-url",
            queue_url,
            "--max-number-of-messages",
            "10",
            "--wait-time-seconds",
            "1",
        ]);
        let mut out: Vec<String> = got["Messages"]
            .as_array()
            .map(|m| {
                m.iter()
                    .map(|m| m["Body"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    /// Runs the aws CLI against moto (setup and checks); the command must succeed.
    pub fn aws(&self, args: &[&str]) -> Value {
        let out = Command::new("aws")
            .arg("--endpoint-url")
            .arg(self.endpoint())
            .args(["--output", "json", "--region", "us-east-1"])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_CONFIG_FILE", "/nonexistent/tollgate-tests/config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/tollgate-tests/credentials",
            )
            .env("AWS_PAGER", "")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_PROFILE")
            .stdin(Stdio::null())
            .output()
            .expect("run aws");
        assert!(
            out.status.success(),
            "aws {args:?} against moto failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        if stdout.trim().is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&stdout).expect("aws printed JSON")
    }

    /// A Tollgate server whose AWS integrations call this moto.
    pub fn server(&self) -> super::Server {
        let flags = self.flags();
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        super::Server::start_with(std::sync::Arc::new(tempfile::tempdir().unwrap()), &flags)
    }

    /// The flags that point a Tollgate server's AWS integrations at this moto.
    pub fn flags(&self) -> Vec<String> {
        vec![
            "--aws-endpoint".into(),
            self.endpoint(),
            "--aws-access-key-id".into(),
            "moto".into(),
            "--aws-secret-access-key".into(),
            "moto-secret".into(),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
