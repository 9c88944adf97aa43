//! The seam between the store and where its rows are kept: SQLite in one process
//! ([`crate::sqlite::SqliteBackend`]), or a shared database for a cluster (Postgres, in the
//! `tollgate-store-postgres` crate). A backend
//! knows rows, snapshots, versions and usage counters, never the model: the store turns
//! the state into rows ([`crate::rows`]) and back.

use std::future::Future;
use std::pin::Pin;

use crate::error::{CommitError, StoreError};

/// What a backend call returns. Boxed: backends are chosen at run time and these calls are
/// the control plane's (a few per write), never the data plane's.
pub type BackendFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One stored entity: a JSON document keyed by (kind, key).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub kind: String,
    pub key: String,
    pub body: String,
}

/// A change to persist, part of one atomic commit.
#[derive(Debug, Clone, PartialEq)]
pub enum RowOp {
    /// Inserts or replaces a row. `snapshot` is the content hash of the deployment snapshot
    /// the row refers to, if any (it keeps that snapshot alive).
    Put {
        kind: &'static str,
        key: String,
        body: String,
        snapshot: Option<String>,
    },
    Delete {
        kind: &'static str,
        key: String,
    },
    /// Deletes every row of `kind` whose key starts with `prefix`.
    DeletePrefix {
        kind: &'static str,
        prefix: String,
    },
    /// Stores a deployment snapshot under its content hash, unless it is already there.
    /// Snapshots no row refers to any more are deleted by the commit that drops the last
    /// reference.
    PutSnapshot {
        hash: String,
        body: String,
    },
}

impl RowOp {
    /// The (kind, key) this op writes or deletes; `None` for a snapshot, which is content.
    pub fn target(&self) -> Option<(&'static str, &str)> {
        match self {
            RowOp::Put { kind, key, .. } | RowOp::Delete { kind, key } => Some((kind, key)),
            RowOp::DeletePrefix { kind, prefix } => Some((kind, prefix)),
            RowOp::PutSnapshot { .. } => None,
        }
    }
}

/// Everything a backend holds, at one version.
#[derive(Debug, Default)]
pub struct Loaded {
    pub version: u64,
    pub rows: Vec<Row>,
    /// Deployment snapshots: (content hash, canonical JSON).
    pub snapshots: Vec<(String, String)>,
}

/// Requests of one API key under one plan on one day (UTC).
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRow {
    pub plan_id: String,
    pub key_id: String,
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    /// A total when loaded; an amount to add when saved.
    pub used: i64,
}

/// An `Event` invocation a node claimed from a shared queue.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedEvent {
    pub id: i64,
    pub body: String,
    /// Runs that failed so far.
    pub attempts: i32,
}

fn no_event_queue() -> StoreError {
    StoreError::Backend("this store keeps no event queue".into())
}

/// Decides a commit from what is committed (see [`Backend::commit_exclusive`]).
pub type Prepare<'a> =
    Box<dyn FnOnce(Option<Loaded>) -> Result<Option<Vec<RowOp>>, StoreError> + Send + 'a>;

