//! Harness shared by the integration and end-to-end tests.
//!
//! * [`Server`]: the real `tollgate` binary on a free loopback port with its own data dir;
//!   restartable on the same dir, killable with SIGKILL or SIGTERM.
//! * [`aws`] / [`apigw`]: the real `aws` CLI pointed at a server (the tests fail, loudly, when
//!   it is not on PATH: CI installs it into a venv).
//! * [`Http`]: a tiny blocking HTTP/1.1 client on `std::net::TcpStream`, so tests control
//!   every byte (Host header, chunked bodies, oversized headers, early answers).
//! * [`Cp`]: control-plane calls signed with our own SigV4 signer (independent of the
//!   product's verifier), for setup and for requests the CLI cannot make.
//! * [`Backend`]: an HTTP echo server (hyper) that reports what reached it, can delay, can
//!   answer with a chosen status, and can echo the body byte for byte.
//!
//! Every wait is bounded so a broken server fails a test instead of hanging it; no test
//! asserts on how long anything took.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

pub mod browser;
pub mod certs;
pub mod idp;
pub mod lambda;
pub mod moto;
pub mod sam;
pub mod websocket;

/// Upper bound for anything a test waits on (startup, a response, a file to appear).
pub const PATIENCE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------
// The server process

static STARTS: AtomicUsize = AtomicUsize::new(0);

/// A running `tollgate serve`. Killed (SIGKILL) when dropped.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    dir: Arc<tempfile::TempDir>,
    data_path: PathBuf,
    stderr_path: PathBuf,
    /// Copies the server's stderr to `stderr_path`; joined once the server exits, so
    /// everything it wrote is in the file.
    stderr_copier: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts a server on a fresh, empty data dir.
    pub fn start() -> Server {
        Server::start_in(Arc::new(tempfile::tempdir().expect("temp dir")))
    }

    /// Starts a server on `dir` (e.g. the dir of a server that was stopped: a restart).
    pub fn start_in(dir: Arc<tempfile::TempDir>) -> Server {
        Server::start_with(dir, &[])
    }

    /// Starts a server on `dir` with extra `serve` flags.
    pub fn start_with(dir: Arc<tempfile::TempDir>, extra: &[&str]) -> Server {
        Server::launch(
            dir,
            Launch {
                flags: extra,
                ..Launch::default()
            },
        )
    }

    /// Starts a server as `how` says, with `dir` as its data dir (or, with
    /// `default_data_dir`, as its working directory).
    pub fn launch(dir: Arc<tempfile::TempDir>, how: Launch) -> Server {
        let n = STARTS.fetch_add(1, Ordering::Relaxed);
        // Diagnostics go to a file beside the data dir's content, kept per start.
        let stderr_path = dir.path().join(format!("tollgate-stderr-{n}.log"));
        let mut stderr_log = File::create(&stderr_path).expect("stderr log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tollgate"));
        cmd.args(["serve", "--listen", "127.0.0.1:0"]);
        let data_path = if how.default_data_dir {
            cmd.current_dir(dir.path());
            dir.path().join(".tollgate")
        } else {
            cmd.arg("--data-dir").arg(dir.path());
            dir.path().to_path_buf()
        };
        cmd.args(how.flags)
            .envs(how.env.iter().copied())
            .env("TOLLGATE_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // The defaults (key `test`/`test`, access logs under the data dir) are part of what
        // is tested: do not let the environment of the machine running the tests change them.
        for var in [
            "TOLLGATE_DATA_DIR",
            "TOLLGATE_LISTEN",
            "TOLLGATE_ADMIN_LISTEN",
            "TOLLGATE_REGION",
            "TOLLGATE_ACCESS_KEY_ID",
            "TOLLGATE_SECRET_ACCESS_KEY",
            "TOLLGATE_ACCESS_LOG_DIR",
            "TOLLGATE_STORE",
            "TOLLGATE_LAMBDA_ENDPOINT",
            "TOLLGATE_AWS_ENDPOINT",
            "TOLLGATE_AWS_SERVICE_ENDPOINTS",
            "TOLLGATE_AWS_ACCESS_KEY_ID",
            "TOLLGATE_AWS_SECRET_ACCESS_KEY",
            "TOLLGATE_AWS_SESSION_TOKEN",
            "TOLLGATE_AWS_ASSUME_ROLE",
        ] {
            cmd.env_remove(var);
        }
        let mut child = cmd.spawn().expect("start the tollgate binary");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel::<String>();
        // Copy stderr to the log file, line by line, for the whole life of the process (so
        // it never blocks on a full pipe), and hand each line over to find the listen line.
        let stderr_copier = std::thread::spawn(move || {
            let mut reader = BufReader::new(stderr);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let _ = stderr_log.write_all(&line);
                        let _ = stderr_log.flush();
                        let _ = tx.send(String::from_utf8_lossy(&line).into_owned());
                    }
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(port) = parse_listening_line(&line) {
                        break port;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let status = child.wait().ok();
                    panic!(
                        "tollgate did not log `listening on http://127.0.0.1:PORT (control plane and APIs)` \
                         within 30 s (exit status: {status:?}); stderr:\n{}",
                        std::fs::read_to_string(&stderr_path).unwrap_or_default()
                    );
                }
            }
        };
        Server {
            child: Some(child),
            port,
            dir,
            data_path,
            stderr_path,
            stderr_copier: Some(stderr_copier),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The data dir, to start another server on it after this one is stopped.
    pub fn dir(&self) -> Arc<tempfile::TempDir> {
        self.dir.clone()
    }

    pub fn data_path(&self) -> &Path {
        &self.data_path
    }

    /// What the server wrote to stderr so far (for failure messages).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// The server's stderr once it holds `needle` (or after PATIENCE): lines reach the file
    /// through a copier thread, a moment after the server wrote them.
    pub fn stderr_with(&self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let text = self.stderr();
            if text.contains(needle) || Instant::now() >= deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server is running").id()
    }

    /// Waits for the last of the exited server's stderr to reach the file (its pipe closes
    /// when the process exits).
    fn join_stderr(&mut self) {
        let Some(copier) = self.stderr_copier.take() else {
            return;
        };
        let deadline = Instant::now() + PATIENCE;
        while !copier.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// SIGKILL: no chance to flush or drain anything.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL tollgate");
            child.wait().expect("reap tollgate");
            self.join_stderr();
        }
    }

    /// Sends SIGTERM and waits (bounded) for the process to exit; returns its status.
    pub fn sigterm(&mut self) -> ExitStatus {
        self.send_sigterm();
        self.wait_exit()
    }

    /// Sends SIGTERM without waiting (the process keeps draining in the background).
    pub fn send_sigterm(&mut self) {
        let pid = self.pid();
        let ok = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill -TERM")
            .success();
        assert!(ok, "kill -TERM {pid} failed");
    }

    /// Waits (bounded) for the process to exit after a signal.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("server is running");
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.join_stderr();
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "tollgate did not exit within {PATIENCE:?} after SIGTERM; stderr:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A data-plane path in the path-style form: `/_aws/execute-api/{api}{stage_path}`,
    /// with `stage_path` like `/dev/pets`.
    pub fn exec_path(api: &str, stage_path: &str) -> String {
        format!("/_aws/execute-api/{api}{stage_path}")
    }

    /// GET on the data plane (path-style addressing).
    pub fn invoke(&self, api: &str, stage_path: &str) -> Response {
        Http::get(self.port, &Server::exec_path(api, stage_path)).send()
    }
}

