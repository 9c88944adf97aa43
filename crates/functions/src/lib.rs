//! Tollgate's Lambda engine: runs functions on this machine as warm worker processes that
//! speak the real Lambda Runtime API.
//!
//! - [`code`] unpacks deployment packages into content-addressed directories.
//! - [`worker`] starts one runtime process with its own Runtime API endpoint and runs
//!   invocations on it (timeouts, crashes and memory limits become Lambda's errors).
//! - A [`Pool`] per function version keeps warm workers; one semaphore per function bounds
//!   the concurrency of all its versions together, as Lambda counts it.
//! - [`logs`] keeps each function's log (`START`/`END`/`REPORT` and the workers' output).
//! - [`events`] queues asynchronous (`Event`) invocations durably.
//! - `prune` deletes the packages no function runs any more, stored and unpacked.
//!
//! The registry of pools is rebuilt from the store's functions by [`Functions::sync`] after
//! every control-plane write and read lock-free by invocations.

pub mod code;
mod error;
pub mod events;
pub mod interpreters;
mod invoke;
pub mod logs;
pub mod metrics;
mod output;
pub mod policy;
mod process_group;
mod prune;
pub mod remote;
pub mod worker;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;
use tokio::sync::Semaphore;
use tollgate_model::lambda::{Function, FunctionConfiguration, Resolved, RuntimeFamily};
use tollgate_model::Runtime;
use tollgate_store::{State, Store, Subscription};

pub use crate::error::StartError;
use crate::interpreters::InterpreterError;
pub use crate::invoke::{
    InvokeError, InvokeRequest, InvokeResponse, UpstreamError, MAX_EVENT_REQUEST, MAX_REQUEST,
};
use crate::logs::LogWriter;
use crate::worker::{Outcome, Worker, WorkerSpec};

const PYTHON_RUNTIME: &str = include_str!("runtimes/python_runtime.py");
const NODE_RUNTIME: &str = include_str!("runtimes/node_runtime.mjs");

pub struct FunctionsConfig {
    pub data_dir: PathBuf,
    pub region: String,
    /// Concurrent invocations of a function (all its versions) when it has no reserved
    /// concurrency.
    pub default_concurrency: usize,
    /// How long an invocation of an unreserved function waits for a free worker.
    pub queue_wait: Duration,
    /// Idle workers older than this are stopped.
    pub idle_timeout: Duration,
    /// Where functions this instance does not host are invoked, if anywhere.
    pub remote: Option<remote::RemoteConfig>,
    /// Delays before the retries of a failed `Event` invocation (Lambda: 1 and 2 minutes).
    pub event_retry_delays: [Duration; 2],
    /// Whether a service invocation the function's resource policy does not allow fails.
    pub permissions: PermissionMode,
    /// Where invocations are counted.
    pub metrics: tollgate_metrics::Registry,
}

/// How resource policies are applied to invocations by other services (API Gateway).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PermissionMode {
    /// As AWS: no matching `Allow`, no invocation.
    #[default]
    Enforce,
    /// Log the denial and invoke anyway (LocalStack's leniency).
    Warn,
}

/// The resource policy's answer for a service invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServicePermission {
    Allowed,
    /// No `Allow` matched; `enforced` says whether the invocation must fail.
    Denied {
        enforced: bool,
    },
    /// The function is not hosted here: the remote Lambda endpoint decides.
    NotHosted,
}

impl FunctionsConfig {
    pub fn new(data_dir: PathBuf, region: String) -> Self {
        FunctionsConfig {
            data_dir,
            region,
            default_concurrency: 32,
            queue_wait: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(600),
            remote: None,
            event_retry_delays: events::RETRY_DELAYS,
            permissions: PermissionMode::Enforce,
            metrics: tollgate_metrics::Registry::default(),
        }
    }
}

/// The warm workers of one function version.
pub struct Pool {
    spec: WorkerSpec,
    /// This version's series (`metrics::LAMBDA`).
    metrics: tollgate_metrics::Series,
    idle: Mutex<Vec<Worker>>,
    revision: String,
}

/// How many invocations of one function may run at once: Lambda counts reserved
/// concurrency per function, `$LATEST`, every version and every alias together.
struct Concurrency {
    permits: Arc<Semaphore>,
    reserved: Option<u32>,
}

