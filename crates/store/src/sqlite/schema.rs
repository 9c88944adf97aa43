//! The database layout and its migrations.
//!
//! - v1 (no `meta` table): one `rows` table of JSON documents, a whole API definition per
//!   `restapi` row and a full snapshot inside every `deployment` row; the version existed
//!   only in the process.
//! - v2: `meta` (schema version, committed version), `rows` with one row per entity (see
//!   `crate::rows`) and the snapshot each row refers to, `snapshots` by content hash.
//!
//! - v3: `code` (functions' deployment packages by SHA-256, so `tollgate export` carries
//!   them to another store, as Postgres keeps them for a cluster).
//! - v4: `code.stored_at` (epoch ms of the last store), so packages no function runs any
//!   more are deleted once no upload can still be on its way to a commit.
//!
//! `usage` is the same in all. A database is upgraded in one transaction when opened: a
//! failed migration leaves the file as it was.

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::error::StoreError;
use crate::state::State;

use super::tables::{apply, err};
use super::v1;

/// The layout this build writes.
pub const SCHEMA_VERSION: i64 = 4;

const V2_TABLES: &str = "
    CREATE TABLE meta (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE rows (
        kind     TEXT NOT NULL,
        key      TEXT NOT NULL,
        body     TEXT NOT NULL,
        snapshot TEXT,
        PRIMARY KEY (kind, key)
    ) WITHOUT ROWID;
    CREATE INDEX rows_by_snapshot ON rows (snapshot) WHERE snapshot IS NOT NULL;
    CREATE TABLE snapshots (
        hash TEXT PRIMARY KEY,
        body TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS usage (
        plan_id TEXT NOT NULL,
        key_id  TEXT NOT NULL,
        day     INTEGER NOT NULL,
        used    INTEGER NOT NULL,
        PRIMARY KEY (plan_id, key_id, day)
    ) WITHOUT ROWID;
    INSERT INTO meta (name, value) VALUES ('schema_version', 2), ('version', 0);
";

/// A package can be tens of MB: a rowid table keeps large rows out of the b-tree's pages.
const V3_TABLES: &str = "
    CREATE TABLE code (
        sha256 TEXT PRIMARY KEY,
        zip    BLOB NOT NULL
    );
    UPDATE meta SET value = 3 WHERE name = 'schema_version';
";

/// Packages kept from before v4 count as stored long ago.
const V4_CODE_STORED_AT: &str = "
    ALTER TABLE code ADD COLUMN stored_at INTEGER NOT NULL DEFAULT 0;
    UPDATE meta SET value = 4 WHERE name = 'schema_version';
";

fn table_exists(tx: &Transaction, name: &str) -> Result<bool, StoreError> {
    tx.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        params![name],
        |_| Ok(()),
    )
    .optional()
    .map(|r| r.is_some())
    .map_err(err)
}

/// The layout of the open database: 0 for an empty one.
fn current(tx: &Transaction) -> Result<i64, StoreError> {
    if table_exists(tx, "meta")? {
        return tx
            .query_row(
                "SELECT value FROM meta WHERE name = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .map_err(err);
    }
    Ok(if table_exists(tx, "rows")? { 1 } else { 0 })
}

/// Brings the database to [`SCHEMA_VERSION`].
pub(super) fn upgrade(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(err)?;
    let found = current(&tx)?;
    match found {
        0 => tx.execute_batch(V2_TABLES).map_err(err)?,
        1 => v1_to_v2(&tx)?,
        2..=3 => {}
        SCHEMA_VERSION => return Ok(()),
        found => {
            return Err(StoreError::UnsupportedSchema {
                found,
                supported: SCHEMA_VERSION,
            })
        }
    }
    if found < 3 {
        tx.execute_batch(V3_TABLES).map_err(err)?;
    }
    tx.execute_batch(V4_CODE_STORED_AT).map_err(err)?;
    tx.commit().map_err(err)
}

/// Reads the v1 rows into a state and writes that state as v2 rows (through the same
/// encoding every commit uses), snapshots deduplicated.
fn v1_to_v2(tx: &Transaction) -> Result<(), StoreError> {
    let state = v1::read(tx)?;
    tx.execute_batch("ALTER TABLE rows RENAME TO rows_v1;")
        .map_err(err)?;
    tx.execute_batch(V2_TABLES).map_err(err)?;
    let ops = crate::rows::diff(&State::default(), &state)?;
    apply(tx, &ops)?;
    tx.execute_batch("DROP TABLE rows_v1;").map_err(err)?;
    tracing::info!(
        apis = state.apis.len(),
        rows = ops.len(),
        "migrated the store from schema v1 to v2"
    );
    Ok(())
}
