//! The cap on open connections per listener. One atomic per listener, touched once when a
//! connection is accepted and once when it closes; requests never touch it.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Clone)]
pub struct ConnectionCap {
    inner: Arc<Inner>,
}

struct Inner {
    slots: Arc<Semaphore>,
    max: usize,
    listener: String,
    /// Set while connections are being refused, so a burst logs once, not per connection.
    refusing: AtomicBool,
}

impl ConnectionCap {
    pub fn new(max: usize, listener: String) -> Self {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        ConnectionCap {
            inner: Arc::new(Inner {
                slots: Arc::new(Semaphore::new(max)),
                max,
                listener,
                refusing: AtomicBool::new(false),
            }),
        }
    }

    /// A slot for a new connection, held until it closes; `None` when the cap is reached.
    pub fn admit(&self) -> Option<OwnedSemaphorePermit> {
        let inner = &self.inner;
        match inner.slots.clone().try_acquire_owned() {
            Ok(permit) => {
                if inner.refusing.load(Relaxed) && inner.refusing.swap(false, Relaxed) {
                    tracing::info!(
                        listener = %inner.listener,
                        "accepting connections again (below --max-connections {})",
                        inner.max
                    );
                }
                Some(permit)
            }
            Err(_) => {
                if !inner.refusing.swap(true, Relaxed) {
                    tracing::warn!(
                        listener = %inner.listener,
                        "connection limit reached: {} connections open (--max-connections); \
                         refusing new connections until some close",
                        inner.max
                    );
                }
                None
            }
        }
    }
}