struct Entry {
    function: Arc<Function>,
    policy: policy::ResourcePolicy,
    /// The unqualified function ARN the policy's statements name.
    arn: String,
    concurrency: Arc<Concurrency>,
    latest: Arc<Pool>,
    versions: HashMap<u64, Arc<Pool>>,
}

/// What an invocation runs on.
struct Target {
    pool: Arc<Pool>,
    concurrency: Arc<Concurrency>,
    version: String,
    /// The ARN the caller invoked when it is not the version's own (an alias, or an
    /// explicit `$LATEST`): the runtime's `invoked_function_arn` is the one invoked.
    invoked_arn: Option<String>,
}

pub struct Functions {
    config: FunctionsConfig,
    code_root: PathBuf,
    runtimes_dir: PathBuf,
    /// Probed when a function first needs one, not at start.
    interpreters: interpreters::Interpreters,
    logs: LogWriter,
    registry: ArcSwap<HashMap<String, Arc<Entry>>>,
    /// The store version the registry was built from (a late, older sync is ignored).
    sync_lock: Mutex<u64>,
    /// The store version the engine has applied from the change feed (the control plane
    /// answers a write once it is applied).
    applied: tokio::sync::watch::Sender<u64>,
    events: events::EventQueue,
    remote: Option<remote::RemoteLambda>,
    /// Where packages uploaded through another node of a cluster are fetched from.
    store: Arc<Store>,
}

/// Applies each change of the store to the engine: a new registry when the functions
/// changed (by `Arc` identity, so changes to APIs cost nothing here).
fn follow(engine: std::sync::Weak<Functions>, mut feed: Subscription, first: Arc<State>) {
    tokio::spawn(async move {
        let mut functions = first.functions.clone();
        while let Some(change) = feed.next().await {
            let Some(engine) = engine.upgrade() else {
                break;
            };
            if !Arc::ptr_eq(&functions, &change.state.functions) {
                engine.sync(&change.state);
                functions = change.state.functions.clone();
            }
            engine.applied.send_replace(change.version);
        }
    });
}

/// A failed invocation whose function never ran (its runtime cannot start).
fn runtime_failure(error_type: &str, message: &str) -> Outcome {
    Outcome {
        payload: Bytes::from(
            serde_json::json!({"errorType": error_type, "errorMessage": message}).to_string(),
        ),
        function_error: true,
        log: None,
    }
}

