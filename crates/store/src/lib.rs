//! Tollgate's persistent state.
//!
//! The whole control-plane state lives in memory as an immutable [`State`] snapshot that
//! readers share by `Arc` ([`Store::state`]). A write ([`Store::transact`], async) runs a
//! closure on a private copy; when it succeeds, the rows that changed ([`rows::diff`]: by
//! `Arc` identity between entities, by value inside a changed API) are committed through
//! the [`Backend`] as one `commit(base_version, ops)`, which fails with a conflict if
//! another writer committed since `base_version`; the store then reloads and runs the
//! closure again. Only a committed write is published, on the change feed ([`feed`]):
//! its version, the rows it changed, and the new state. The gateway and the function engine
//! follow the feed.
//!
//! The embedded backend is SQLite ([`SqliteBackend`]), used by a thread of its own so no
//! database I/O runs on async threads. Rows are JSON documents, one per entity (a resource,
//! a method, a model, a stage...), in the model's serde shape, so the database is readable
//! with the sqlite3 shell; deployment snapshots are stored once per content hash. The
//! layout has a schema version and migrations (`sqlite/schema.rs`).
//!
//! Counters and buckets are not state: usage counters ([`usage`]) are counted in memory
//! and saved as increments, so several writers add up; throttle buckets ([`throttle`]) are
//! local GCRA buckets. Both are seams (traits) whose per-request call is synchronous and
//! lock-free locally; a shared implementation (Redis, crate `tollgate-store-redis`) answers
//! a [`limit::Decision`] that waits for one round trip only when its local share is spent.

mod backend;
pub mod code;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod error;
pub mod feed;
pub mod files;
pub mod limit;
mod reuse;
mod row_ops;
pub mod rows;
mod rows_domains;
mod rows_iam;
mod rows_v2;
pub mod sqlite;
mod state;
mod store;
pub mod throttle;
pub mod transfer;
pub mod usage;

pub use backend::{
    epoch_ms, Backend, BackendFuture, ClaimedEvent, Loaded, Prepare, Row, RowOp, UsageRow,
};
pub use error::{CommitError, StoreError};
pub use feed::{Change, Changed, Subscription};
pub use sqlite::SqliteBackend;
pub use state::{ApiState, DomainsState, IamState, State, V2ApiState};
pub use store::Store;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_v2;
