//! Function logs: one file per function (`<dir>/{name}.log`), holding the workers' stdout and
//! stderr lines and Lambda's `START` / `END` / `REPORT` lines. A single writer thread owns the
//! files; workers and invocations only append lines to a shared list that it drains every
//! 50 ms.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// Lines waiting for the writer, per function.
type Pending = Mutex<Vec<(Arc<str>, Vec<u8>)>>;

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

    /// Appends `line` (a newline is added when missing) to the function's log.
    pub fn line(&self, function: &Arc<str>, line: impl Into<Vec<u8>>) {
        let mut line = line.into();
        if line.last() != Some(&b'\n') {
            line.push(b'\n');
        }
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((function.clone(), line));
    }

    pub fn path(&self, function: &str) -> PathBuf {
        log_path(&self.dir, function)
    }
}

pub fn log_path(dir: &Path, function: &str) -> PathBuf {
    dir.join(format!("{function}.log"))
}

fn write_loop(dir: &Path, pending: Weak<Pending>) {
    let mut files: HashMap<Arc<str>, std::io::BufWriter<std::fs::File>> = HashMap::new();
    let mut batch = Vec::new();
    loop {
        std::thread::sleep(DRAIN_EVERY);
        // The engine is gone: write what is left, then stop.
        let Some(pending) = pending.upgrade() else {
            break;
        };
        std::mem::swap(
            &mut batch,
            &mut *pending.lock().unwrap_or_else(|p| p.into_inner()),
        );
        drop(pending);
        if batch.is_empty() {
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
}
