//! Asynchronous (`InvocationType: Event`) invocations. Each accepted event is a file in the
//! queue directory, written and synced before Invoke answers 202, so a restart (even
//! `kill -9`) loses none. A dispatcher runs them in arrival order; a function error is
//! retried twice, after 1 and then 2 minutes as Lambda does (`FunctionsConfig::
//! event_retry_delays`), then the event is dropped.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Weak;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::error::StartError;
use crate::invoke::{InvokeError, InvokeRequest, InvokeResponse};

/// Delays before the two retries of a failed event (Lambda's schedule).
pub const RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(60), Duration::from_secs(120)];

#[derive(Debug, Serialize, Deserialize)]
struct QueuedEvent {
    function: String,
    qualifier: Option<String>,
    /// Base64, so any payload round-trips exactly.
    payload: String,
    request_id: String,
    attempts: u32,
    /// Epoch milliseconds before which the event must not run.
    not_before: i64,
}

pub struct EventQueue {
    dir: PathBuf,
    wake: tokio::sync::Notify,
}

impl EventQueue {
    pub fn open(dir: PathBuf) -> Result<EventQueue, StartError> {
        if let Err(source) = std::fs::create_dir_all(&dir) {
            return Err(StartError::CreateDir { path: dir, source });
        }
        Ok(EventQueue {
            dir,
            wake: tokio::sync::Notify::new(),
        })
    }

    /// Persists one event; returns its request id.
    pub fn enqueue(
        &self,
        function: &str,
        qualifier: Option<&str>,
        payload: &[u8],
    ) -> std::io::Result<String> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let ev = QueuedEvent {
            function: function.to_string(),
            qualifier: qualifier.map(str::to_string),
            payload: base64::engine::general_purpose::STANDARD.encode(payload),
            request_id: request_id.clone(),
            attempts: 0,
            not_before: 0,
        };
        let name = format!(
            "{:016}-{}.json",
            tollgate_model::time::now_epoch_millis(),
            request_id
        );
        self.write(&name, &ev)?;
        self.wake.notify_one();
        Ok(request_id)
    }

    fn write(&self, name: &str, ev: &QueuedEvent) -> std::io::Result<()> {
        use std::io::Write;
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec(ev).map_err(std::io::Error::other)?)?;
        f.sync_all()?;
        std::fs::rename(&tmp, self.dir.join(name))?;
        std::fs::File::open(&self.dir)?.sync_all()
    }

    /// Queued event files, oldest first.
    fn pending(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
            .collect();
        names.sort();
        names
    }
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
            let mut next_due: Option<i64> = None;
            let queue = f.event_queue();
            for name in queue.pending() {
                let path = queue.dir.join(&name);
                let Ok(mut ev) = std::fs::read(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|b| {
                        serde_json::from_slice::<QueuedEvent>(&b).map_err(|e| e.to_string())
                    })
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
                        },
                    )
                    .await;
                let failed = match &result {
                    Ok(r) => r.function_error,
                    Err(InvokeError::NotFound(_)) => false,
                    Err(_) => true,
                };
                match f.event_retry_delays().get(ev.attempts as usize) {
                    Some(delay) if failed => {
                        ev.attempts += 1;
                        ev.not_before = now + delay.as_millis() as i64;
                        next_due = Some(next_due.map_or(ev.not_before, |d| d.min(ev.not_before)));
                        if let Err(e) = queue.write(&name, &ev) {
                            tracing::error!(error = %e, "cannot reschedule an event");
                        }
                    }
                    _ => {
                        if failed {
                            tracing::warn!(function = %ev.function, request_id = %ev.request_id, "event failed after retries; dropped");
                        }
                        let _ = std::fs::remove_file(&path);
                    }
                }
            }
            let wait = next_due.map_or(Duration::from_secs(60), |d| {
                Duration::from_millis(
                    (d - tollgate_model::time::now_epoch_millis()).clamp(10, 60_000) as u64,
                )
            });
            let _ = tokio::time::timeout(wait, queue.wake.notified()).await;
        }
    });
}