/// How [`Server::launch`] starts the binary, beyond the defaults.
#[derive(Default)]
pub struct Launch<'a> {
    /// Extra `serve` flags.
    pub flags: &'a [&'a str],
    /// No `--data-dir`: the server runs in the dir and keeps its state in the default,
    /// relative `./.tollgate`, as on a user's first run.
    pub default_data_dir: bool,
    /// Extra environment variables (e.g. a PATH with fake interpreters on it).
    pub env: &'a [(&'a str, &'a str)],
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // A failing test shows what the server said (its warnings and errors), or CI's
        // log holds only the client's side of the story.
        if std::thread::panicking() {
            if let Some(copier) = self.stderr_copier.take() {
                let _ = copier.join();
            }
            let log = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
            let said: Vec<&str> = log
                .lines()
                .filter(|l| l.contains("WARN") || l.contains("ERROR"))
                .collect();
            let tail = &said[said.len().saturating_sub(40)..];
            eprintln!(
                "--- server on port {} (warnings and errors, last {}):\n{}",
                self.port,
                tail.len(),
                tail.join("\n")
            );
        }
    }
}

fn parse_listening_line(line: &str) -> Option<u16> {
    // `<time>  INFO tollgate: listening on http://127.0.0.1:PORT (control plane and APIs)`
    let line = line.trim();
    if !line.ends_with("(control plane and APIs)") {
        return None;
    }
    let (_, rest) = line
        .split_once("listening on http://127.0.0.1:")
        .or_else(|| line.split_once("listening on https://127.0.0.1:"))?;
    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
    port.parse().ok()
}

// ---------------------------------------------------------------------------------------
// The aws CLI

/// A failed `aws` run: its exit code and what it printed on stderr.
#[derive(Debug)]
pub struct AwsError {
    pub code: i32,
    pub stderr: String,
}

fn aws_available() {
    static CHECK: OnceLock<Result<String, String>> = OnceLock::new();
    let check = CHECK.get_or_init(|| match Command::new("aws").arg("--version").output() {
        Ok(out) if out.status.success() => Ok(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )),
        Ok(out) => Err(format!(
            "`aws --version` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )),
        Err(e) => Err(format!("cannot run `aws`: {e}")),
    });
    if let Err(e) = check {
        panic!(
            "These end-to-end tests drive the real aws CLI, and it is not usable: {e}.\n\
             Install it and put it on PATH, e.g. `python3 -m venv .venv && .venv/bin/pip install awscli \
             && export PATH=$PWD/.venv/bin:$PATH` (this is what .ci/run does)."
        );
    }
}

/// Runs `aws --endpoint-url <server> --output json <args...>` as a user would, with the
/// documented test credentials. `Ok` holds the parsed JSON (`Null` when nothing printed).
pub fn aws(server: &Server, args: &[&str]) -> Result<Value, AwsError> {
    aws_with_env(server, args, &[])
}

/// [`aws`] with extra environment variables (e.g. a wrong secret key).
pub fn aws_with_env(
    server: &Server,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<Value, AwsError> {
    let out = aws_output(server, args, env);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return Err(AwsError {
            code: out.status.code().unwrap_or(-1),
            stderr,
        });
    }
    if stdout.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&stdout).map_err(|e| AwsError {
        code: 0,
        stderr: format!(
            "aws printed something that is not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"
        ),
    })
}

/// The aws CLI run as [`aws_with_env`] runs it, its output as it is (commands such as
/// `aws s3 cp` print text, not JSON).
pub fn aws_output(server: &Server, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    aws_available();
    let mut cmd = Command::new("aws");
    cmd.arg("--endpoint-url")
        .arg(server.endpoint())
        .args(["--output", "json"])
        .args(args);
    for var in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_API_GATEWAY",
        "AWS_DEFAULT_OUTPUT",
        "AWS_REGION",
        "AWS_CA_BUNDLE",
        "AWS_CLI_AUTO_PROMPT",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        // No user config, no retries (an error must surface as it is), no pager.
        .env("AWS_CONFIG_FILE", "/nonexistent/tollgate-tests/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/tollgate-tests/credentials",
        )
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_RETRY_MODE", "standard")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_PAGER", "");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null());
    cmd.output().expect("run aws")
}

