//! Batched log writing off the worker threads. A request appends its rendered line to its
//! own thread's buffer (a mutex only that thread and the writer ever take, so no lock or
//! atomic is shared by the workers); one writer thread collects every thread's buffer each
//! [`FLUSH_EVERY`], or sooner once a buffer passes [`WAKE_AT`], and appends the lines to
//! their files with one `write` per file. Memory is bounded per thread ([`MAX_PENDING`]:
//! lines past it are dropped and counted). A graceful shutdown writes every line
//! ([`AccessLogWriter::flush`]); a crash loses at most the lines of the last interval.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::thread::Thread;
use std::time::Duration;

/// How often the writer collects the threads' lines: at most this much is lost in a crash.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);
/// A thread's buffered bytes that wake the writer before the interval ends.
const WAKE_AT: usize = 64 * 1024;
/// A thread's buffered bytes past which its lines are dropped (the disk is behind).
const MAX_PENDING: usize = 4 * 1024 * 1024;
/// How long [`AccessLogWriter::flush`] waits for the writer.
const FLUSH_WAIT: Duration = Duration::from_secs(10);

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// One thread's lines not yet written, per file.
#[derive(Default)]
struct Pending {
    files: Vec<(Arc<Path>, Vec<u8>)>,
    bytes: usize,
    /// The writer was woken for this buffer and has not collected it yet.
    woken: bool,
    dropped: u64,
}

impl Pending {
    fn buffer(&mut self, file: &Arc<Path>) -> &mut Vec<u8> {
        let at = self.files.iter().position(|(f, _)| {
            Arc::ptr_eq(f, file)
                || f.as_os_str().as_encoded_bytes() == file.as_os_str().as_encoded_bytes()
        });
        let at = match at {
            Some(i) => i,
            None => {
                self.files.push((file.clone(), Vec::with_capacity(WAKE_AT)));
                self.files.len() - 1
            }
        };
        &mut self.files[at].1
    }

    /// Appends one line; answers whether the writer is to be woken now.
    fn append(&mut self, file: &Arc<Path>, render: impl FnOnce(&mut Vec<u8>)) -> bool {
        if self.bytes >= MAX_PENDING {
            self.dropped += 1;
            return false;
        }
        let buf = self.buffer(file);
        let before = buf.len();
        render(buf);
        buf.push(b'\n');
        let added = buf.len() - before;
        self.bytes += added;
        let wake = self.bytes >= WAKE_AT && !self.woken;
        self.woken |= wake;
        wake
    }
}

type Buffer = Arc<Mutex<Pending>>;

struct Shared {
    id: u64,
    /// Every thread's buffer; locked when a thread first writes and by the writer.
    threads: Mutex<Vec<Buffer>>,
    /// Callers of [`AccessLogWriter::flush`] waiting for the writer's next round.
    waiters: Mutex<Vec<mpsc::SyncSender<()>>>,
    stop: AtomicBool,
}

/// Stops the writer thread (after a last round) when the last handle is dropped.
struct Handle {
    shared: Arc<Shared>,
    thread: Option<Thread>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(t) = &self.thread {
            t.unpark();
        }
    }
}

