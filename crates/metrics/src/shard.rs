//! One thread's cells. Only the owning thread writes them (a relaxed load and store, not a
//! read-modify-write: no bus lock, and no other core writes the line); a scrape reads them
//! from its own thread. Cells are allocated in chunks the first time a thread counts into
//! one, so a thread that never serves a subject holds no memory for it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Cells per chunk.
pub(crate) const CHUNK: usize = 1024;
/// Chunks per shard: at most `CHUNK * CHUNKS` cells (a million) per registry.
pub(crate) const CHUNKS: usize = 1024;

pub(crate) struct Shard {
    chunks: Box<[OnceLock<Box<[AtomicU64]>>]>,
}

impl Shard {
    pub(crate) fn new() -> Shard {
        Shard {
            chunks: (0..CHUNKS).map(|_| OnceLock::new()).collect(),
        }
    }

    fn cell(&self, i: u32) -> &AtomicU64 {
        let i = i as usize;
        let chunk =
            self.chunks[i / CHUNK].get_or_init(|| (0..CHUNK).map(|_| AtomicU64::new(0)).collect());
        &chunk[i % CHUNK]
    }

    /// Adds `v` (wrapping: a gauge's decrease is the two's complement). Owner thread only.
    pub(crate) fn add(&self, i: u32, v: u64) {
        let c = self.cell(i);
        c.store(c.load(Ordering::Relaxed).wrapping_add(v), Ordering::Relaxed);
    }

    /// The cell's value as last stored (0 for a chunk never touched).
    pub(crate) fn read(&self, i: u32) -> u64 {
        let i = i as usize;
        self.chunks[i / CHUNK]
            .get()
            .map_or(0, |c| c[i % CHUNK].load(Ordering::Relaxed))
    }
}