/// `aws apigateway <args...>`, which must succeed.
pub fn apigw(server: &Server, args: &[&str]) -> Value {
    let mut full = vec!["apigateway"];
    full.extend_from_slice(args);
    match aws(server, &full) {
        Ok(v) => v,
        Err(e) => panic!(
            "`aws apigateway {}` failed (exit {}):\n{}\n--- server stderr ---\n{}",
            args.join(" "),
            e.code,
            e.stderr,
            server.stderr()
        ),
    }
}

/// `aws apigatewayv2 <args...>`, which must succeed.
pub fn v2(s: &Server, args: &[&str]) -> Value {
    let mut full = vec!["apigatewayv2"];
    full.extend_from_slice(args);
    match aws(s, &full) {
        Ok(v) => v,
        Err(e) => panic!(
            "`aws apigatewayv2 {}` failed (exit {}):\n{}\n--- server stderr ---\n{}",
            args.join(" "),
            e.code,
            e.stderr,
            s.stderr()
        ),
    }
}

/// `aws apigatewayv2 create-api` of an HTTP API; its id.
pub fn v2_http_api(s: &Server, name: &str) -> String {
    let api = v2(
        s,
        &["create-api", "--name", name, "--protocol-type", "HTTP"],
    );
    api["ApiId"].as_str().expect("ApiId").to_string()
}

/// `aws apigatewayv2 create-integration` with `args` on `api`; its id.
pub fn v2_integration(s: &Server, api: &str, args: &[&str]) -> String {
    let mut all = vec!["create-integration", "--api-id", api];
    all.extend_from_slice(args);
    let integration = v2(s, &all);
    integration["IntegrationId"]
        .as_str()
        .expect("IntegrationId")
        .to_string()
}

/// `aws apigatewayv2 create-integration` of an HTTP_PROXY to `uri` (payload 1.0) with
/// `extra` arguments; its id.
pub fn v2_http_proxy(s: &Server, api: &str, method: &str, uri: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "--integration-type",
        "HTTP_PROXY",
        "--integration-method",
        method,
        "--integration-uri",
        uri,
        "--payload-format-version",
        "1.0",
    ];
    args.extend_from_slice(extra);
    v2_integration(s, api, &args)
}

/// `aws apigatewayv2 create-integration` of an AWS_PROXY to the Lambda function
/// `function_arn` (payload 2.0) with `extra` arguments; its id.
pub fn v2_lambda_proxy(s: &Server, api: &str, function_arn: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "--integration-type",
        "AWS_PROXY",
        "--integration-uri",
        function_arn,
        "--payload-format-version",
        "2.0",
    ];
    args.extend_from_slice(extra);
    v2_integration(s, api, &args)
}

/// `aws apigatewayv2 create-api` of a WebSocket API routing on `$request.body.action`;
/// its id.
pub fn v2_websocket_api(s: &Server, name: &str) -> String {
    let args = [
        "create-api",
        "--name",
        name,
        "--protocol-type",
        "WEBSOCKET",
        "--route-selection-expression",
        "$request.body.action",
    ];
    v2(s, &args)["ApiId"].as_str().expect("ApiId").to_string()
}

/// The route keys of an API, sorted.
pub fn v2_route_keys(s: &Server, api: &str) -> Vec<String> {
    let routes = v2(s, &["get-routes", "--api-id", api]);
    let mut keys: Vec<String> = routes["Items"]
        .as_array()
        .expect("Items")
        .iter()
        .map(|r| r["RouteKey"].as_str().expect("RouteKey").to_string())
        .collect();
    keys.sort();
    keys
}

/// An HTTP API's fixed error answer (request-pipeline.md §9.4): `status`, the
/// `{"message": ...}` body and the `apigw-requestid` header.
pub fn assert_v2_error(r: &Response, status: u16, message: &str) {
    assert_eq!(r.status, status, "{r}");
    assert_eq!(r.json(), serde_json::json!({ "message": message }), "{r}");
    assert!(r.header("apigw-requestid").is_some(), "{r}");
}

/// `aws apigatewayv2 create-route` of `key` to `integration` with `extra` arguments (an
/// authorizer); its id.
pub fn v2_route(s: &Server, api: &str, key: &str, integration: &str, extra: &[&str]) -> String {
    let target = format!("integrations/{integration}");
    let mut args = vec![
        "create-route",
        "--api-id",
        api,
        "--route-key",
        key,
        "--target",
        &target,
    ];
    args.extend_from_slice(extra);
    v2(s, &args)["RouteId"]
        .as_str()
        .expect("RouteId")
        .to_string()
}

/// `aws apigatewayv2 create-stage` of the auto-deployed `$default` stage.
pub fn v2_default_stage(s: &Server, api: &str) {
    let args = [
        "create-stage",
        "--api-id",
        api,
        "--stage-name",
        "$default",
        "--auto-deploy",
    ];
    v2(s, &args);
}

/// `aws apigatewayv2 <args...>`, which must fail.
pub fn v2_err(s: &Server, args: &[&str]) -> AwsError {
    let mut full = vec!["apigatewayv2"];
    full.extend_from_slice(args);
    match aws(s, &full) {
        Ok(v) => panic!(
            "`aws apigatewayv2 {}` should have failed: {v:#}",
            args.join(" ")
        ),
        Err(e) => e,
    }
}

/// `aws apigateway <args...>`, which must fail; returns the CLI's error.
pub fn apigw_err(server: &Server, args: &[&str]) -> AwsError {
    let mut full = vec!["apigateway"];
    full.extend_from_slice(args);
    match aws(server, &full) {
        Ok(v) => panic!(
            "`aws apigateway {}` should have failed but printed {v:#}",
            args.join(" ")
        ),
        Err(e) => {
            assert_ne!(e.code, 0, "a failed aws call exits non-zero: {e:?}");
            e
        }
    }
}