thread_local! {
    /// This thread's buffers, by writer id (one in a running gateway).
    static MINE: RefCell<Vec<(u64, Buffer)>> = const { RefCell::new(Vec::new()) };
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Where access and execution log lines go; cheap to clone.
#[derive(Clone)]
pub struct AccessLogWriter {
    dir: PathBuf,
    handle: Arc<Handle>,
}

impl std::fmt::Debug for AccessLogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessLogWriter")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl AccessLogWriter {
    /// Starts the writer thread; files are created under `dir` as lines arrive.
    pub fn start(dir: PathBuf) -> Self {
        let shared = Arc::new(Shared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            threads: Mutex::default(),
            waiters: Mutex::default(),
            stop: AtomicBool::new(false),
        });
        let mine = shared.clone();
        let thread = std::thread::Builder::new()
            .name("tollgate-logs".into())
            .spawn(move || write_loop(&mine))
            .map_err(|e| tracing::error!(error = %e, "cannot start the log writer"))
            .ok()
            .map(|t| t.thread().clone());
        AccessLogWriter {
            dir,
            handle: Arc::new(Handle { shared, thread }),
        }
    }

    pub fn file_for(&self, api: &str, stage: &str) -> Arc<Path> {
        super::access_log_path(&self.dir, api, stage).into()
    }

    /// Appends one line (what `render` writes, and a newline) to `file` through this
    /// thread's buffer.
    pub fn append(&self, file: &Arc<Path>, render: impl FnOnce(&mut Vec<u8>)) {
        let shared = &self.handle.shared;
        let wake = MINE.try_with(|mine| {
            let mut mine = mine.borrow_mut();
            let at = match mine.iter().position(|(id, _)| *id == shared.id) {
                Some(i) => i,
                None => {
                    // Buffers of writers that stopped are let go.
                    mine.retain(|(_, b)| Arc::strong_count(b) > 1);
                    let b = Buffer::default();
                    lock(&shared.threads).push(b.clone());
                    mine.push((shared.id, b));
                    mine.len() - 1
                }
            };
            let wake = lock(&mine[at].1).append(file, render);
            wake
        });
        if wake.unwrap_or(false) {
            if let Some(t) = &self.handle.thread {
                t.unpark();
            }
        }
    }

    /// Appends `text` (and a newline) to `file` (execution logs share the writer).
    pub fn write_to(&self, file: &Arc<Path>, text: &str) {
        self.append(file, |buf| buf.extend_from_slice(text.as_bytes()));
    }

    /// Waits until every line appended before this call is written (graceful shutdown).
    pub fn flush(&self) {
        let Some(thread) = &self.handle.thread else {
            return;
        };
        let (tx, rx) = mpsc::sync_channel(1);
        lock(&self.handle.shared.waiters).push(tx);
        thread.unpark();
        if rx.recv_timeout(FLUSH_WAIT).is_err() {
            tracing::warn!("the log writer did not finish in time; lines may be lost");
        }
    }
}

/// The writer thread: a round per interval, per wake-up, and a last one when stopped.
fn write_loop(shared: &Shared) {
    let mut files = Files::default();
    let mut spare: Vec<Vec<u8>> = Vec::new();
    loop {
        std::thread::park_timeout(FLUSH_EVERY);
        let stop = shared.stop.load(Ordering::Acquire);
        // Taken before collecting: a waiter's lines were appended before it was pushed.
        let waiters = std::mem::take(&mut *lock(&shared.waiters));
        collect(shared, &mut files, &mut spare);
        for w in waiters {
            let _ = w.try_send(());
        }
        if stop {
            return;
        }
    }
}

/// Takes every thread's lines (swapping in empty buffers) and writes them.
fn collect(shared: &Shared, files: &mut Files, spare: &mut Vec<Vec<u8>>) {
    let buffers: Vec<Buffer> = {
        let mut threads = lock(&shared.threads);
        // A thread that ended left only the registry's reference; this round empties it.
        let all = threads.clone();
        threads.retain(|b| Arc::strong_count(b) > 2);
        all
    };
    let mut taken: Vec<(Arc<Path>, Vec<u8>)> = Vec::new();
    let mut dropped = 0;
    for b in &buffers {
        let mut p = lock(b);
        if p.bytes == 0 && p.dropped == 0 {
            continue;
        }
        for (file, buf) in &mut p.files {
            if !buf.is_empty() {
                let fresh = spare.pop().unwrap_or_default();
                taken.push((file.clone(), std::mem::replace(buf, fresh)));
            }
        }
        p.bytes = 0;
        p.woken = false;
        dropped += std::mem::take(&mut p.dropped);
    }
    if dropped > 0 {
        tracing::warn!(dropped, "log lines dropped: the log writer is behind");
    }
    for (file, mut buf) in taken {
        files.write(&file, &buf);
        buf.clear();
        // A buffer grown by a burst is not kept at its peak.
        if buf.capacity() <= 4 * WAKE_AT {
            spare.push(buf);
        }
    }
}

/// The writer's open files.
#[derive(Default)]
struct Files {
    open: HashMap<Arc<Path>, std::fs::File>,
    failed: HashSet<Arc<Path>>,
}

