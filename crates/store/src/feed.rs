//! The change feed: every successful commit is published as a [`Change`] (its version, the
//! rows it wrote and the new state). Consumers (the data plane, the function engine; later
//! metrics or other nodes) subscribe; none is called by the control plane directly.

use std::sync::Arc;

use tokio::sync::watch;

use crate::backend::RowOp;
use crate::state::State;

/// One entity a commit wrote or deleted: its row kind and key (for a deletion of many,
/// the key prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub kind: &'static str,
    pub key: String,
}

/// The entities `ops` write or delete.
pub(crate) fn changed(ops: &[RowOp]) -> Vec<Changed> {
    ops.iter()
        .filter_map(RowOp::target)
        .map(|(kind, key)| Changed {
            kind,
            key: key.to_string(),
        })
        .collect()
}

/// What one commit did.
#[derive(Debug)]
pub struct Change {
    /// The version this change made.
    pub version: u64,
    /// The version it was applied to.
    pub base_version: u64,
    /// What changed from `base_version` to `version`; `None` when the state was (re)loaded
    /// whole (at start, or after another writer's commits), so everything may have changed.
    pub changed: Option<Vec<Changed>>,
    /// The state at `version`.
    pub state: Arc<State>,
}

impl Change {
    pub(crate) fn loaded(state: Arc<State>) -> Change {
        Change {
            version: state.version,
            base_version: state.version,
            changed: None,
            state,
        }
    }

    pub(crate) fn committed(base_version: u64, changed: Vec<Changed>, state: Arc<State>) -> Change {
        Change {
            version: state.version,
            base_version,
            changed: Some(changed),
            state,
        }
    }

    /// Whether this change may have touched rows of `kind`.
    pub fn touches(&self, kind: &str) -> bool {
        self.changed
            .as_ref()
            .is_none_or(|c| c.iter().any(|c| c.kind == kind))
    }
}

/// The publishing side, owned by the store.
pub(crate) struct Feed {
    tx: watch::Sender<Arc<Change>>,
}

impl Feed {
    pub(crate) fn new(first: Change) -> Feed {
        Feed {
            tx: watch::channel(Arc::new(first)).0,
        }
    }

    pub(crate) fn publish(&self, change: Change) {
        self.tx.send_replace(Arc::new(change));
    }

    pub(crate) fn latest(&self) -> Arc<Change> {
        self.tx.borrow().clone()
    }

    pub(crate) fn subscribe(&self) -> Subscription {
        Subscription {
            rx: self.tx.subscribe(),
        }
    }
}

/// One consumer's place in the feed. It always gets the newest change: a consumer slower
/// than the writers skips intermediate ones, and sees that from `base_version` (the
/// version it last saw is older), so it must then compare whole states, as the data plane
/// and the function engine always do (by `Arc` identity).
pub struct Subscription {
    rx: watch::Receiver<Arc<Change>>,
}

impl Subscription {
    /// The newest change, marked as seen.
    pub fn current(&mut self) -> Arc<Change> {
        self.rx.borrow_and_update().clone()
    }

    /// Waits for a change newer than the last one seen; `None` once the store is gone.
    pub async fn next(&mut self) -> Option<Arc<Change>> {
        self.rx.changed().await.ok()?;
        Some(self.rx.borrow_and_update().clone())
    }

    /// Whether a change newer than the last one seen is waiting.
    pub fn has_changed(&self) -> bool {
        self.rx.has_changed().unwrap_or(false)
    }
}