/// `aws {service} <args...>`, which must succeed.
pub fn cli_ok(s: &Server, service: &str, args: &[&str]) -> Value {
    let mut full = vec![service];
    full.extend_from_slice(args);
    aws(s, &full).unwrap_or_else(|e| {
        panic!(
            "`aws {service} {}` failed:\n{}\n--- server ---\n{}",
            args.join(" "),
            e.stderr,
            s.stderr()
        )
    })
}

/// `aws {service} <args...>`, which must fail.
pub fn cli_err(s: &Server, service: &str, args: &[&str]) -> AwsError {
    let mut full = vec![service];
    full.extend_from_slice(args);
    match aws(s, &full) {
        Ok(v) => panic!(
            "`aws {service} {}` should fail, printed {v:#}",
            args.join(" ")
        ),
        Err(e) => e,
    }
}

/// Asserts a CLI error names `code` in parentheses (as `An error occurred (Code) when...`)
/// and contains `message`.
pub fn assert_cli_error(e: &AwsError, code: &str, message: &str) {
    assert!(
        e.stderr.contains(&format!("({code})")),
        "expected a ({code}) error, got (exit {}):\n{}",
        e.code,
        e.stderr
    );
    assert!(
        e.stderr.contains(message),
        "expected the error message to contain {message:?}, got:\n{}",
        e.stderr
    );
}

/// `aws apigateway create-deployment` of `api` to `stage`.
pub fn deploy(s: &Server, api: &str, stage: &str) -> Value {
    deploy_with(s, api, stage, &[])
}

/// [`deploy`] with `extra` arguments (`--canary-settings ...`).
pub fn deploy_with(s: &Server, api: &str, stage: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "create-deployment",
        "--rest-api-id",
        api,
        "--stage-name",
        stage,
    ];
    args.extend_from_slice(extra);
    apigw(s, &args)
}

/// `aws apigateway update-stage` with the patch operations `ops` (a JSON array).
pub fn update_stage(s: &Server, api: &str, stage: &str, ops: &Value) -> Value {
    apigw(
        s,
        &[
            "update-stage",
            "--rest-api-id",
            api,
            "--stage-name",
            stage,
            "--patch-operations",
            &ops.to_string(),
        ],
    )
}

/// Turns on the stage's access log with `format`, written to
/// `{data dir}/access-logs/{api}-{stage}.log`.
pub fn set_access_log(s: &Server, api: &str, stage: &str, format: &str) {
    let ops = json!([
        {"op": "replace", "path": "/accessLogSettings/destinationArn",
         "value": format!("arn:aws:logs:us-east-1:000000000000:log-group:{api}")},
        {"op": "replace", "path": "/accessLogSettings/format", "value": format},
    ]);
    update_stage(s, api, stage, &ops);
}

/// A usage plan named `p` on `api`'s `stage` with the API key `key_id` in it.
pub fn plan_with_key(s: &Server, api: &str, stage: &str, key_id: &str) {
    let plan = apigw(
        s,
        &[
            "create-usage-plan",
            "--name",
            "p",
            "--api-stages",
            &format!("apiId={api},stage={stage}"),
        ],
    );
    apigw(
        s,
        &[
            "create-usage-plan-key",
            "--usage-plan-id",
            &str_of(&plan, "id"),
            "--key-id",
            key_id,
            "--key-type",
            "API_KEY",
        ],
    );
}

/// `aws apigateway update-api-key` turning `key_id` on or off; the key.
pub fn set_key_enabled(s: &Server, key_id: &str, enabled: bool) -> Value {
    let op = format!("op=replace,path=/enabled,value={enabled}");
    apigw(
        s,
        &[
            "update-api-key",
            "--api-key",
            key_id,
            "--patch-operations",
            &op,
        ],
    )
}

/// `aws apigateway create-resource` of `part` under `parent`; its id.
pub fn create_resource(s: &Server, api: &str, parent: &str, part: &str) -> String {
    str_of(
        &apigw(
            s,
            &[
                "create-resource",
                "--rest-api-id",
                api,
                "--parent-id",
                parent,
                "--path-part",
                part,
            ],
        ),
        "id",
    )
}

/// A new REST API `name` with GET on `/` (or on `/{part}`) answered by MOCK with
/// `response_template` ([`mock_method`] with `method_args`); the API's and the resource's ids.
pub fn mock_api(
    s: &Server,
    name: &str,
    part: Option<&str>,
    method_args: &[&str],
    response_template: &str,
) -> (String, String) {
    let api = str_of(&apigw(s, &["create-rest-api", "--name", name]), "id");
    let root = str_of(
        &apigw(s, &["get-resources", "--rest-api-id", &api])["items"][0],
        "id",
    );
    let res = match part {
        Some(p) => create_resource(s, &api, &root, p),
        None => root,
    };
    mock_method(s, (&api, &res, "GET"), method_args, response_template);
    (api, res)
}

/// `verb` on resource `res` of `api`: `put-method` with `method_args` (its authorization),
/// and a MOCK integration answering 200 with `response_template` (application/json).
pub fn mock_method(
    s: &Server,
    (api, res, verb): (&str, &str, &str),
    method_args: &[&str],
    response_template: &str,
) {
    let on = |op: &str, rest: &[&str]| {
        let mut v = vec![
            op,
            "--rest-api-id",
            api,
            "--resource-id",
            res,
            "--http-method",
            verb,
        ];
        v.extend_from_slice(rest);
        apigw(s, &v)
    };
    on("put-method", method_args);
    on(
        "put-integration",
        &[
            "--type",
            "MOCK",
            "--request-templates",
            r#"{"application/json": "{\"statusCode\": 200}"}"#,
        ],
    );
    on("put-method-response", &["--status-code", "200"]);
    let templates = json!({ "application/json": response_template }).to_string();
    on(
        "put-integration-response",
        &["--status-code", "200", "--response-templates", &templates],
    );
}

