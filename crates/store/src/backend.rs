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
    /// Usage totals per (plan, key, day).
    fn load_usage(&self) -> BackendFuture<'_, Result<Vec<UsageRow>, StoreError>>;
    /// Adds each row's `used` to the stored total (`used = used + delta`), in one
    /// transaction: counts from several nodes add up instead of overwriting each other.
    fn add_usage(&self, deltas: Vec<UsageRow>) -> BackendFuture<'_, Result<(), StoreError>>;
}
