//! [`Store`]: the current state in memory, writes through a [`Backend`], and the change
//! feed.

use std::path::Path;
use std::sync::Arc;

use crate::backend::{Backend, Loaded, UsageRow};
use crate::error::{CommitError, StoreError};
use crate::feed::{self, Change, Feed, Subscription};
use crate::reuse;
use crate::rows;
use crate::sqlite::SqliteBackend;
use crate::state::State;

/// How many times a write is re-run when other writers commit first.
const MAX_ATTEMPTS: usize = 16;

pub struct Store {
    backend: Arc<dyn Backend>,
    /// Serialises this process's writers, so they never conflict with each other: only
    /// another process or node sharing the backend can make a commit conflict.
    writer: tokio::sync::Mutex<()>,
    feed: Feed,
}

impl Store {
    /// Opens (creating or migrating if needed) the SQLite store in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        // A new data directory is its owner's only (it holds the database and code).
        let mut dir = std::fs::DirBuilder::new();
        dir.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut dir, 0o700);
        dir.create(data_dir).map_err(|e| {
            StoreError::Backend(format!("cannot create {}: {e}", data_dir.display()))
        })?;
        let (backend, loaded) = SqliteBackend::open(&data_dir.join("tollgate.db"))?;
        Store::with_loaded(Arc::new(backend), loaded)
    }

    /// A store over `backend`, loading its state.
    pub async fn connect(backend: Arc<dyn Backend>) -> Result<Store, StoreError> {
        let loaded = backend.load().await?;
        Store::with_loaded(backend, loaded)
    }

    /// A store over `backend` whose contents were just read as `loaded`.
    pub fn with_loaded(backend: Arc<dyn Backend>, loaded: Loaded) -> Result<Store, StoreError> {
        let state = Arc::new(rows::decode(loaded)?);
        Ok(Store {
            backend,
            writer: tokio::sync::Mutex::new(()),
            feed: Feed::new(Change::loaded(state)),
        })
    }

    /// The current snapshot.
    pub fn state(&self) -> Arc<State> {
        self.feed.latest().state.clone()
    }

    /// The change feed, from the current change on.
    pub fn subscribe(&self) -> Subscription {
        self.feed.subscribe()
    }

    /// Usage totals as saved.
    pub async fn load_usage(&self) -> Result<Vec<UsageRow>, StoreError> {
        self.backend.load_usage().await
    }

    /// Adds counts to the saved usage totals (each row's `used` is an increment).
    pub async fn add_usage(&self, deltas: Vec<UsageRow>) -> Result<(), StoreError> {
        if deltas.is_empty() {
            return Ok(());
        }
        self.backend.add_usage(deltas).await
    }

    /// Runs `f` on a copy of the current state; when it succeeds, commits the rows it
    /// changed and publishes the new state. A failed closure or a failed write changes
    /// nothing. When another writer committed first, the state is reloaded and `f` runs
    /// again on it (so `f` must only decide from the state it is given).
    pub async fn transact<R, E: From<StoreError>>(
        &self,
        mut f: impl FnMut(&mut State) -> Result<R, E>,
    ) -> Result<R, E> {
        let _writer = self.writer.lock().await;
        // Start from the newest committed state: on a cluster node the feed may not have
        // brought another node's commit yet, and a write that checks what exists (a parent
        // resource, an API) must see it rather than answer NotFound.
        if self.backend.version().await? > self.state().version {
            self.reload().await?;
        }
        for _ in 0..MAX_ATTEMPTS {
            let old = self.state();
            let mut new = (*old).clone();
            let out = f(&mut new)?;
            let ops = rows::diff(&old, &new)?;
            if ops.is_empty() {
                return Ok(out);
            }
            let changed = feed::changed(&ops);
            match self.backend.commit(old.version, ops).await {
                Ok(version) => {
                    new.version = version;
                    let change = Change::committed(old.version, changed, Arc::new(new));
                    self.feed.publish(change);
                    return Ok(out);
                }
                Err(CommitError::Conflict { base, current }) => {
                    tracing::debug!(base, current, "write conflicted; reloading the state");
                    self.reload().await?;
                }
                Err(CommitError::Store(e)) => return Err(e.into()),
            }
        }
        Err(StoreError::Contention(MAX_ATTEMPTS).into())
    }

    /// Catches up with commits made by other writers (other nodes on a shared database):
    /// when the backend's version is ahead of ours, the state is reloaded and published on
    /// the feed as a whole. Returns whether it was. Taken under the writer lock, so a
    /// reload never publishes a state older than a commit of this process.
    pub async fn refresh(&self) -> Result<bool, StoreError> {
        let _writer = self.writer.lock().await;
        if self.backend.version().await? <= self.state().version {
            return Ok(false);
        }
        self.reload().await?;
        Ok(true)
    }

    /// Replaces the state with the backend's (after other writers committed).
    async fn reload(&self) -> Result<(), StoreError> {
        let mut state = rows::decode(self.backend.load().await?)?;
        reuse::keep_unchanged(&self.state(), &mut state);
        self.feed.publish(Change::loaded(Arc::new(state)));
        Ok(())
    }
}