/// Runs a Python script (boto3 from the venv .ci/run sets up: `python3` must be the venv's,
/// first on PATH) with `args`, with no user AWS configuration; returns the JSON it prints.
pub fn python_script(script: &str, args: &[&str]) -> Value {
    let mut cmd = Command::new("python3");
    cmd.arg("-c").arg(script).args(args);
    for var in [
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd
        .env("AWS_CONFIG_FILE", "/nonexistent/tollgate-tests/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/tollgate-tests/credentials",
        )
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .output()
        .expect("run python3");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the Python script failed (is python3 the venv's, with boto3?):\n{stderr}"
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("the script printed no JSON ({e}); stderr:\n{stderr}"))
}

// ---------------------------------------------------------------------------------------
// A raw HTTP/1.1 client

/// A complete HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Names as received (case preserved), in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// First value of a header (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics with the raw response when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("response body is not JSON ({e}): {self}"))
    }
}

impl std::fmt::Display for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "HTTP {}", self.status)?;
        for (k, v) in &self.headers {
            writeln!(f, "{k}: {v}")?;
        }
        if self.body.len() > 2000 {
            write!(
                f,
                "\n{}… ({} bytes)",
                String::from_utf8_lossy(&self.body[..2000]),
                self.body.len()
            )
        } else {
            write!(f, "\n{}", self.text())
        }
    }
}

/// How a request body is framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    ContentLength,
    Chunked,
}

/// One request on a fresh connection (`Connection: close`).
#[must_use]
pub struct Http {
    port: u16,
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    framing: Framing,
}

impl Http {
    pub fn new(port: u16, method: &str, target: &str) -> Http {
        Http {
            port,
            method: method.to_string(),
            target: target.to_string(),
            headers: Vec::new(),
            body: None,
            framing: Framing::ContentLength,
        }
    }

    pub fn get(port: u16, target: &str) -> Http {
        Http::new(port, "GET", target)
    }

    pub fn post(port: u16, target: &str) -> Http {
        Http::new(port, "POST", target)
    }

    pub fn header(mut self, name: &str, value: &str) -> Http {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Http {
        self.body = Some(body.into());
        self
    }

    /// Sends the body with `Transfer-Encoding: chunked` instead of `Content-Length`.
    pub fn chunked(mut self) -> Http {
        self.framing = Framing::Chunked;
        self
    }

    /// Sends the request; panics on a transport error (no answer at all).
    pub fn send(self) -> Response {
        let what = format!("{} {}", self.method, self.target);
        self.try_send()
            .unwrap_or_else(|e| panic!("{what}: no HTTP response: {e}"))
    }

    /// Sends the request; `Err` when the connection failed before a complete response.
    pub fn try_send(self) -> Result<Response, String> {
        let mut stream =
            TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| format!("connect: {e}"))?;
        stream
            .set_read_timeout(Some(PATIENCE))
            .map_err(|e| e.to_string())?;
        stream
            .set_write_timeout(Some(PATIENCE))
            .map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        let mut head = format!("{} {} HTTP/1.1\r\n", self.method, self.target);
        if !self
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("host"))
        {
            head.push_str(&format!("Host: 127.0.0.1:{}\r\n", self.port));
        }
        for (k, v) in &self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(body) = &self.body {
            match self.framing {
                Framing::ContentLength => {
                    head.push_str(&format!("Content-Length: {}\r\n", body.len()))
                }
                Framing::Chunked => head.push_str("Transfer-Encoding: chunked\r\n"),
            }
        }
        head.push_str("Connection: close\r\n\r\n");
        stream
            .write_all(head.as_bytes())
            .map_err(|e| format!("write head: {e}"))?;
        // The body is written by another thread while this one reads, so an early answer
        // (413, 431...) is read even if the server never consumes the body.
        let writer = self.body.map(|body| {
            let mut w = stream.try_clone().expect("clone stream");
            let framing = self.framing;
            std::thread::spawn(move || write_body(&mut w, &body, framing))
        });
        let result = read_response(&mut stream, &self.method);
        let _ = stream.shutdown(Shutdown::Both);
        if let Some(w) = writer {
            let _ = w.join();
        }
        result
    }
}

fn write_body(w: &mut TcpStream, body: &[u8], framing: Framing) -> std::io::Result<()> {
    match framing {
        Framing::ContentLength => {
            for chunk in body.chunks(64 * 1024) {
                w.write_all(chunk)?;
            }
        }
        Framing::Chunked => {
            for chunk in body.chunks(64 * 1024) {
                w.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
                w.write_all(chunk)?;
                w.write_all(b"\r\n")?;
            }
            w.write_all(b"0\r\n\r\n")?;
        }
    }
    w.flush()
}