impl Functions {
    /// Starts the engine (its reaper and Event dispatcher run on the current tokio runtime)
    /// and loads the functions of `state`. Workers are served by the runtime of the
    /// invocation that started them.
    pub fn start(
        mut config: FunctionsConfig,
        store: &Arc<Store>,
    ) -> Result<Arc<Functions>, StartError> {
        let mut feed = store.subscribe();
        let state = feed.current().state.clone();
        let remote = config
            .remote
            .take()
            .map(remote::RemoteLambda::new)
            .transpose()?;
        // Workers run in their code directory: every path handed to them must be absolute.
        config.data_dir = match std::path::absolute(&config.data_dir) {
            Ok(dir) => dir,
            Err(source) => {
                return Err(StartError::Resolve {
                    path: config.data_dir,
                    source,
                })
            }
        };
        let root = config.data_dir.join("functions");
        let runtimes_dir = root.join("runtimes");
        if let Err(source) = std::fs::create_dir_all(&runtimes_dir) {
            return Err(StartError::CreateDir {
                path: runtimes_dir,
                source,
            });
        }
        for (file, text) in [
            ("python_runtime.py", PYTHON_RUNTIME),
            ("node_runtime.mjs", NODE_RUNTIME),
        ] {
            std::fs::write(runtimes_dir.join(file), text)
                .map_err(|source| StartError::WriteRuntime { file, source })?;
        }
        let events = events::EventQueue::open(root.join("events"), store)?;
        let functions = Arc::new(Functions {
            code_root: root.join("code"),
            runtimes_dir,
            interpreters: interpreters::Interpreters::new(),
            logs: LogWriter::start(root.join("logs")),
            registry: ArcSwap::from_pointee(HashMap::new()),
            sync_lock: Mutex::new(0),
            applied: tokio::sync::watch::channel(state.version).0,
            events,
            remote,
            config,
            store: store.clone(),
        });
        functions.sync(&state);
        follow(Arc::downgrade(&functions), feed, state);
        let weak = Arc::downgrade(&functions);
        let every = (functions.config.idle_timeout / 2)
            .clamp(Duration::from_millis(100), Duration::from_secs(15));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let Some(f) = weak.upgrade() else { break };
                f.reap_idle();
            }
        });
        events::spawn_dispatcher(Arc::downgrade(&functions));
        prune::spawn(
            Arc::downgrade(&functions),
            store.clone(),
            functions.code_root.clone(),
        );
        Ok(functions)
    }

    pub fn code_root(&self) -> &Path {
        &self.code_root
    }

    pub fn region(&self) -> &str {
        &self.config.region
    }

    /// The file holding a function's log.
    pub fn log_path(&self, function: &str) -> PathBuf {
        self.logs.path(function)
    }

    /// Why `runtime` cannot run here, if it cannot (its interpreter is missing). The first
    /// call for a language probes its interpreters.
    pub async fn runtime_unavailable(&self, runtime: Runtime) -> Option<InterpreterError> {
        match runtime.family() {
            RuntimeFamily::Python | RuntimeFamily::Node => {
                self.interpreters.for_runtime(runtime).await.err()
            }
            RuntimeFamily::Provided => None,
        }
    }

    fn spec(&self, c: &FunctionConfiguration) -> WorkerSpec {
        let code_dir = code::code_dir(&self.code_root, &c.code_sha256);
        let family = c.runtime.family();
        let script = |s: &str| self.runtimes_dir.join(s).to_string_lossy().into_owned();
        // The interpreter is prepended at a worker's start (see `launch_spec`).
        let command = match family {
            RuntimeFamily::Python => vec![script("python_runtime.py")],
            RuntimeFamily::Node => vec![script("node_runtime.mjs")],
            RuntimeFamily::Provided => {
                vec![code_dir.join("bootstrap").to_string_lossy().into_owned()]
            }
        };
        WorkerSpec {
            function_name: c.function_name.as_str().into(),
            version: c.version.clone(),
            function_arn: c.function_arn.clone(),
            runtime: c.runtime,
            handler: c.handler.clone(),
            code_dir,
            timeout: Duration::from_secs(u64::from(c.timeout)),
            memory_mb: c.memory_size,
            variables: c.variables().map(|(k, v)| (k.clone(), v.clone())).collect(),
            region: self.config.region.clone(),
            command,
        }
    }

    /// The spec a new worker starts from: an interpreted runtime's command gains its
    /// interpreter, named in the function's log (with a warning if its version differs).
    async fn launch_spec<'s>(
        &self,
        spec: &'s WorkerSpec,
    ) -> Result<Cow<'s, WorkerSpec>, InterpreterError> {
        self.unpack_from_store(&spec.code_dir).await;
        if spec.runtime.family() == RuntimeFamily::Provided {
            return Ok(Cow::Borrowed(spec));
        }
        let interpreter = self.interpreters.for_runtime(spec.runtime).await?;
        self.logs
            .line(&spec.function_name, interpreter.log_line(spec.runtime));
        if let Some(w) = &interpreter.warning {
            self.logs.line(&spec.function_name, w.as_str());
        }
        let mut launch = spec.clone();
        launch
            .command
            .insert(0, interpreter.probed.path.to_string_lossy().into_owned());
        Ok(Cow::Owned(launch))
    }

    /// Unpacks the package of `code_dir` from the store when this node does not have it
    /// (it was uploaded through another node of the cluster). When that fails, the worker
    /// fails to start with the reason, as for any missing code.
    async fn unpack_from_store(&self, code_dir: &std::path::Path) {
        if code_dir.is_dir() {
            return;
        }
        let Some(hex) = code_dir.file_name().and_then(|n| n.to_str()) else {
            return;
        };
        let zip = match self.store.get_code(hex.to_string()).await {
            Ok(Some(zip)) => zip,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, package = hex, "cannot fetch a code package");
                return;
            }
        };
        let root = self.code_root.clone();
        let unpacked = tokio::task::spawn_blocking(move || code::install(&root, &zip)).await;
        match unpacked {
            Ok(Ok(p)) => {
                tracing::info!(package = hex, dir = %p.dir.display(), "unpacked a code package from the store")
            }
            Ok(Err(e)) => tracing::warn!(error = %e, package = hex, "cannot unpack a code package"),
            Err(e) => tracing::warn!(error = %e, package = hex, "cannot unpack a code package"),
        }
    }

    fn pool(&self, c: &FunctionConfiguration, old: Option<&Arc<Pool>>) -> Arc<Pool> {
        if let Some(p) = old.filter(|p| p.revision == c.revision_id) {
            return p.clone();
        }
        let version = if c.version.is_empty() {
            "$LATEST"
        } else {
            c.version.as_str()
        };
        Arc::new(Pool {
            metrics: metrics::series(&self.config.metrics, &c.function_name, version),
            spec: self.spec(c),
            idle: Mutex::new(Vec::new()),
            revision: c.revision_id.clone(),
        })
    }

    /// The function's concurrency: kept while its reserved concurrency is unchanged, so
    /// invocations in flight keep counting against it across re-syncs.
    fn concurrency(&self, reserved: Option<u32>, old: Option<&Entry>) -> Arc<Concurrency> {
        if let Some(c) = old.filter(|e| e.concurrency.reserved == reserved) {
            return c.concurrency.clone();
        }
        let permits = reserved.map_or(self.config.default_concurrency, |r| r as usize);
        Arc::new(Concurrency {
            permits: Arc::new(Semaphore::new(permits)),
            reserved,
        })
    }

    /// Rebuilds the registry from the store's functions, keeping the warm pools of every
    /// version whose configuration did not change.
    pub fn sync(&self, state: &State) {
        let mut synced = self.sync_lock.lock().unwrap_or_else(|p| p.into_inner());
        if state.version < *synced {
            return;
        }
        *synced = state.version;
        let old = self.registry.load();
        let mut next = HashMap::with_capacity(state.functions.len());
        for (name, function) in state.functions.iter() {
            let prev = old.get(name);
            if let Some(e) = prev.filter(|e| Arc::ptr_eq(&e.function, function)) {
                next.insert(name.clone(), e.clone());
                continue;
            }
            let concurrency = self.concurrency(function.reserved_concurrency, prev.map(|e| &**e));
            let latest = self.pool(&function.latest, prev.map(|e| &e.latest));
            let versions = function
                .versions
                .iter()
                .map(|(n, c)| (*n, self.pool(c, prev.and_then(|e| e.versions.get(n)))))
                .collect();
            next.insert(
                name.clone(),
                Arc::new(Entry {
                    function: function.clone(),
                    policy: policy::ResourcePolicy::compile(&function.policy),
                    arn: tollgate_model::lambda::function_arn(&self.config.region, name),
                    concurrency,
                    latest,
                    versions,
                }),
            );
        }
        // Deleted functions give back their log files.
        for name in old.keys().filter(|n| !next.contains_key(*n)) {
            self.logs.close(name);
        }
        self.registry.store(Arc::new(next));
    }

    /// Follows the store version the engine has applied, so a control-plane write can wait
    /// until its functions are invocable.
    pub fn applied_version(&self) -> tokio::sync::watch::Receiver<u64> {
        self.applied.subscribe()
    }

    /// Stops every worker (shutdown).
    pub fn stop_all(&self) {
        self.registry.store(Arc::new(HashMap::new()));
    }

    fn reap_idle(&self) {
        let registry = self.registry.load();
        let ttl = self.config.idle_timeout;
        for e in registry.values() {
            for p in std::iter::once(&e.latest).chain(e.versions.values()) {
                p.idle
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .retain(|w| w.healthy() && w.last_used.elapsed() < ttl);
            }
        }
    }

    /// Whether `name` (with `qualifier`) names a function version; the ARN Lambda would name
    /// in its error otherwise.
    pub fn exists(&self, name: &str, qualifier: Option<&str>) -> Result<(), InvokeError> {
        self.resolve(name, qualifier).map(|_| ())
    }

    fn resolve(&self, name: &str, qualifier: Option<&str>) -> Result<Target, InvokeError> {
        let not_found = || {
            let mut arn = tollgate_model::lambda::function_arn(&self.config.region, name);
            if let Some(q) = qualifier {
                arn.push(':');
                arn.push_str(q);
            }
            InvokeError::NotFound(arn)
        };
        let registry = self.registry.load();
        let entry = registry.get(name).ok_or_else(not_found)?;
        let (pool, version) = match entry.function.resolve(qualifier).ok_or_else(not_found)? {
            Resolved::Latest => (entry.latest.clone(), "$LATEST".into()),
            Resolved::Version(n) => (
                entry.versions.get(&n).ok_or_else(not_found)?.clone(),
                n.to_string(),
            ),
        };
        // A version's pool already names `:N`; an alias or `$LATEST` is named as invoked.
        let invoked_arn = qualifier.filter(|q| q.parse::<u64>().is_err()).map(|q| {
            let mut arn = tollgate_model::lambda::function_arn(&self.config.region, name);
            arn.push(':');
            arn.push_str(q);
            arn
        });
        Ok(Target {
            pool,
            concurrency: entry.concurrency.clone(),
            version,
            invoked_arn,
        })
    }

    /// Whether `service` may invoke `name` (with `qualifier`) on behalf of `source_arn`,
    /// by the resource policy of the ARN invoked (Lambda keeps one policy per qualifier:
    /// the unqualified function's does not cover its aliases and versions).
    pub fn service_permission(
        &self,
        name: &str,
        qualifier: Option<&str>,
        service: &str,
        source_arn: &str,
    ) -> ServicePermission {
        let registry = self.registry.load();
        let Some(entry) = registry.get(name) else {
            return match self.remote {
                Some(_) => ServicePermission::NotHosted,
                // Invoking it will answer "not found".
                None => ServicePermission::Allowed,
            };
        };
        // Only a qualified invocation builds an ARN; the unqualified one is the entry's.
        let function_arn: std::borrow::Cow<'_, str> = match qualifier.filter(|q| *q != "$LATEST") {
            Some(q) => format!("{}:{q}", entry.arn).into(),
            None => entry.arn.as_str().into(),
        };
        let req = policy::ServiceRequest {
            service,
            function_arn: &function_arn,
            source_arn,
            source_account: tollgate_model::ACCOUNT_ID,
        };
        if entry.policy.allows_invoke(&req) {
            ServicePermission::Allowed
        } else {
            ServicePermission::Denied {
                enforced: self.config.permissions == PermissionMode::Enforce,
            }
        }
    }

    /// The function's resource policy on a call of its URL (`qualifier`: the URL's alias):
    /// `lambda:InvokeFunctionUrl` for `caller`, with the URL's auth type as
    /// `lambda:FunctionUrlAuthType`. A function not hosted here allows nothing.
    pub fn url_permission(
        &self,
        name: &str,
        qualifier: Option<&str>,
        caller: tollgate_policy::Caller<'_>,
        auth_type: &str,
    ) -> tollgate_policy::Decision {
        let registry = self.registry.load();
        let Some(entry) = registry.get(name) else {
            return tollgate_policy::Decision::ImplicitDeny;
        };
        let function_arn: Cow<'_, str> = match qualifier {
            Some(q) => format!("{}:{q}", entry.arn).into(),
            None => entry.arn.as_str().into(),
        };
        entry.policy.url_decision(&policy::UrlRequest {
            function_arn: &function_arn,
            caller,
            auth_type,
        })
    }

    /// Runs one synchronous (`RequestResponse`) invocation.
    pub async fn invoke(
        &self,
        name: &str,
        qualifier: Option<&str>,
        req: InvokeRequest,
    ) -> Result<InvokeResponse, InvokeError> {
        if req.payload.len() > MAX_REQUEST {
            return Err(InvokeError::RequestTooLarge { limit: MAX_REQUEST });
        }
        let target = match (self.resolve(name, qualifier), &self.remote) {
            (Ok(found), _) => found,
            (Err(InvokeError::NotFound(_)), Some(remote)) => {
                return remote
                    .invoke(name, qualifier, req.payload, req.trace_id.as_deref())
                    .await;
            }
            (Err(e), _) => return Err(e),
        };
        let request_id = uuid::Uuid::new_v4().to_string();
        let outcome = self.run(&target, request_id.clone(), req).await?;
        Ok(InvokeResponse {
            payload: outcome.payload,
            function_error: outcome.function_error,
            log: outcome.log,
            executed_version: target.version,
            request_id,
        })
    }

    /// Accepts an asynchronous (`Event`) invocation: it is on disk before this returns.
    pub async fn invoke_async(
        &self,
        name: &str,
        qualifier: Option<&str>,
        payload: Bytes,
    ) -> Result<String, InvokeError> {
        if payload.len() > MAX_EVENT_REQUEST {
            return Err(InvokeError::RequestTooLarge {
                limit: MAX_EVENT_REQUEST,
            });
        }
        let timeout = self.resolve(name, qualifier)?.pool.spec.timeout;
        let queued = self
            .events
            .enqueue(name, qualifier, &payload, timeout)
            .await;
        queued.map_err(|e| {
            tracing::error!(error = %e, "cannot queue an event invocation");
            InvokeError::TooManyRequests {
                reason: "EventQueueUnavailable",
            }
        })
    }

    /// [`Functions::run_counted`], counted in the version's series.
    async fn run(
        &self,
        target: &Target,
        request_id: String,
        req: InvokeRequest,
    ) -> Result<Outcome, InvokeError> {
        let series = &target.pool.metrics;
        let running = metrics::Running::start(series);
        let result = self.run_counted(target, request_id, req).await;
        match &result {
            Ok(outcome) => running.ran(outcome.function_error),
            Err(InvokeError::TooManyRequests { .. }) => metrics::throttled(series),
            Err(_) => {}
        }
        result
    }

    async fn run_counted(
        &self,
        target: &Target,
        request_id: String,
        req: InvokeRequest,
    ) -> Result<Outcome, InvokeError> {
        let pool = &target.pool;
        let spec = &pool.spec;
        let permits = &target.concurrency.permits;
        let _permit = if target.concurrency.reserved.is_some() {
            permits
                .clone()
                .try_acquire_owned()
                .map_err(|_| InvokeError::TooManyRequests {
                    reason: "ReservedFunctionConcurrentInvocationLimitExceeded",
                })?
        } else {
            tokio::time::timeout(self.config.queue_wait, permits.clone().acquire_owned())
                .await
                .ok()
                .and_then(Result::ok)
                .ok_or(InvokeError::TooManyRequests {
                    reason: "ConcurrentInvocationLimitExceeded",
                })?
        };
        let warm = {
            let mut idle = pool.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.retain(Worker::healthy);
            // Prefer a worker served by this thread (no hop between threads), else the
            // most recently used one.
            let here = std::thread::current().id();
            match idle.iter().rposition(|w| w.home == here) {
                Some(i) => Some(idle.remove(i)),
                None => idle.pop(),
            }
        };
        let mut worker = match warm {
            Some(w) => w,
            None => {
                if spec.runtime.family() == RuntimeFamily::Provided
                    && !spec.code_dir.join("bootstrap").is_file()
                {
                    return Ok(Outcome {
                        payload: Bytes::from(serde_json::json!({
                            "errorType": "Runtime.InvalidEntrypoint",
                            "errorMessage": format!("RequestId: {request_id} Error: Couldn't find valid bootstrap(s): [{}]", spec.code_dir.join("bootstrap").display()),
                        }).to_string()),
                        function_error: true,
                        log: None,
                    });
                }
                // The worker's Runtime API is served on the caller's runtime: on the
                // data plane that is the thread serving the connection, so a warm
                // invocation from that thread never hops to another one.
                let launch = match self.launch_spec(spec).await {
                    Ok(l) => l,
                    Err(why) => {
                        return Ok(runtime_failure("Runtime.InvalidRuntime", &why.to_string()))
                    }
                };
                metrics::cold_start(&pool.metrics);
                match Worker::start(&launch, &self.logs).await {
                    Ok(w) => w,
                    Err(why) => {
                        tracing::warn!(function = %spec.function_name, error = %why, "worker did not start");
                        return Ok(runtime_failure("Runtime.Unknown", &why.to_string()));
                    }
                }
            }
        };
        let outcome = worker
            .invoke(
                spec,
                &self.logs,
                request_id,
                req.payload,
                worker::Context {
                    client_context: req.client_context,
                    invoked_arn: target.invoked_arn.clone(),
                    trace_id: req.trace_id,
                },
                req.log_tail,
            )
            .await;
        if worker.healthy() {
            pool.idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(worker);
        }
        Ok(outcome)
    }
}

impl events::EventTarget for Functions {
    fn event_queue(&self) -> &events::EventQueue {
        &self.events
    }

    fn event_retry_delays(&self) -> &[Duration] {
        &self.config.event_retry_delays
    }

    fn invoke_event<'s>(
        &'s self,
        function: &'s str,
        qualifier: Option<&'s str>,
        req: InvokeRequest,
    ) -> impl std::future::Future<Output = Result<InvokeResponse, InvokeError>> + Send + 's {
        self.invoke(function, qualifier, req)
    }
}
