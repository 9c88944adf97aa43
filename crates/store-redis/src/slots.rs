//! Requests waiting for a shared Redis call, queued per worker thread: the data plane runs
//! one single-threaded runtime per core, so a thread's requests share calls made by a task
//! on that same thread, and a verdict wakes a task where it already runs (no cross-thread
//! wake-up, no lock two threads contend for). Buckets and quota counters both batch this
//! way: a request is [`Queues::push`]ed, the first to find no call out starts the task that
//! [`Queues::take`]s batches until none waits.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Queues per batcher; threads beyond share them (still correct, only less private).
const SLOTS: usize = 8;

/// This thread's queue index (threads are numbered as they first ask).
fn this_thread() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SLOT: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SLOTS;
    }
    SLOT.with(|s| *s)
}

/// One queue of waiting `W`s per thread slot.
#[derive(Debug)]
pub(crate) struct Queues<W>([Mutex<Queue<W>>; SLOTS]);

#[derive(Debug)]
struct Queue<W> {
    waiting: Vec<W>,
    /// Whether a call is out (its task takes the next batch when it is done).
    calling: bool,
}

impl<W> Default for Queues<W> {
    fn default() -> Self {
        Queues(std::array::from_fn(|_| {
            Mutex::new(Queue {
                waiting: Vec::new(),
                calling: false,
            })
        }))
    }
}

impl<W> Queues<W> {
    fn lock(&self, slot: usize) -> MutexGuard<'_, Queue<W>> {
        self.0[slot % SLOTS]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `w` on this thread's queue: `Some(slot)` when no call is out for it, and the
    /// caller must start the task that drains `slot` with [`Self::take`].
    pub(crate) fn push(&self, w: W) -> Option<usize> {
        let slot = this_thread();
        let mut q = self.lock(slot);
        q.waiting.push(w);
        (!std::mem::replace(&mut q.calling, true)).then_some(slot)
    }

    /// Everything waiting on `slot`; `None` when nothing does, and then the queue has no
    /// call out (the next push starts a task again).
    pub(crate) fn take(&self, slot: usize) -> Option<Vec<W>> {
        let mut q = self.lock(slot);
        if q.waiting.is_empty() {
            q.calling = false;
            return None;
        }
        Some(std::mem::take(&mut q.waiting))
    }
}