fn read_line(r: &mut impl BufRead) -> Result<String, String> {
    let mut line = String::new();
    let n = r.read_line(&mut line).map_err(|e| format!("read: {e}"))?;
    if n == 0 {
        return Err("connection closed before the response was complete".into());
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn read_response(stream: &mut TcpStream, method: &str) -> Result<Response, String> {
    let mut r = BufReader::new(stream);
    loop {
        let status_line = read_line(&mut r)?;
        let mut parts = status_line.splitn(3, ' ');
        let _version = parts.next();
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let mut headers = Vec::new();
        loop {
            let line = read_line(&mut r)?;
            if line.is_empty() {
                break;
            }
            let (k, v) = line
                .split_once(':')
                .ok_or_else(|| format!("bad header line {line:?}"))?;
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
        if (100..200).contains(&status) {
            continue; // interim response (100 Continue)
        }
        let find = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        let mut body = Vec::new();
        if method == "HEAD" || status == 204 || status == 304 {
            // no body
        } else if find("transfer-encoding")
            .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"))
        {
            loop {
                let size_line = read_line(&mut r)?;
                let size =
                    usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                        .map_err(|_| format!("bad chunk size {size_line:?}"))?;
                if size == 0 {
                    // trailers until the empty line
                    while !read_line(&mut r)?.is_empty() {}
                    break;
                }
                let start = body.len();
                body.resize(start + size, 0);
                r.read_exact(&mut body[start..])
                    .map_err(|e| format!("read chunk: {e}"))?;
                read_line(&mut r)?;
            }
        } else if let Some(len) = find("content-length") {
            let len: usize = len
                .parse()
                .map_err(|_| format!("bad content-length {len:?}"))?;
            body.resize(len, 0);
            r.read_exact(&mut body)
                .map_err(|e| format!("read body: {e}"))?;
        } else {
            r.read_to_end(&mut body)
                .map_err(|e| format!("read body: {e}"))?;
        }
        return Ok(Response {
            status,
            headers,
            body,
        });
    }
}

// ---------------------------------------------------------------------------------------
// SigV4-signed control-plane client

/// Control-plane calls signed like botocore does (service `apigateway`, `accept`,
/// `content-type`, `host` and `x-amz-date` signed, double-encoded canonical path).
pub struct Cp {
    pub port: u16,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
}

/// The characters SigV4 leaves unencoded.
fn aws_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes one path segment (for ids, names, ARNs in paths).
pub fn encode_segment(s: &str) -> String {
    aws_encode(s, false)
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    use hmac::Mac;
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("hmac key");
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// `(yyyymmdd, yyyymmddThhmmssZ)` for a Unix time (UTC), without a date crate.
fn amz_date(secs: u64) -> (String, String) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let date = format!("{y:04}{m:02}{d:02}");
    let stamp = format!(
        "{date}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    (date, stamp)
}

impl Cp {
    pub fn new(server: &Server) -> Cp {
        Cp {
            port: server.port,
            access_key: "test".into(),
            secret_key: "test".into(),
            region: "us-east-1".into(),
        }
    }

    /// The same client with another secret (to provoke signature errors).
    pub fn with_secret(&self, secret: &str) -> Cp {
        Cp {
            port: self.port,
            access_key: self.access_key.clone(),
            secret_key: secret.into(),
            region: self.region.clone(),
        }
    }

    /// A signed request. `query` pairs are unencoded; `body` is sent as JSON.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Response {
        self.signed(method, path, query, body).send()
    }

    /// [`Cp::call`] that reports a connection error instead of failing the test (for a
    /// server killed mid-call).
    pub fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, String> {
        self.signed(method, path, &[], body).try_send()
    }

    fn signed(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Http {
        let payload = body
            .map(|b| serde_json::to_vec(b).expect("json"))
            .unwrap_or_default();
        let mut pairs: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (aws_encode(k, false), aws_encode(v, false)))
            .collect();
        pairs.sort();
        let canonical_query = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let host = format!("127.0.0.1:{}", self.port);
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let (date, stamp) = amz_date(secs);
        let mut signed: Vec<(&str, String)> = vec![("accept", "application/json".into())];
        if body.is_some() {
            signed.push(("content-type", "application/json".into()));
        }
        signed.push(("host", host.clone()));
        signed.push(("x-amz-date", stamp.clone()));
        let signed_names = signed.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(";");
        let canonical_headers: String = signed.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
        let canonical_request = format!(
            "{method}\n{}\n{canonical_query}\n{canonical_headers}\n{signed_names}\n{}",
            aws_encode(path, true),
            sha256_hex(&payload)
        );
        let scope = format!("{date}/{}/apigateway/aws4_request", self.region);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{}",
            sha256_hex(canonical_request.as_bytes())
        );
        let k_date = hmac(format!("AWS4{}", self.secret_key).as_bytes(), &date);
        let k_region = hmac(&k_date, &self.region);
        let k_service = hmac(&k_region, "apigateway");
        let k_signing = hmac(&k_service, "aws4_request");
        let signature = hex::encode(hmac(&k_signing, &to_sign));
        let target = if canonical_query.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{canonical_query}")
        };
        let mut req = Http::new(self.port, method, &target);
        for (k, v) in &signed {
            req = req.header(k, v);
        }
        req = req.header(
            "Authorization",
            &format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_names}, Signature={signature}",
                self.access_key
            ),
        );
        if body.is_some() {
            req = req.body(payload);
        }
        req
    }

    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Response {
        self.request(method, path, &[], body)
    }

    /// A call that must succeed (2xx); returns its JSON body (`Null` when empty).
    pub fn ok(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let r = self.call(method, path, body);
        assert!(
            (200..300).contains(&r.status),
            "{method} {path} failed:\n{r}"
        );
        if r.body.is_empty() {
            Value::Null
        } else {
            r.json()
        }
    }

    // --- setup shortcuts -------------------------------------------------------------

    /// Creates a REST API; returns `(api id, root resource id)`.
    pub fn create_api(&self, name: &str) -> (String, String) {
        let v = self.ok("POST", "/restapis", Some(&json!({ "name": name })));
        (str_of(&v, "id"), str_of(&v, "rootResourceId"))
    }

    /// Creates a child resource; returns its id.
    pub fn resource(&self, api: &str, parent: &str, path_part: &str) -> String {
        let v = self.ok(
            "POST",
            &format!("/restapis/{api}/resources/{parent}"),
            Some(&json!({ "pathPart": path_part })),
        );
        str_of(&v, "id")
    }

    pub fn put_method(&self, api: &str, res: &str, verb: &str, body: Value) -> Value {
        self.ok(
            "PUT",
            &format!("/restapis/{api}/resources/{res}/methods/{verb}"),
            Some(&body),
        )
    }

    pub fn put_integration(&self, api: &str, res: &str, verb: &str, body: Value) -> Value {
        self.ok(
            "PUT",
            &format!("/restapis/{api}/resources/{res}/methods/{verb}/integration"),
            Some(&body),
        )
    }

    pub fn put_method_response(&self, api: &str, res: &str, verb: &str, status: &str) -> Value {
        self.ok(
            "PUT",
            &format!("/restapis/{api}/resources/{res}/methods/{verb}/responses/{status}"),
            Some(&json!({})),
        )
    }

    pub fn put_integration_response(
        &self,
        api: &str,
        res: &str,
        verb: &str,
        status: &str,
        body: Value,
    ) -> Value {
        self.ok(
            "PUT",
            &format!(
                "/restapis/{api}/resources/{res}/methods/{verb}/integration/responses/{status}"
            ),
            Some(&body),
        )
    }

    /// `verb` on `res` answered by a MOCK integration: status 200 and `template` as body.
    /// An enabled API key; returns `(id, value)`.
    pub fn api_key(&self, name: &str) -> (String, String) {
        let k = self.ok(
            "POST",
            "/apikeys",
            Some(&json!({ "name": name, "enabled": true })),
        );
        (str_of(&k, "id"), str_of(&k, "value"))
    }

    /// A usage plan on `api`/`stage` with the members of `extra` (throttle, quota),
    /// holding `key_id`; returns the plan id.
    pub fn usage_plan(&self, api: &str, stage: &str, extra: Value, key_id: &str) -> String {
        let mut body = json!({ "name": "plan", "apiStages": [{ "apiId": api, "stage": stage }] });
        for (k, v) in extra.as_object().expect("extra members") {
            body[k] = v.clone();
        }
        let plan = str_of(&self.ok("POST", "/usageplans", Some(&body)), "id");
        self.ok(
            "POST",
            &format!("/usageplans/{plan}/keys"),
            Some(&json!({ "keyId": key_id, "keyType": "API_KEY" })),
        );
        plan
    }

    /// GetUsage for today: the `[used, remaining]` pair of `key` (wire key `values`), if
    /// the key has usage.
    pub fn usage_today(&self, plan: &str, key: &str) -> Option<(i64, i64)> {
        let today = utc_date(0);
        let r = self.request(
            "GET",
            &format!("/usageplans/{plan}/usage"),
            &[("startDate", &today), ("endDate", &today)],
            None,
        );
        assert_eq!(r.status, 200, "{r}");
        let pair = &r.json()["values"][key][0];
        Some((pair[0].as_i64()?, pair[1].as_i64()?))
    }

    pub fn mock(&self, api: &str, res: &str, verb: &str, template: &str) {
        self.put_method(api, res, verb, json!({ "authorizationType": "NONE" }));
        self.put_integration(
            api,
            res,
            verb,
            json!({ "type": "MOCK", "requestTemplates": { "application/json": "{\"statusCode\": 200}" } }),
        );
        self.put_method_response(api, res, verb, "200");
        self.put_integration_response(
            api,
            res,
            verb,
            "200",
            json!({ "responseTemplates": { "application/json": template } }),
        );
    }

    /// `verb` on `res` as an HTTP_PROXY integration to `uri`; `mappings` are
    /// `integration.request.* -> source` pairs; the method declares the path params used.
    pub fn http_proxy(
        &self,
        api: &str,
        res: &str,
        verb: &str,
        uri: &str,
        mappings: &[(&str, &str)],
        timeout_ms: Option<u64>,
    ) {
        let mut method_params = serde_json::Map::new();
        for (_, src) in mappings {
            if src.starts_with("method.request.") {
                method_params.insert((*src).to_string(), Value::Bool(true));
            }
        }
        self.put_method(
            api,
            res,
            verb,
            json!({ "authorizationType": "NONE", "requestParameters": method_params }),
        );
        let params: serde_json::Map<String, Value> = mappings
            .iter()
            .map(|(k, v)| ((*k).to_string(), Value::String((*v).to_string())))
            .collect();
        let mut integration = json!({
            "type": "HTTP_PROXY",
            "httpMethod": if verb == "ANY" { "ANY" } else { verb },
            "uri": uri,
            "requestParameters": params,
        });
        if let Some(t) = timeout_ms {
            integration["timeoutInMillis"] = json!(t);
        }
        self.put_integration(api, res, verb, integration);
    }

    /// Creates a deployment on `stage` (creating or repointing it); returns its id.
    pub fn deploy(&self, api: &str, stage: &str) -> String {
        let v = self.ok(
            "POST",
            &format!("/restapis/{api}/deployments"),
            Some(&json!({ "stageName": stage })),
        );
        str_of(&v, "id")
    }

    pub fn patch_stage(&self, api: &str, stage: &str, ops: Value) -> Value {
        self.ok(
            "PATCH",
            &format!("/restapis/{api}/stages/{stage}"),
            Some(&json!({ "patchOperations": ops })),
        )
    }
}

