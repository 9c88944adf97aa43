//! Function logs: one file per function (`<dir>/{name}.log`), holding the workers' stdout and
//! stderr lines and Lambda's `START` / `END` / `REPORT` lines. A single writer thread owns the
//! files, so workers and invocations only send lines over a channel.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;

#[derive(Clone)]
pub struct LogWriter {
    tx: mpsc::Sender<(Arc<str>, Vec<u8>)>,
    dir: PathBuf,
}

impl LogWriter {
    pub fn start(dir: PathBuf) -> LogWriter {
        let (tx, rx) = mpsc::channel::<(Arc<str>, Vec<u8>)>();
        let thread_dir = dir.clone();
        std::thread::Builder::new()
            .name("function-logs".into())
            .spawn(move || write_loop(&thread_dir, rx))
            .expect("log writer thread");
        LogWriter { tx, dir }
    }

    /// Appends `line` (a newline is added when missing) to the function's log.
    pub fn line(&self, function: &Arc<str>, line: impl Into<Vec<u8>>) {
        let mut line = line.into();
        if line.last() != Some(&b'\n') {
            line.push(b'\n');
        }
        let _ = self.tx.send((function.clone(), line));
    }

    pub fn path(&self, function: &str) -> PathBuf {
        log_path(&self.dir, function)
    }
}

pub fn log_path(dir: &Path, function: &str) -> PathBuf {
    dir.join(format!("{function}.log"))
}

fn write_loop(dir: &Path, rx: mpsc::Receiver<(Arc<str>, Vec<u8>)>) {
    let mut files: HashMap<Arc<str>, std::io::BufWriter<std::fs::File>> = HashMap::new();
    let open = |name: &Arc<str>, files: &mut HashMap<Arc<str>, _>| {
        if !files.contains_key(name) {
            let _ = std::fs::create_dir_all(dir);
            match std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log_path(dir, name))
            {
                Ok(f) => {
                    files.insert(name.clone(), std::io::BufWriter::new(f));
                }
                Err(e) => tracing::warn!(function = %name, error = %e, "cannot open function log"),
            }
        }
    };
    while let Ok((name, line)) = rx.recv() {
        let mut batch = vec![(name, line)];
        batch.extend(rx.try_iter());
        for (name, line) in batch {
            open(&name, &mut files);
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
