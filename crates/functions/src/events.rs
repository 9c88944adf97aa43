//! Asynchronous (`InvocationType: Event`) invocations. Each accepted event is kept before
//! Invoke answers 202, so a restart (even `kill -9`) loses none: as a file in the node's
//! queue directory (synced), or, on a cluster's shared store, as a row every node's
//! dispatcher claims from (one node at a time, for the function's timeout and 30 s, so an
//! event a dying node held runs elsewhere after that). A dispatcher runs them in arrival
//! order; a function error is retried twice, after 1 and then 2 minutes as Lambda does
//! (`FunctionsConfig::event_retry_delays`), then the event is dropped.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tollgate_store::{ClaimedEvent, Store};

use crate::error::StartError;
use crate::invoke::{InvokeError, InvokeRequest, InvokeResponse};

/// Delays before the two retries of a failed event (Lambda's schedule).
pub const RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(60), Duration::from_secs(120)];

/// How much longer than the function's timeout a node holds an event it claimed from a
/// shared queue before another node may run it.
pub const LEASE_MARGIN: Duration = Duration::from_secs(30);

/// How often a dispatcher looks at a shared queue (other nodes' events wake no one here).
const SHARED_POLL: Duration = Duration::from_secs(1);

#[derive(Debug, Serialize, Deserialize)]
struct QueuedEvent {
    function: String,
    qualifier: Option<String>,
    /// Base64, so any payload round-trips exactly.
    payload: String,
    request_id: String,
    /// In the file; a shared queue keeps the next two in columns.
    #[serde(default)]
    attempts: u32,
    /// Epoch milliseconds before which the event must not run.
    #[serde(default)]
    not_before: i64,
}

/// Where events wait.
enum Kept {
    /// Files in the node's data dir.
    Files(PathBuf),
    /// The cluster's shared store.
    Shared(Arc<Store>),
}

pub struct EventQueue {
    kept: Kept,
    wake: tokio::sync::Notify,
}

impl EventQueue {
    /// The store's shared queue when it keeps one, else files under `dir`.
    pub fn open(dir: PathBuf, store: &Arc<Store>) -> Result<EventQueue, StartError> {
        let kept = if store.event_queue().is_some() {
            Kept::Shared(store.clone())
        } else {
            if let Err(source) = std::fs::create_dir_all(&dir) {
                return Err(StartError::CreateDir { path: dir, source });
            }
            Kept::Files(dir)
        };
        Ok(EventQueue {
            kept,
            wake: tokio::sync::Notify::new(),
        })
    }

    /// Persists one event of a function whose timeout is `timeout`; returns its request
    /// id.
    pub async fn enqueue(
        &self,
        function: &str,
        qualifier: Option<&str>,
        payload: &[u8],
        timeout: Duration,
    ) -> Result<String, String> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let ev = QueuedEvent {
            function: function.to_string(),
            qualifier: qualifier.map(str::to_string),
            payload: base64::engine::general_purpose::STANDARD.encode(payload),
            request_id: request_id.clone(),
            attempts: 0,
            not_before: 0,
        };
        match &self.kept {
            Kept::Files(dir) => {
                let name = format!(
                    "{:016}-{}.json",
                    tollgate_model::time::now_epoch_millis(),
                    request_id
                );
                write(dir, &name, &ev).map_err(|e| e.to_string())?;
            }
            Kept::Shared(store) => {
                let body = serde_json::to_string(&ev).map_err(|e| e.to_string())?;
                let lease = i64::try_from((timeout + LEASE_MARGIN).as_millis()).unwrap_or(i64::MAX);
                let queue = store
                    .event_queue()
                    .ok_or("the store keeps no event queue")?;
                queue
                    .enqueue_event(body, 0, lease)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        self.wake.notify_one();
        Ok(request_id)
    }
}

fn write(dir: &std::path::Path, name: &str, ev: &QueuedEvent) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&serde_json::to_vec(ev).map_err(std::io::Error::other)?)?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(name))?;
    std::fs::File::open(dir)?.sync_all()
}

/// Queued event files, oldest first.
fn pending(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// What the dispatcher runs queued events on: the engine, which owns the queue. A trait
/// so that this module does not depend on the engine that depends on it.
pub(crate) trait EventTarget: Send + Sync + 'static {
    fn event_queue(&self) -> &EventQueue;
    /// Delays before the retries of a failed event.
    fn event_retry_delays(&self) -> &[Duration];
    fn invoke_event<'s>(
        &'s self,
        function: &'s str,
        qualifier: Option<&'s str>,
        req: InvokeRequest,
    ) -> impl Future<Output = Result<InvokeResponse, InvokeError>> + Send + 's;
}

