//! One worker: a runtime process and the Lambda Runtime API (2018-06-01) it talks to.
//!
//! Every worker gets its own Runtime API listener on a loopback port, so the API knows which
//! worker is calling without any per-request lookup, and a runtime client (ours, awslambdaric,
//! `lambda_runtime`...) finds it through `AWS_LAMBDA_RUNTIME_API` exactly as on Lambda.
//! The worker serves one invocation at a time: an invocation is handed to the runtime's
//! long-polling `GET /invocation/next`, and answered by its `POST .../response` or
//! `.../error`. The process is watched: exit, timeout or memory over `MemorySize` fails the
//! invocation in flight with Lambda's error and the worker is discarded.

use std::convert::Infallible;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::{mpsc, oneshot, watch};

use crate::logs::{Dropped, LogWriter};
use crate::output::{pump, push_tail};
use crate::process_group;

/// Largest synchronous response payload (Lambda: 6 MB).
pub const MAX_RESPONSE: usize = 6 * 1024 * 1024;

/// What a worker needs to start: the resolved function version.
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    pub function_name: Arc<str>,
    pub version: String,
    pub function_arn: String,
    pub runtime: tollgate_model::Runtime,
    pub handler: String,
    pub code_dir: PathBuf,
    pub timeout: Duration,
    pub memory_mb: u32,
    pub variables: Vec<(String, String)>,
    pub region: String,
    /// The program and arguments that start the runtime.
    pub command: Vec<String>,
}

/// One invocation handed to the runtime.
pub(crate) struct Pending {
    pub request_id: String,
    pub payload: Bytes,
    pub deadline_ms: u128,
    pub client_context: Option<String>,
    /// Set when the caller invoked an alias (or `$LATEST` by name).
    pub invoked_arn: Option<String>,
    /// The caller's trace header; `None`: the invocation starts a trace.
    pub trace_id: Option<String>,
    pub done: oneshot::Sender<Reply>,
}

/// What an invocation carries besides its payload, for the runtime's `next` response.
pub struct Context {
    pub client_context: Option<String>,
    /// Set when the caller invoked an alias (or `$LATEST` by name).
    pub invoked_arn: Option<String>,
    pub trace_id: Option<String>,
}

/// What the runtime answered.
#[derive(Debug)]
pub(crate) enum Reply {
    Response(Bytes),
    /// `POST .../error`: the function failed; the body is its error document.
    Error(Bytes),
    /// `POST /runtime/init/error`: the function could not start.
    InitError(Bytes),
}

/// How an invocation ended.
#[derive(Debug)]
pub struct Outcome {
    pub payload: Bytes,
    /// The function (or its runtime) failed: `X-Amz-Function-Error: Unhandled`.
    pub function_error: bool,
    /// Lines logged during the invocation (only when asked for).
    pub log: Option<String>,
}

/// State the Runtime API handlers share with the worker.
struct Shared {
    function_arn: String,
    inbox: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    in_flight: Mutex<Option<(String, oneshot::Sender<Reply>)>>,
    /// Collects log lines of the invocation in flight when `LogType: Tail` asked for them.
    tail: Arc<Mutex<Option<String>>>,
    /// Set when the runtime first asks for work: init is over.
    ready: Mutex<Option<Instant>>,
}

pub struct Worker {
    tx: mpsc::Sender<Pending>,
    shared: Arc<Shared>,
    pid: u32,
    /// Asks the task that owns the runtime process to kill its group (dropping it does too).
    stop: Option<oneshot::Sender<()>>,
    /// Kills the group at once, when the owning task learns of exits without reaping.
    group: Option<process_group::Group>,
    exited: watch::Receiver<Option<String>>,
    server: tokio::task::JoinHandle<()>,
    started: Instant,
    served: u64,
    /// The thread whose runtime serves this worker's Runtime API.
    pub home: std::thread::ThreadId,
    pub last_used: Instant,
    /// False once the worker must not serve again (it failed, timed out, or exited).
    healthy: bool,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
        self.server.abort();
    }
}

static ACCEPT_ERRORS: Dropped =
    Dropped::new("a Runtime API listener cannot accept connections (out of file descriptors?)");