impl Files {
    fn write(&mut self, path: &Arc<Path>, bytes: &[u8]) {
        if !self.open.contains_key(path) {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let opened = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path);
            match opened {
                Ok(f) => {
                    self.failed.remove(path);
                    self.open.insert(path.clone(), f);
                }
                Err(e) => {
                    if self.failed.insert(path.clone()) {
                        tracing::error!(path = %path.display(), error = %e, "cannot open log file");
                    }
                    return;
                }
            }
        }
        if let Some(f) = self.open.get_mut(path) {
            if let Err(e) = f.write_all(bytes) {
                tracing::error!(path = %path.display(), error = %e, "cannot write log file");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system's temp dir, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            static N: AtomicU64 = AtomicU64::new(0);
            let n = N.fetch_add(1, Ordering::Relaxed);
            let p = std::env::temp_dir().join(format!("tollgate-logs-{}-{n}", std::process::id()));
            TempDir(p)
        }
        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn flush_writes_every_thread_s_lines_in_order() {
        let dir = TempDir::new();
        let w = AccessLogWriter::start(dir.path().to_path_buf());
        let (a, b) = (w.file_for("api", "a"), w.file_for("api", "b"));
        // Enough to pass the wake-up threshold several times over.
        const N: usize = 3000;
        std::thread::scope(|s| {
            for t in 0..4 {
                let (w, a, b) = (&w, &a, &b);
                s.spawn(move || {
                    for i in 0..N {
                        let file = if i % 2 == 0 { a } else { b };
                        w.write_to(file, &format!("{t} {i:05} {}", "x".repeat(40)));
                    }
                });
            }
        });
        w.write_to(&a, "main");
        w.flush();
        let (la, lb) = (lines(&a), lines(&b));
        assert_eq!(la.len() + lb.len(), 4 * N + 1);
        assert!(la.iter().any(|l| l == "main"));
        for t in 0..4 {
            // Each thread's lines arrive whole and in the order it wrote them.
            let mine: Vec<usize> = la
                .iter()
                .chain(&lb)
                .filter_map(|l| l.strip_prefix(&format!("{t} ")))
                .map(|l| l[..5].parse().unwrap())
                .collect();
            let (mut even, mut odd): (Vec<usize>, Vec<usize>) =
                mine.into_iter().partition(|i| *i % 2 == 0);
            assert!(even.windows(2).all(|p| p[0] < p[1]), "thread {t}: {even:?}");
            assert!(odd.windows(2).all(|p| p[0] < p[1]), "thread {t}: {odd:?}");
            even.append(&mut odd);
            even.sort_unstable();
            assert!(
                even.iter().copied().eq(0..N),
                "thread {t}: lines lost or repeated"
            );
        }
    }

    #[test]
    fn lines_reach_the_file_without_a_flush() {
        let dir = TempDir::new();
        let w = AccessLogWriter::start(dir.path().to_path_buf());
        let f = w.file_for("api", "s");
        std::thread::scope(|s| {
            s.spawn(|| w.write_to(&f, "from a worker"));
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while lines(&f).is_empty() {
            assert!(std::time::Instant::now() < deadline, "no line written");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(lines(&f), ["from a worker"]);
    }

    #[test]
    fn the_last_handle_writes_what_is_left() {
        let dir = TempDir::new();
        let w = AccessLogWriter::start(dir.path().to_path_buf());
        let f = w.file_for("api", "s");
        w.write_to(&f, "one");
        w.write_to(&f, "two");
        let thread = w.handle.thread.clone();
        drop(w);
        // The writer stops after its last round; its file then holds both lines.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while lines(&f).len() < 2 {
            assert!(std::time::Instant::now() < deadline, "lines lost");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(lines(&f), ["one", "two"]);
        drop(thread);
    }

    #[test]
    fn a_thread_s_memory_is_bounded() {
        let f: Arc<Path> = Path::new("/nowhere/a.log").into();
        let mut p = Pending::default();
        let line = [b'y'; 1023];
        let mut woken = 0;
        // Twice what a thread may hold, with no writer taking any of it.
        for _ in 0..(2 * MAX_PENDING / 1024) {
            woken += usize::from(p.append(&f, |b| b.extend_from_slice(&line)));
        }
        assert_eq!(woken, 1, "the writer is woken once per round");
        assert!(p.bytes < MAX_PENDING + 1024, "{} bytes held", p.bytes);
        assert_eq!(p.bytes, p.files[0].1.len());
        assert_eq!(
            p.dropped as usize,
            2 * MAX_PENDING / 1024 - MAX_PENDING / 1024
        );
        // The same file under another `Arc` (a rebuilt stage) shares the buffer.
        let again: Arc<Path> = Path::new("/nowhere/a.log").into();
        p.bytes = 0;
        p.append(&again, |b| b.extend_from_slice(b"z"));
        assert_eq!(p.files.len(), 1);
    }
}