/// `v[key]` as a string; panics with the document otherwise.
pub fn str_of(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string {key:?} in {v:#}"))
        .to_string()
}

// ---------------------------------------------------------------------------------------
// JSON and timing helpers

/// Structural equality where numbers compare by value (`100` == `100.0`), with a readable
/// failure showing both documents.
pub fn assert_json_eq(actual: &Value, expected: &Value, what: &str) {
    assert!(
        json_eq(actual, expected),
        "{what}:\n--- actual ---\n{actual:#}\n--- expected ---\n{expected:#}"
    );
}

pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Asserts the object has exactly these member names.
pub fn assert_keys(v: &Value, keys: &[&str], what: &str) {
    let mut actual: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("{what}: not an object: {v:#}"))
        .keys()
        .map(String::as_str)
        .collect();
    actual.sort_unstable();
    let mut expected = keys.to_vec();
    expected.sort_unstable();
    assert_eq!(actual, expected, "{what}: member names of {v:#}");
}

/// `[a-z0-9]{len}`, AWS's id shape.
pub fn assert_id(id: &str, len: usize, what: &str) {
    assert!(
        id.len() == len
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
        "{what}: {id:?} is not {len} chars of [a-z0-9]"
    );
}

/// Polls `f` until it returns `Some` (bounded by [`PATIENCE`]); panics with `what`.
pub fn eventually<T>(what: &str, f: impl FnMut() -> Option<T>) -> T {
    eventually_within(Duration::from_secs(10), what, f)
}

