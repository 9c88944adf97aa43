//! The store's errors.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage error: {0}")]
    Backend(String),
    #[error("corrupt row {kind}/{key}: {reason}")]
    Corrupt {
        kind: String,
        key: String,
        reason: String,
    },
    /// The database was written by a newer Tollgate (or is not ours).
    #[error(
        "database schema version {found} is not supported (this build knows up to {supported})"
    )]
    UnsupportedSchema { found: i64, supported: i64 },
    /// Other writers kept committing first; the write was given up.
    #[error("the store is too busy: the write conflicted {0} times in a row")]
    Contention(usize),
}

/// Why a commit was not applied.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// Someone else committed since `base`: reload and retry.
    #[error("conflict: the write was based on version {base} but the store is at {current}")]
    Conflict { base: u64, current: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}
