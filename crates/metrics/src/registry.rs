//! The registry: interned label sets (at compile time, under a lock) and the shards of the
//! threads that count (found through a thread-local on the request path, no lock).

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::schema::{Kind, Schema};
use crate::shard::{Shard, CHUNK, CHUNKS};
use crate::state::{Block, Interned, Threads};

/// Where a process's metrics are counted; cheap to clone (one registry per gateway).
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("id", &self.inner.id)
            .finish()
    }
}

pub(crate) struct Inner {
    id: u64,
    /// Labels every series carries first (a cluster node's `node`), rendered once.
    constant: Box<str>,
    interned: Mutex<Interned>,
    threads: Mutex<Threads>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A thread's shard of one registry; folded into the registry's retired counts when the
/// thread ends, so a finished thread's counts stay and its memory goes.
struct Held {
    registry: Arc<Inner>,
    shard: Arc<Shard>,
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut t = lock(&self.registry.threads);
        t.live.retain(|s| !Arc::ptr_eq(s, &self.shard));
        let used = lock(&self.registry.interned).next as usize;
        if t.retired.len() < used {
            t.retired.resize(used, 0);
        }
        for (i, slot) in t.retired.iter_mut().enumerate() {
            *slot = slot.wrapping_add(self.shard.read(i as u32));
        }
    }
}

thread_local! {
    /// This thread's shards, by registry id (one entry in a running gateway).
    static SHARDS: RefCell<Vec<(u64, Held)>> = const { RefCell::new(Vec::new()) };
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl Registry {
    pub fn new() -> Registry {
        Registry::with_constant_labels(&[])
    }

    /// A registry whose every series carries `labels` before its own (each node of a
    /// cluster labels its series with `node`, so the nodes' scrapes never collide).
    pub fn with_constant_labels(labels: &[(&str, &str)]) -> Registry {
        Registry {
            inner: Arc::new(Inner {
                constant: render_labels(labels).into(),
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                interned: Mutex::new(Interned::default()),
                threads: Mutex::new(Threads::default()),
            }),
        }
    }

    /// The series of `schema` with `labels` (`(name, value)` pairs, in the order they are
    /// to be shown): the same block every time it is asked for the same labels. Past the
    /// registry's capacity the series counts nothing (and a warning says so once).
    pub fn series(&self, schema: &'static Schema, labels: &[(&str, &str)]) -> Series {
        let own = render_labels(labels);
        let rendered: Arc<str> = match (self.inner.constant.is_empty(), own.is_empty()) {
            (true, _) => own.into(),
            (false, true) => self.inner.constant.as_ref().into(),
            (false, false) => format!("{},{own}", self.inner.constant).into(),
        };
        let (offsets, len) = schema.offsets();
        let mut interned = lock(&self.inner.interned);
        let key = (schema as *const Schema as usize, rendered.clone());
        let known = interned.by_key.get(&key).copied();
        let base = match known {
            Some(b) => Some(b),
            None if (interned.next + len) as usize > CHUNK * CHUNKS => {
                warn_full();
                None
            }
            None => {
                let base = interned.next;
                interned.next += len;
                interned.by_key.insert(key, base);
                let at = match interned
                    .schemas
                    .iter()
                    .position(|(s, _)| std::ptr::eq(*s, schema))
                {
                    Some(i) => i,
                    None => {
                        interned.schemas.push((schema, Vec::new()));
                        interned.schemas.len() - 1
                    }
                };
                interned.schemas[at].1.push(Block {
                    labels: rendered,
                    base,
                });
                Some(base)
            }
        };
        Series {
            registry: self.inner.clone(),
            base,
            offsets: offsets.into(),
            schema,
        }
    }

    /// Every series' value now, as Prometheus text (exposition format 0.0.4).
    pub fn render(&self) -> String {
        self.render_as(crate::schema::Format::Prometheus)
    }

    /// Every series' value now, in `format`.
    pub fn render_as(&self, format: crate::schema::Format) -> String {
        let shards = lock(&self.inner.threads);
        let interned = lock(&self.inner.interned);
        crate::render::text(&interned, &shards, format)
    }
}

/// A full registry is a deployment far beyond what one gateway serves; say so on stderr
/// once rather than pull a logging crate into this one.
fn warn_full() {
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| eprintln!("tollgate-metrics: registry full; new series are not counted"));
}

/// `name="value",...` with Prometheus's escapes (`\\`, `\"`, `\n`).
fn render_labels(labels: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push_str("=\"");
        for c in v.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out
}

/// One subject's block of cells: what the request path counts into.
#[derive(Clone)]
pub struct Series {
    registry: Arc<Inner>,
    /// `None`: the registry was full.
    base: Option<u32>,
    offsets: Arc<[u32]>,
    schema: &'static Schema,
}

impl std::fmt::Debug for Series {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Series").field("base", &self.base).finish()
    }
}

impl Series {
    /// Runs `f` with this thread's shard of the registry (made on the thread's first count).
    fn with_shard(&self, f: impl FnOnce(&Shard)) {
        SHARDS.with_borrow_mut(|held| {
            let id = self.registry.id;
            if let Some((_, h)) = held.iter().find(|(i, _)| *i == id) {
                return f(&h.shard);
            }
            let shard = Arc::new(Shard::new());
            lock(&self.registry.threads).live.push(shard.clone());
            f(&shard);
            held.push((
                id,
                Held {
                    registry: self.registry.clone(),
                    shard,
                },
            ));
        });
    }

    /// Runs `f` with this thread's cells of the series: several counts of one request for
    /// one thread-local lookup. Nothing runs when the registry was full.
    pub fn counts(&self, f: impl FnOnce(&Counts<'_>)) {
        let Some(base) = self.base else { return };
        self.with_shard(|shard| {
            f(&Counts {
                series: self,
                base,
                shard,
            })
        });
    }

    /// Adds `v` to counter or gauge `metric` (its index in the schema).
    pub fn add(&self, metric: usize, v: u64) {
        self.counts(|c| c.add(metric, v));
    }

    /// Lowers gauge `metric` by `v`.
    pub fn sub(&self, metric: usize, v: u64) {
        self.add(metric, v.wrapping_neg());
    }

    /// Records one observation of histogram `metric`, in microseconds.
    pub fn observe_micros(&self, metric: usize, micros: u64) {
        self.counts(|c| c.observe_micros(metric, micros));
    }
}

/// A series' cells on the counting thread (see `Series::counts`).
pub struct Counts<'a> {
    series: &'a Series,
    base: u32,
    shard: &'a Shard,
}

impl Counts<'_> {
    /// Adds `v` to counter or gauge `metric`.
    pub fn add(&self, metric: usize, v: u64) {
        self.shard.add(self.base + self.series.offsets[metric], v);
    }

    /// Records one observation of histogram `metric`, in microseconds.
    pub fn observe_micros(&self, metric: usize, micros: u64) {
        let Kind::Histogram(bounds) = self.series.schema.metrics[metric].kind else {
            return;
        };
        let at = self.base + self.series.offsets[metric];
        let seconds = micros as f64 / 1e6;
        let bucket = bounds
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(bounds.len());
        let n = bounds.len() as u32;
        self.shard.add(at + bucket as u32, 1);
        self.shard.add(at + n + 1, micros);
        self.shard.add(at + n + 2, 1);
    }
}