/// Delay after a failed `accept`: doubling from 5 ms to 1 s, so a listener out of file
/// descriptors (EMFILE) waits for some to free up instead of spinning on the error.
struct AcceptBackoff(Duration);

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(5);
    const MAX: Duration = Duration::from_secs(1);

    fn new() -> Self {
        AcceptBackoff(Self::FIRST)
    }

    fn failed(&mut self) -> Duration {
        let now = self.0;
        self.0 = (self.0 * 2).min(Self::MAX);
        now
    }

    fn accepted(&mut self) {
        self.0 = Self::FIRST;
    }
}

fn json_response(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

const ACCEPTED: &str = r#"{"status":"OK"}"#;

/// Serves the Runtime API routes of one worker.
async fn runtime_api(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let Some(rest) = path.strip_prefix("/2018-06-01/runtime/") else {
        return json_response(
            StatusCode::NOT_FOUND,
            r#"{"errorMessage":"Not found","errorType":"InvalidRequest"}"#,
        );
    };
    if req.method() == http::Method::GET && rest == "invocation/next" {
        return next_invocation(&shared).await;
    }
    if req.method() != http::Method::POST {
        return json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            r#"{"errorMessage":"Method not allowed","errorType":"InvalidRequest"}"#,
        );
    }
    let body = match Limited::new(req.into_body(), MAX_RESPONSE).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            // Lambda fails the invocation when the response is too large.
            let body = Bytes::from_static(br#"{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}"#);
            let in_flight = shared
                .in_flight
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            if let Some((_, done)) = in_flight {
                let _ = done.send(Reply::Error(body));
            }
            return json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                r#"{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}"#,
            );
        }
    };
    if rest == "init/error" {
        // The runtime could not load the function; the invocation that started it fails.
        let waiting = shared.inbox.lock().await.try_recv();
        if let Ok(p) = waiting {
            let _ = p.done.send(Reply::InitError(body));
        }
        return json_response(StatusCode::ACCEPTED, ACCEPTED);
    }
    let Some((id, kind)) = rest
        .strip_prefix("invocation/")
        .and_then(|r| r.rsplit_once('/'))
    else {
        return json_response(
            StatusCode::NOT_FOUND,
            r#"{"errorMessage":"Not found","errorType":"InvalidRequest"}"#,
        );
    };
    let reply = match kind {
        "response" => Reply::Response(body),
        "error" => Reply::Error(body),
        _ => {
            return json_response(
                StatusCode::NOT_FOUND,
                r#"{"errorMessage":"Not found","errorType":"InvalidRequest"}"#,
            )
        }
    };
    let mut in_flight = shared.in_flight.lock().unwrap_or_else(|p| p.into_inner());
    match in_flight.take() {
        Some((current, done)) if current == id => {
            let _ = done.send(reply);
            json_response(StatusCode::ACCEPTED, ACCEPTED)
        }
        other => {
            *in_flight = other;
            json_response(
                StatusCode::BAD_REQUEST,
                r#"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#,
            )
        }
    }
}

async fn next_invocation(shared: &Shared) -> Response<Full<Bytes>> {
    {
        let mut ready = shared.ready.lock().unwrap_or_else(|p| p.into_inner());
        ready.get_or_insert_with(Instant::now);
    }
    let next = shared.inbox.lock().await.recv().await;
    let Some(p) = next else {
        // The worker is being discarded; the runtime will be killed.
        return json_response(
            StatusCode::GONE,
            r#"{"errorMessage":"Worker stopped","errorType":"Runtime.Stopped"}"#,
        );
    };
    let trace = p.trace_id.clone().unwrap_or_else(|| {
        format!(
            "Root=1-{:08x}-{};Parent={};Sampled=0",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            &uuid::Uuid::new_v4().simple().to_string()[..24],
            &uuid::Uuid::new_v4().simple().to_string()[..16],
        )
    });
    let mut r = Response::new(Full::new(p.payload));
    let h = r.headers_mut();
    let hv = |s: &str| http::HeaderValue::from_str(s).unwrap_or(http::HeaderValue::from_static(""));
    h.insert("lambda-runtime-aws-request-id", hv(&p.request_id));
    h.insert("lambda-runtime-deadline-ms", hv(&p.deadline_ms.to_string()));
    h.insert(
        "lambda-runtime-invoked-function-arn",
        hv(p.invoked_arn.as_deref().unwrap_or(&shared.function_arn)),
    );
    h.insert("lambda-runtime-trace-id", hv(&trace));
    if let Some(cc) = &p.client_context {
        h.insert("lambda-runtime-client-context", hv(cc));
    }
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    *shared.in_flight.lock().unwrap_or_else(|p| p.into_inner()) = Some((p.request_id, p.done));
    r
}

