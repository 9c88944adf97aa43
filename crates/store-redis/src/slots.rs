//! Requests waiting for a shared Redis call, queued per worker thread: the data plane runs
//! one single-threaded runtime per core, so a thread's requests share calls made by a task
//! on that same thread, and a verdict wakes a task where it already runs (no cross-thread
//! wake-up, no lock two threads contend for).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Queues per batch; threads beyond share them (still correct, only less private).
const SLOTS: usize = 8;

/// This thread's queue index (threads are numbered as they first ask).
pub(crate) fn this_thread() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SLOT: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SLOTS;
    }
    SLOT.with(|s| *s)
}

/// One `T` per thread slot.
#[derive(Debug)]
pub(crate) struct PerThread<T>([Mutex<T>; SLOTS]);

impl<T: Default> Default for PerThread<T> {
    fn default() -> Self {
        PerThread(std::array::from_fn(|_| Mutex::default()))
    }
}

impl<T> PerThread<T> {
    pub(crate) fn lock(&self, slot: usize) -> MutexGuard<'_, T> {
        self.0[slot % SLOTS]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}
