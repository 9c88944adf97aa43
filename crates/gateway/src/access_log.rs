//! Access logs: one line per request in the stage's `accessLogSettings.format`, with its
//! `$context` variables filled. Lines go through a channel to one writer task so the request
//! path never waits on the disk; if the writer falls behind, lines are dropped and counted.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::context::{compile_substitution, Piece, RequestContext};

const QUEUE: usize = 65_536;

/// Reads `$context` variables by name: REST's table ([`RequestContext`]) and HTTP APIs'
/// (`crate::http_context`) alike.
pub trait ContextVars {
    fn var(&self, name: &str) -> Option<std::borrow::Cow<'_, str>>;
}

impl ContextVars for RequestContext {
    fn var(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        RequestContext::var(self, name)
    }
}

#[derive(Debug)]
pub struct AccessLog {
    pieces: Vec<Piece>,
    file: Arc<Path>,
}

impl AccessLog {
    pub fn new(format: &str, file: Arc<Path>) -> Self {
        AccessLog {
            pieces: compile_substitution(format),
            file,
        }
    }

    /// The line for one request. Variables without a value print `-`.
    pub fn render(
        &self,
        ctx: &impl ContextVars,
        stage_vars: &std::collections::BTreeMap<String, String>,
    ) -> String {
        let mut line = String::with_capacity(256);
        for p in &self.pieces {
            match p {
                Piece::Literal(s) => line.push_str(s),
                Piece::Context(name) => match ctx.var(name) {
                    Some(v) if !v.is_empty() => line.push_str(&v),
                    _ => line.push('-'),
                },
                Piece::StageVariable(name) => {
                    line.push_str(stage_vars.get(name).map_or("-", |s| s.as_str()))
                }
            }
        }
        line
    }
}

#[derive(Clone, Debug)]
pub struct AccessLogWriter {
    dir: PathBuf,
    tx: mpsc::Sender<(Arc<Path>, String)>,
    dropped: Arc<AtomicU64>,
}

impl AccessLogWriter {
    /// Starts the writer task (needs a tokio runtime).
    pub fn start(dir: PathBuf) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_loop(rx));
        AccessLogWriter {
            dir,
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn file_for(&self, api: &str, stage: &str) -> Arc<Path> {
        access_log_path(&self.dir, api, stage).into()
    }

    pub fn write(&self, log: &AccessLog, line: String) {
        self.write_to(&log.file, line);
    }

    /// Appends `lines` (and a newline) to `file` (execution logs share the writer).
    pub fn write_to(&self, file: &Arc<Path>, lines: String) {
        if self.tx.try_send((file.clone(), lines)).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(dropped = n, "access log writer is behind; lines dropped");
            }
        }
    }
}

async fn write_loop(mut rx: mpsc::Receiver<(Arc<Path>, String)>) {
    let mut files: HashMap<Arc<Path>, std::io::BufWriter<std::fs::File>> = HashMap::new();
    while let Some((path, line)) = rx.recv().await {
        let mut batch = vec![(path, line)];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
            if batch.len() >= 1024 {
                break;
            }
        }
        for (path, line) in batch {
            if !files.contains_key(&path) {
                if let Some(dir) = path.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                match std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                {
                    Ok(f) => {
                        files.insert(path.clone(), std::io::BufWriter::new(f));
                    }
                    Err(e) => {
                        tracing::error!(path = %path.display(), error = %e, "cannot open access log");
                        continue;
                    }
                }
            }
            if let Some(w) = files.get_mut(&path) {
                let _ = w
                    .write_all(line.as_bytes())
                    .and_then(|_| w.write_all(b"\n"));
            }
        }
        for w in files.values_mut() {
            let _ = w.flush();
        }
    }
}

/// Where a stage's access log (or execution log, in its own dir) goes:
/// `{dir}/{apiId}-{stage}.log`.
pub fn access_log_path(dir: &std::path::Path, api: &str, stage: &str) -> PathBuf {
    dir.join(format!("{api}-{stage}.log"))
}