/// Owns the runtime process until it is reaped: waits for it to exit or for `stop`, kills
/// its whole group while the leader is still unreaped (so the group id cannot have been
/// reused), then reaps it.
async fn own_process(
    mut child: tokio::process::Child,
    group: process_group::Group,
    exit: Option<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>>,
    stop: oneshot::Receiver<()>,
) -> std::io::Result<std::process::ExitStatus> {
    match exit {
        Some(exit) => {
            tokio::select! {
                _ = stop => {}
                _ = exit.readable() => {}
            }
            group.kill();
            child.wait().await
        }
        // No pidfd: an exit is seen only by reaping, after which the group is not ours to
        // signal; a stop still kills the group first.
        None => {
            tokio::select! {
                biased;
                _ = stop => {
                    group.kill();
                    child.wait().await
                }
                status = child.wait() => status,
            }
        }
    }
}

/// Why a worker did not start (the invocation fails with `Runtime.Unknown`).
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("cannot open the Runtime API: {0}")]
    RuntimeApi(#[source] std::io::Error),
    #[error("{0}")]
    RuntimeApiAddress(#[source] std::io::Error),
    #[error("no runtime command")]
    NoCommand,
    #[error("cannot start the {runtime} runtime ({program}): {source}")]
    Spawn {
        runtime: tollgate_model::Runtime,
        program: String,
        source: std::io::Error,
    },
}

fn exit_reason(status: std::io::Result<std::process::ExitStatus>) -> String {
    match status {
        Ok(s) => match (s.code(), std::os::unix::process::ExitStatusExt::signal(&s)) {
            (Some(c), _) => format!("exit status {c}"),
            (None, Some(9)) => "signal: killed".to_string(),
            (None, Some(sig)) => format!("signal: {sig}"),
            _ => "exited".to_string(),
        },
        Err(e) => e.to_string(),
    }
}

impl Worker {
    /// Starts the runtime process and its Runtime API. Call on the runtime that should own
    /// the worker's tasks.
    pub async fn start(spec: &WorkerSpec, logs: &LogWriter) -> Result<Worker, LaunchError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(LaunchError::RuntimeApi)?;
        let port = listener
            .local_addr()
            .map_err(LaunchError::RuntimeApiAddress)?
            .port();
        let (tx, rx) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            function_arn: spec.function_arn.clone(),
            inbox: tokio::sync::Mutex::new(rx),
            in_flight: Mutex::new(None),
            tail: Arc::default(),
            ready: Mutex::new(None),
        });
        let server_shared = shared.clone();
        let server = tokio::spawn(async move {
            let mut backoff = AcceptBackoff::new();
            loop {
                let stream = match listener.accept().await {
                    Ok((stream, _)) => {
                        backoff.accepted();
                        stream
                    }
                    Err(_) => {
                        ACCEPT_ERRORS.add();
                        tokio::time::sleep(backoff.failed()).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let shared = server_shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let shared = shared.clone();
                        async move { Ok::<_, Infallible>(runtime_api(shared, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });

        let Some((program, args)) = spec.command.split_first() else {
            server.abort();
            return Err(LaunchError::NoCommand);
        };
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .current_dir(&spec.code_dir)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        // The host's PATH and HOME let interpreters and bootstrap scripts find their tools;
        // nothing else of Tollgate's environment (credentials!) reaches user code.
        for keep in ["PATH", "HOME"] {
            if let Ok(v) = std::env::var(keep) {
                cmd.env(keep, v);
            }
        }
        let memory = spec.memory_mb.to_string();
        let log_stream = format!(
            "{}/[{}]{}",
            tollgate_model::lambda::last_modified(tollgate_model::time::now_epoch_millis())
                .get(..10)
                .unwrap_or_default()
                .replace('-', "/"),
            spec.version,
            uuid::Uuid::new_v4().simple()
        );
        let task_root = spec.code_dir.to_string_lossy().into_owned();
        let execution_env = format!("AWS_Lambda_{}", spec.runtime);
        for (k, v) in [
            (
                "AWS_LAMBDA_RUNTIME_API",
                format!("127.0.0.1:{port}").as_str(),
            ),
            ("_HANDLER", spec.handler.as_str()),
            ("LAMBDA_TASK_ROOT", task_root.as_str()),
            ("LAMBDA_RUNTIME_DIR", task_root.as_str()),
            ("AWS_LAMBDA_FUNCTION_NAME", &spec.function_name),
            ("AWS_LAMBDA_FUNCTION_VERSION", spec.version.as_str()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory.as_str()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                &format!("/aws/lambda/{}", spec.function_name),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", log_stream.as_str()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
            ("AWS_EXECUTION_ENV", execution_env.as_str()),
            ("AWS_REGION", spec.region.as_str()),
            ("AWS_DEFAULT_REGION", spec.region.as_str()),
            ("TZ", ":UTC"),
            ("LANG", "en_US.UTF-8"),
            // Our Python loop and user prints must reach the log line by line.
            ("PYTHONUNBUFFERED", "1"),
        ] {
            cmd.env(k, v);
        }
        for (k, v) in &spec.variables {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|source| {
            server.abort();
            LaunchError::Spawn {
                runtime: spec.runtime,
                program: program.clone(),
                source,
            }
        })?;
        let pid = child.id().unwrap_or(0);
        if let Some(out) = child.stdout.take() {
            pump(
                out,
                logs.clone(),
                spec.function_name.clone(),
                shared.tail.clone(),
            );
        }
        if let Some(err) = child.stderr.take() {
            pump(
                err,
                logs.clone(),
                spec.function_name.clone(),
                shared.tail.clone(),
            );
        }
        let (exit_tx, exited) = watch::channel(None);
        let (stop, stop_rx) = oneshot::channel();
        let group = process_group::Group::new(pid);
        let exit = process_group::exit_watch(pid);
        // Only when the exit is watched without reaping may the group be killed from here.
        let sync_group = exit.is_some().then(|| group.clone());
        tokio::spawn(async move {
            let why = exit_reason(own_process(child, group, exit, stop_rx).await);
            let _ = exit_tx.send(Some(why));
        });
        Ok(Worker {
            tx,
            shared,
            pid,
            stop: Some(stop),
            group: sync_group,
            exited,
            server,
            started: Instant::now(),
            served: 0,
            home: std::thread::current().id(),
            last_used: Instant::now(),
            healthy: true,
        })
    }

    pub fn healthy(&self) -> bool {
        self.healthy && self.exited.borrow().is_none()
    }

    fn kill(&mut self) {
        // At once where possible: a worker dropped at shutdown may not see its task run.
        if let Some(group) = &self.group {
            group.kill();
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Runs one invocation to its end. Never fails: every failure is a Lambda error outcome.
    pub async fn invoke(
        &mut self,
        spec: &WorkerSpec,
        logs: &LogWriter,
        request_id: String,
        payload: Bytes,
        context: Context,
        log_tail: bool,
    ) -> Outcome {
        let cold = self.served == 0;
        self.served += 1;
        let began = Instant::now();
        let deadline_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
            + spec.timeout.as_millis();
        if log_tail {
            *self.shared.tail.lock().unwrap_or_else(|p| p.into_inner()) = Some(String::new());
        }
        let start_line = format!("START RequestId: {request_id} Version: {}", spec.version);
        logs.line(&spec.function_name, start_line.clone());
        let (done, reply) = oneshot::channel();
        let sent = self
            .tx
            .send(Pending {
                request_id: request_id.clone(),
                payload,
                deadline_ms,
                client_context: context.client_context,
                invoked_arn: context.invoked_arn,
                trace_id: context.trace_id,
                done,
            })
            .await;
        let mut exited = self.exited.clone();
        let limit = u64::from(spec.memory_mb) * 1024 * 1024;
        let pid = self.pid;
        // The group's highest resident memory seen during the invocation.
        let sampled_peak = std::sync::atomic::AtomicU64::new(0);
        let memory_watch = async {
            let mut tick = tokio::time::interval_at(
                tokio::time::Instant::now() + Duration::from_millis(50),
                Duration::from_millis(50),
            );
            loop {
                tick.tick().await;
                let rss = process_group::resident(pid).unwrap_or(0);
                sampled_peak.fetch_max(rss, std::sync::atomic::Ordering::Relaxed);
                if rss > limit {
                    return;
                }
            }
        };
        let error = |kind: &str, message: String| {
            Bytes::from(serde_json::json!({"errorType": kind, "errorMessage": message}).to_string())
        };
        let (payload, function_error, extra_log) = if sent.is_err() {
            self.healthy = false;
            let why = self.exited.borrow().clone().unwrap_or_default();
            let m = format!("RequestId: {request_id} Error: Runtime exited with error: {why}");
            (error("Runtime.ExitError", m.clone()), true, Some(m))
        } else {
            tokio::select! {
                biased;
                r = reply => match r {
                    Ok(Reply::Response(b)) => (b, false, None),
                    Ok(Reply::Error(b)) => (b, true, None),
                    Ok(Reply::InitError(b)) => {
                        self.healthy = false;
                        (b, true, None)
                    }
                    Err(_) => {
                        self.healthy = false;
                        let m = format!("RequestId: {request_id} Error: Runtime exited without providing a reason");
                        (error("Runtime.ExitError", m.clone()), true, Some(m))
                    }
                },
                _ = exited.wait_for(|e| e.is_some()) => {
                    self.healthy = false;
                    let why = self.exited.borrow().clone().unwrap_or_default();
                    let m = format!("RequestId: {request_id} Error: Runtime exited with error: {why}");
                    (error("Runtime.ExitError", m.clone()), true, Some(m))
                }
                _ = tokio::time::sleep(spec.timeout) => {
                    self.healthy = false;
                    let m = format!(
                        "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
                        spec.timeout.as_secs_f64()
                    );
                    (error("Sandbox.Timedout", m.clone()), true, Some(m))
                }
                _ = memory_watch => {
                    self.healthy = false;
                    let m = format!("RequestId: {request_id} Error: Runtime exited with error: signal: killed");
                    (error("Runtime.OutOfMemory", m.clone()), true, Some(m))
                }
            }
        };
        // Measured before a kill, while the group still exists.
        let max_used = process_group::peak(self.pid)
            .unwrap_or(0)
            .max(sampled_peak.load(std::sync::atomic::Ordering::Relaxed))
            / (1024 * 1024);
        if !self.healthy {
            self.kill();
            // A stale reply slot must not answer the next worker's invocation.
            self.shared
                .in_flight
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
        }
        let duration = began.elapsed().as_secs_f64() * 1000.0;
        let init = if cold {
            let ready = *self.shared.ready.lock().unwrap_or_else(|p| p.into_inner());
            ready.map(|r| r.duration_since(self.started).as_secs_f64() * 1000.0)
        } else {
            None
        };
        let end_line = format!("END RequestId: {request_id}");
        let report =
            crate::logs::report_line(&request_id, duration, spec.memory_mb, max_used, init);
        let ts = tollgate_model::lambda::last_modified(tollgate_model::time::now_epoch_millis());
        let extra_log = extra_log.map(|m| format!("{}Z {m}", &ts[..23]));
        if let Some(m) = &extra_log {
            logs.line(&spec.function_name, m.clone());
        }
        logs.line(&spec.function_name, end_line.clone());
        logs.line(&spec.function_name, report.clone());
        let log = if log_tail {
            // The function's last lines may still be in the pipe; give the pump a moment
            // (only callers that asked for the log pay for it).
            tokio::time::sleep(Duration::from_millis(5)).await;
            let mut t = self
                .shared
                .tail
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
                .unwrap_or_default();
            t.insert_str(0, &format!("{start_line}\n"));
            if let Some(m) = extra_log {
                push_tail(&mut t, &format!("{m}\n"));
            }
            push_tail(&mut t, &format!("{end_line}\n{report}\n"));
            Some(t)
        } else {
            None
        };
        self.last_used = Instant::now();
        Outcome {
            payload,
            function_error,
            log,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_errors_back_off_up_to_a_second() {
        let mut b = AcceptBackoff::new();
        let delays: Vec<_> = (0..10).map(|_| b.failed()).collect();
        assert_eq!(delays[0], AcceptBackoff::FIRST);
        assert!(delays.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(delays[9], AcceptBackoff::MAX);
        b.accepted();
        assert_eq!(b.failed(), AcceptBackoff::FIRST);
    }
}