/// Runs queued events until the engine is dropped.
pub(crate) fn spawn_dispatcher<T: EventTarget>(functions: Weak<T>) {
    tokio::spawn(async move {
        loop {
            let Some(f) = functions.upgrade() else { break };
            let queue = f.event_queue();
            let wait = match &queue.kept {
                Kept::Files(dir) => {
                    let next_due = run_files(&*f, dir).await;
                    next_due.map_or(Duration::from_secs(60), |d| {
                        Duration::from_millis(
                            (d - tollgate_model::time::now_epoch_millis()).clamp(10, 60_000) as u64,
                        )
                    })
                }
                Kept::Shared(store) => {
                    run_shared(&*f, store).await;
                    SHARED_POLL
                }
            };
            let _ = tokio::time::timeout(wait, queue.wake.notified()).await;
        }
    });
}

/// Runs one event; whether it failed (and may be retried).
async fn run<T: EventTarget>(f: &T, ev: &QueuedEvent) -> bool {
    let payload = base64::engine::general_purpose::STANDARD
        .decode(&ev.payload)
        .unwrap_or_default();
    let result = f
        .invoke_event(
            &ev.function,
            ev.qualifier.as_deref(),
            InvokeRequest {
                payload: Bytes::from(payload),
                log_tail: false,
                client_context: None,
                trace_id: None,
            },
        )
        .await;
    match &result {
        Ok(r) => r.function_error,
        Err(InvokeError::NotFound(_)) => false,
        Err(_) => true,
    }
}

fn dropped(ev: &QueuedEvent) {
    tracing::warn!(function = %ev.function, request_id = %ev.request_id, "event failed after retries; dropped");
}

/// Runs the due event files; when the next one is due.
async fn run_files<T: EventTarget>(f: &T, dir: &std::path::Path) -> Option<i64> {
    let mut next_due: Option<i64> = None;
    for name in pending(dir) {
        let path = dir.join(&name);
        let Ok(mut ev) = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<QueuedEvent>(&b).map_err(|e| e.to_string()))
        else {
            tracing::warn!(file = %name, "dropping an unreadable queued event");
            let _ = std::fs::remove_file(&path);
            continue;
        };
        let now = tollgate_model::time::now_epoch_millis();
        if ev.not_before > now {
            next_due = Some(next_due.map_or(ev.not_before, |d| d.min(ev.not_before)));
            continue;
        }
        let failed = run(f, &ev).await;
        match f.event_retry_delays().get(ev.attempts as usize) {
            Some(delay) if failed => {
                ev.attempts += 1;
                ev.not_before = now + delay.as_millis() as i64;
                next_due = Some(next_due.map_or(ev.not_before, |d| d.min(ev.not_before)));
                if let Err(e) = write(dir, &name, &ev) {
                    tracing::error!(error = %e, "cannot reschedule an event");
                }
            }
            _ => {
                if failed {
                    dropped(&ev);
                }
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    next_due
}

/// Claims and runs due events of the shared queue until none is left.
async fn run_shared<T: EventTarget>(f: &T, store: &Store) {
    let Some(queue) = store.event_queue() else {
        return;
    };
    loop {
        let now = tollgate_model::time::now_epoch_millis();
        let claimed = match queue.claim_event(now).await {
            Ok(Some(c)) => c,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim a queued event");
                return;
            }
        };
        let ClaimedEvent { id, body, attempts } = claimed;
        let Ok(ev) = serde_json::from_str::<QueuedEvent>(&body) else {
            tracing::warn!(id, "dropping an unreadable queued event");
            let _ = queue.finish_event(id).await;
            continue;
        };
        let failed = run(f, &ev).await;
        let retry = usize::try_from(attempts)
            .ok()
            .and_then(|a| f.event_retry_delays().get(a));
        let done = match retry {
            Some(delay) if failed => {
                let not_before =
                    tollgate_model::time::now_epoch_millis() + delay.as_millis() as i64;
                queue.retry_event(id, attempts + 1, not_before).await
            }
            _ => {
                if failed {
                    dropped(&ev);
                }
                queue.finish_event(id).await
            }
        };
        if let Err(e) = done {
            // The claim lapses and another run happens: at least once, never lost.
            tracing::error!(error = %e, id, "cannot record a queued event's outcome");
        }
    }
}