/// [`eventually`] for things that take longer by design (a lease to lapse).
pub fn eventually_within<T>(patience: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + patience;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "gave up waiting ({patience:?}) for: {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Headers every REST data-plane response carries (request-pipeline.md §5.4).
pub fn assert_gateway_headers(r: &Response) {
    let id = r
        .header("x-amzn-RequestId")
        .unwrap_or_else(|| panic!("no x-amzn-RequestId:\n{r}"));
    assert_eq!(id.len(), 36, "x-amzn-RequestId is a UUID: {id:?}");
    assert!(
        r.header("x-amz-apigw-id").is_some(),
        "no x-amz-apigw-id:\n{r}"
    );
    assert!(r.header("content-type").is_some(), "no Content-Type:\n{r}");
}

// ---------------------------------------------------------------------------------------
// Echo backend

fn backend_runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("backend runtime")
    })
}

/// What reached the backend for one request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Lower-case names; repeated headers keep every value.
    pub headers: BTreeMap<String, Vec<String>>,
    /// `None` until the whole body arrived (or when reading it failed).
    pub body: Option<Vec<u8>>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .and_then(|v| v.first())
            .map(String::as_str)
    }
}

/// An HTTP/1.1 echo server on `127.0.0.1:PORT`. Query parameters of the request steer it:
/// `status=NNN` answers with that status, `delay_ms=N` waits before answering, `raw=1`
/// answers with the request body byte for byte (otherwise a JSON description of the
/// request). Every answer carries `Server`, `Via`, `x-amzn-RequestId` and `x-backend`
/// headers (hyper adds `Date`), to observe header remapping.
pub struct Backend {
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Backend {
    pub fn start() -> Backend {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let rt = backend_runtime();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind backend");
        let port = listener.local_addr().expect("backend addr").port();
        let log = seen.clone();
        let task = rt.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let log = log.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| echo(req, log.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Backend { port, seen, task }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request whose head reached the backend, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    pub fn count(&self) -> usize {
        self.seen.lock().expect("lock").len()
    }

    pub fn last(&self) -> Seen {
        self.seen().pop().expect("the backend received no request")
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn echo(
    req: hyper::Request<hyper::body::Incoming>,
    log: Arc<Mutex<Vec<Seen>>>,
) -> Result<hyper::Response<http_body_util::Full<bytes::Bytes>>, std::convert::Infallible> {
    use http_body_util::BodyExt;
    let (parts, body) = req.into_parts();
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in &parts.headers {
        headers
            .entry(k.as_str().to_string())
            .or_default()
            .push(String::from_utf8_lossy(v.as_bytes()).into_owned());
    }
    let query = parts.uri.query().unwrap_or_default().to_string();
    let index = {
        let mut log = log.lock().expect("lock");
        log.push(Seen {
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            query: query.clone(),
            headers: headers.clone(),
            body: None,
        });
        log.len() - 1
    };
    let param = |name: &str| {
        query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == name).then(|| v.to_string())
        })
    };
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let mut r = hyper::Response::new(http_body_util::Full::new(bytes::Bytes::from_static(
                b"body read failed",
            )));
            *r.status_mut() = hyper::StatusCode::BAD_REQUEST;
            return Ok(r);
        }
    };
    log.lock().expect("lock")[index].body = Some(body.to_vec());
    if let Some(ms) = param("delay_ms").and_then(|v| v.parse::<u64>().ok()) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let status = param("status")
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(200);
    let size = param("size").and_then(|n| n.parse::<usize>().ok());
    let (content_type, out) = if let Some(n) = size {
        // `size=N`: N bytes of text, for limits on what the gateway keeps.
        ("text/plain", bytes::Bytes::from(vec![b'x'; n]))
    } else if param("raw").is_some() {
        ("application/octet-stream", body)
    } else {
        let description = json!({
            "method": parts.method.as_str(),
            "path": parts.uri.path(),
            "query": query,
            "headers": headers,
            "body": String::from_utf8_lossy(&body),
        });
        (
            "application/json",
            bytes::Bytes::from(description.to_string()),
        )
    };
    let mut r = hyper::Response::new(http_body_util::Full::new(out));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    let h = r.headers_mut();
    h.insert("content-type", http::HeaderValue::from_static(content_type));
    h.insert("server", http::HeaderValue::from_static("echo-backend"));
    h.insert("via", http::HeaderValue::from_static("1.1 echo-backend"));
    h.insert(
        "x-amzn-requestid",
        http::HeaderValue::from_static("backend-request-id"),
    );
    h.insert("x-backend", http::HeaderValue::from_static("yes"));
    Ok(r)
}

/// A loopback port with nothing listening on it (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    port
}

/// Reads a file that may not exist yet (empty string then).
pub fn read_if_exists(path: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = File::open(path) {
        let _ = f.read_to_string(&mut s);
    }
    s
}

/// Today's UTC date moved by `offset_days`, as `YYYY-MM-DD` (GetUsage's date format).
pub fn utc_date(offset_days: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let (d, _) = amz_date((now + offset_days * 86_400) as u64);
    format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..])
}

/// The log an Invoke with `--log-type Tail` returned (its base64 `LogResult`).
pub fn decode_log(v: &Value) -> String {
    let b64 = v["LogResult"].as_str().unwrap_or_default();
    let bytes = base64_decode(b64);
    String::from_utf8_lossy(&bytes).into_owned()
}

pub fn base64_decode(s: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| *c != b'=') {
        let Some(v) = alphabet.iter().position(|a| *a == c) else {
            continue;
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}
