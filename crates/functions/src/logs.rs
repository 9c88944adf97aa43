//! Function logs: one file per function (`<dir>/{name}.log`), holding the workers' stdout and
//! stderr lines and Lambda's `START` / `END` / `REPORT` lines. A single writer thread owns the
//! files; workers and invocations only append lines to a shared list that it drains every
//! 50 ms. The list is bounded: when the disk falls behind, lines are dropped and counted.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// Longest log line kept (Lambda cuts a CloudWatch log event at 256 KB).
pub const MAX_LINE: usize = 256 * 1024;
/// Bytes of lines waiting for the writer at most; lines beyond are dropped.
const MAX_PENDING: usize = 64 * 1024 * 1024;

/// Lines waiting for the writer, per function, and their total size.
#[derive(Default)]
struct Queue {
    lines: Vec<(Arc<str>, Vec<u8>)>,
    bytes: usize,
    /// Functions deleted since the last drain: their files are closed after their lines.
    closed: Vec<Arc<str>>,
}

type Pending = Mutex<Queue>;

/// Counts what a bound made the engine drop, with a warning at the 1st, 2nd, 4th, 8th...
/// so a flood costs a handful of lines in the server log.
pub struct Dropped {
    count: AtomicU64,
    what: &'static str,
}

impl Dropped {
    pub const fn new(what: &'static str) -> Dropped {
        Dropped {
            count: AtomicU64::new(0),
            what,
        }
    }

    pub fn add(&self) {
        let n = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_power_of_two() {
            tracing::warn!(dropped = n, "{}", self.what);
        }
    }
}

static DROPPED_LINES: Dropped = Dropped::new("function log writer is behind; lines dropped");

/// How often the writer thread drains pending lines. Invocations never wake it: at
/// thousands of invocations a second, a wake-up per line would cost more than the lines.
const DRAIN_EVERY: Duration = Duration::from_millis(50);

#[derive(Clone)]
pub struct LogWriter {
    pending: Arc<Pending>,
    dir: PathBuf,
}

impl LogWriter {
    pub fn start(dir: PathBuf) -> LogWriter {
        let pending: Arc<Pending> = Arc::default();
        let (thread_dir, thread_pending) = (dir.clone(), Arc::downgrade(&pending));
        std::thread::Builder::new()
            .name("function-logs".into())
            .spawn(move || write_loop(&thread_dir, thread_pending))
            .expect("log writer thread");
        LogWriter { pending, dir }
    }

    /// Appends `line` (cut at [`MAX_LINE`]; a newline is added when missing) to the
    /// function's log, or drops it when too much is already waiting.
    pub fn line(&self, function: &Arc<str>, line: impl Into<Vec<u8>>) {
        let mut line = line.into();
        line.truncate(MAX_LINE);
        if line.last() != Some(&b'\n') {
            line.push(b'\n');
        }
        let mut queue = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        if queue.bytes + line.len() > MAX_PENDING {
            drop(queue);
            DROPPED_LINES.add();
            return;
        }
        queue.bytes += line.len();
        queue.lines.push((function.clone(), line));
    }

    pub fn path(&self, function: &str) -> PathBuf {
        log_path(&self.dir, function)
    }

    /// Closes a deleted function's file once its pending lines are written (a later line,
    /// from a function created again under the name, reopens it).
    pub fn close(&self, function: &str) {
        let mut queue = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        queue.closed.push(function.into());
    }
}

pub fn log_path(dir: &Path, function: &str) -> PathBuf {
    dir.join(format!("{function}.log"))
}

fn write_loop(dir: &Path, pending: Weak<Pending>) {
    let mut files: HashMap<Arc<str>, std::io::BufWriter<std::fs::File>> = HashMap::new();
    let mut batch = Vec::new();
    let mut closed = Vec::new();
    loop {
        std::thread::sleep(DRAIN_EVERY);
        // The engine is gone: write what is left, then stop.
        let Some(pending) = pending.upgrade() else {
            break;
        };
        {
            let mut queue = pending.lock().unwrap_or_else(|p| p.into_inner());
            std::mem::swap(&mut batch, &mut queue.lines);
            std::mem::swap(&mut closed, &mut queue.closed);
            queue.bytes = 0;
        }
        drop(pending);
        if batch.is_empty() && closed.is_empty() {
            continue;
        }
        for (name, line) in batch.drain(..) {
            if !files.contains_key(&name) {
                let _ = std::fs::create_dir_all(dir);
                match std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log_path(dir, &name))
                {
                    Ok(f) => {
                        files.insert(name.clone(), std::io::BufWriter::new(f));
                    }
                    Err(e) => {
                        tracing::warn!(function = %name, error = %e, "cannot open function log")
                    }
                }
            }
            if let Some(f) = files.get_mut(&name) {
                let _ = f.write_all(&line);
            }
        }
        for f in files.values_mut() {
            let _ = f.flush();
        }
        for name in closed.drain(..) {
            files.remove(&name);
        }
        // A deleted function's log is reopened (and recreated) by its next line.
        if files.len() > 256 {
            files.clear();
        }
    }
}

/// Lambda's `REPORT` line.
pub fn report_line(
    request_id: &str,
    duration_ms: f64,
    memory_mb: u32,
    max_used_mb: u64,
    init_ms: Option<f64>,
) -> String {
    let billed = duration_ms.ceil().max(1.0) as u64;
    let mut s = format!(
        "REPORT RequestId: {request_id}\tDuration: {duration_ms:.2} ms\tBilled Duration: {billed} ms\tMemory Size: {memory_mb} MB\tMax Memory Used: {max_used_mb} MB\t"
    );
    if let Some(init) = init_ms {
        s.push_str(&format!("Init Duration: {init:.2} ms\t"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_line_has_lambda_shape() {
        assert_eq!(
            report_line("r1", 2.581, 128, 56, Some(139.744)),
            "REPORT RequestId: r1\tDuration: 2.58 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 56 MB\tInit Duration: 139.74 ms\t"
        );
        assert!(report_line("r", 0.2, 128, 1, None).contains("Billed Duration: 1 ms"));
    }

    #[test]
    fn lines_reach_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let w = LogWriter::start(dir.path().to_path_buf());
        let f: Arc<str> = "fn1".into();
        w.line(&f, "hello");
        w.line(&f, b"world\n".to_vec());
        let path = w.path("fn1");
        for _ in 0..200 {
            if std::fs::read_to_string(&path).is_ok_and(|s| s.lines().count() == 2) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "hello\nworld\n");
    }

    #[test]
    fn lines_are_cut_and_the_queue_is_bounded() {
        // No writer thread: nothing drains, as when the disk is stuck.
        let w = LogWriter {
            pending: Arc::default(),
            dir: PathBuf::from("/nonexistent"),
        };
        let f: Arc<str> = "fn1".into();
        w.line(&f, vec![b'x'; 10 * 1024 * 1024]);
        for _ in 0..1000 {
            w.line(&f, vec![b'y'; MAX_LINE]);
        }
        let queue = w.pending.lock().unwrap();
        assert_eq!(queue.lines[0].1.len(), MAX_LINE + 1);
        assert!(queue.bytes <= MAX_PENDING);
        assert!(queue.lines.len() < 1000);
        assert_eq!(
            queue.bytes,
            queue.lines.iter().map(|(_, l)| l.len()).sum::<usize>()
        );
    }
}
