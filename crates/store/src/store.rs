//! [`Store`]: the current state in memory, writes through a [`Backend`], and the change
//! feed.

use std::path::Path;
use std::sync::Arc;

use crate::backend::{Backend, Loaded, RowOp, UsageRow};
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

    /// Keeps a function's package for the cluster's other nodes (see
    /// [`Backend::put_code`]).
    pub async fn put_code(&self, sha256_hex: String, zip: bytes::Bytes) -> Result<(), StoreError> {
        self.backend.put_code(sha256_hex, zip).await
    }

    /// Deletes the kept packages no function of the newest committed state runs and that
    /// were last stored before `stored_before_ms` (epoch ms); answers how many went.
    pub async fn prune_code(&self, stored_before_ms: i64) -> Result<u64, StoreError> {
        // The newest state, so a function created through another node keeps its package.
        self.refresh().await?;
        let keep = crate::code::packages(&self.state()).into_keys().collect();
        self.backend.prune_code(keep, stored_before_ms).await
    }

    /// A package another node kept, to unpack here.
    pub async fn get_code(&self, sha256_hex: String) -> Result<Option<Vec<u8>>, StoreError> {
        self.backend.get_code(sha256_hex).await
    }

    /// The shared `Event` queue, when this store keeps one (a cluster's); see
    /// [`Backend::enqueue_event`].
    pub fn event_queue(&self) -> Option<&dyn Backend> {
        self.backend.shares_events().then_some(&*self.backend)
    }

    /// Runs `f` on a copy of the current state; when it succeeds, commits the rows it
    /// changed and publishes the new state. A failed closure or a failed write changes
    /// nothing. When another writer (another node on a shared database) committed first,
    /// `f` runs on the newest committed state instead, with other writers held off, so it
    /// never loses the same race twice (`f` must only decide from the state it is given).
    pub async fn transact<R: Send, E: From<StoreError> + Send>(
        &self,
        mut f: impl FnMut(&mut State) -> Result<R, E> + Send,
    ) -> Result<R, E> {
        let _writer = self.writer.lock().await;
        for _ in 0..MAX_ATTEMPTS {
            let old = self.state();
            let mut decided: Option<Result<R, E>> = None;
            let mut reloaded: Option<Arc<State>> = None;
            let mut written: Option<(u64, Vec<feed::Changed>, State)> = None;
            let prepare = |loaded: Option<Loaded>| -> Result<Option<Vec<RowOp>>, StoreError> {
                let from = match loaded {
                    None => old.clone(),
                    Some(loaded) => {
                        let mut state = rows::decode(loaded)?;
                        reuse::keep_unchanged(&old, &mut state);
                        let state = Arc::new(state);
                        reloaded = Some(state.clone());
                        state
                    }
                };
                let mut new = (*from).clone();
                let out = f(&mut new);
                let ops = match &out {
                    Ok(_) => rows::diff(&from, &new)?,
                    Err(_) => Vec::new(),
                };
                decided = Some(out);
                if ops.is_empty() {
                    return Ok(None);
                }
                written = Some((from.version, feed::changed(&ops), new));
                Ok(Some(ops))
            };
            let result = self
                .backend
                .commit_exclusive(old.version, Box::new(prepare))
                .await;
            if let Some(state) = reloaded {
                self.feed.publish(Change::loaded(state));
            }
            match result {
                Ok(version) => {
                    if let (Some(version), Some((base, changed, mut new))) = (version, written) {
                        new.version = version;
                        let change = Change::committed(base, changed, Arc::new(new));
                        self.feed.publish(change);
                    }
                    return decided.unwrap_or_else(|| {
                        Err(StoreError::Backend("the backend did not run the write".into()).into())
                    });
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