pub trait Backend: Send + Sync {
    /// Everything stored, at the current version.
    fn load(&self) -> BackendFuture<'_, Result<Loaded, StoreError>>;
    /// The committed version alone: a cheap check of whether another writer committed.
    fn version(&self) -> BackendFuture<'_, Result<u64, StoreError>>;
    /// Applies `ops` atomically if the stored version is still `base_version`, and returns
    /// the new version (`base_version + 1`). The version check and the write are one
    /// transaction, so two writers (two processes, or two nodes on one database) can never
    /// both win from the same base.
    fn commit(
        &self,
        base_version: u64,
        ops: Vec<RowOp>,
    ) -> BackendFuture<'_, Result<u64, CommitError>>;
    /// Commits what `prepare` decides with every other writer held off, so a writer that
    /// lost a race once cannot lose again (two nodes writing the same API take turns
    /// instead of starving one another). `prepare` gets `None` when `base_version` is still
    /// the committed version, else everything committed now (to decide from afresh); it
    /// returns the ops to apply, or `None` to write nothing. Returns the new version, or
    /// `None` when nothing was written.
    ///
    /// The default suits a backend whose writers all live in this process (they already
    /// take turns on the store's lock): it reloads when behind and commits, and another
    /// process's commit in between still answers [`CommitError::Conflict`].
    fn commit_exclusive<'a>(
        &'a self,
        base_version: u64,
        prepare: Prepare<'a>,
    ) -> BackendFuture<'a, Result<Option<u64>, CommitError>> {
        Box::pin(async move {
            let current = self.version().await?;
            let loaded = if current == base_version {
                None
            } else {
                Some(self.load().await?)
            };
            let base = loaded.as_ref().map_or(base_version, |l| l.version);
            match prepare(loaded)? {
                Some(ops) => self.commit(base, ops).await.map(Some),
                None => Ok(None),
            }
        })
    }
    /// Keeps a function's deployment package (a zip) under its SHA-256 (hex), for the
    /// other nodes of a cluster to unpack and for `tollgate export` to carry; storing the
    /// same bytes twice keeps one copy. The default keeps nothing (test backends).
    fn put_code(
        &self,
        _sha256_hex: String,
        _zip: bytes::Bytes,
    ) -> BackendFuture<'_, Result<(), StoreError>> {
        Box::pin(std::future::ready(Ok(())))
    }
    /// Deletes the packages stored before `stored_before_ms` (epoch ms) that are not in
    /// `keep` (hex SHA-256) and answers how many went. Storing a package again counts as
    /// storing it then, so a package uploaded for a commit still on its way is not taken
    /// while the cut-off is older than any upload's commit. The default keeps none.
    fn prune_code(
        &self,
        _keep: Vec<String>,
        _stored_before_ms: i64,
    ) -> BackendFuture<'_, Result<u64, StoreError>> {
        Box::pin(std::future::ready(Ok(0)))
    }
    /// The package kept under `sha256_hex`, if any.
    fn get_code(
        &self,
        _sha256_hex: String,
    ) -> BackendFuture<'_, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(std::future::ready(Ok(None)))
    }
    /// Whether `Event` invocations are queued here, shared by every node (else each node
    /// keeps its own queue in its data dir).
    fn shares_events(&self) -> bool {
        false
    }
    /// Queues one event (`body` is the functions engine's), to run from `not_before_ms`
    /// (epoch ms); a node that claims it has `lease_ms` to finish or retry it, after which
    /// another node may run it.
    fn enqueue_event(
        &self,
        _body: String,
        _not_before_ms: i64,
        _lease_ms: i64,
    ) -> BackendFuture<'_, Result<(), StoreError>> {
        Box::pin(std::future::ready(Err(no_event_queue())))
    }
    /// Claims the oldest event due at `now_ms` that no node holds (or whose holder's lease
    /// ran out), for its lease; no other node claims it meanwhile.
    fn claim_event(
        &self,
        _now_ms: i64,
    ) -> BackendFuture<'_, Result<Option<ClaimedEvent>, StoreError>> {
        Box::pin(std::future::ready(Err(no_event_queue())))
    }
    /// The claimed event ran (or is given up): it leaves the queue.
    fn finish_event(&self, _id: i64) -> BackendFuture<'_, Result<(), StoreError>> {
        Box::pin(std::future::ready(Err(no_event_queue())))
    }
    /// The claimed event failed: it runs again from `not_before_ms`, on any node.
    fn retry_event(
        &self,
        _id: i64,
        _attempts: i32,
        _not_before_ms: i64,
    ) -> BackendFuture<'_, Result<(), StoreError>> {
        Box::pin(std::future::ready(Err(no_event_queue())))
    }
    /// Usage totals per (plan, key, day).
    fn load_usage(&self) -> BackendFuture<'_, Result<Vec<UsageRow>, StoreError>>;
    /// Adds each row's `used` to the stored total (`used = used + delta`), in one
    /// transaction: counts from several nodes add up instead of overwriting each other.
    fn add_usage(&self, deltas: Vec<UsageRow>) -> BackendFuture<'_, Result<(), StoreError>>;
}

/// Now as epoch milliseconds: when a package was stored ([`Backend::put_code`]).
pub fn epoch_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
