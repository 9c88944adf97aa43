//! The database layout and its migrations, all in the `tollgate` schema of the database
//! (so the tables never collide with an application's own).
//!
//! - v1: `meta` (schema version, committed version), `rows` (one JSON document per entity,
//!   with the deployment snapshot it refers to), `snapshots` (by content hash), `usage`
//!   (requests per plan, key and day). The same rows as the SQLite store's v2 layout.
//! - v2: `code` (functions' deployment packages by SHA-256, so every node can run a
//!   function whatever node it was uploaded to) and `events` (the `Event` invocations
//!   queue, claimed by one node at a time for a lease).
//! - v3: `code.stored_at` (epoch ms of the last store), so packages no function runs any
//!   more are deleted once no upload can still be on its way to a commit.
//!
//! Migrations run in one transaction holding a Postgres advisory lock, so nodes starting
//! at the same time on one database migrate it once and the others wait, then find it
//! current; a failed migration leaves the database as it was.

use tokio_postgres::{Client, Transaction};
use tollgate_store::StoreError;

use crate::connect::pg;

/// `MIGRATIONS[n]` brings the layout from version `n` to `n + 1` (0: an empty database).
const MIGRATIONS: &[&str] = &[
    "
    CREATE SCHEMA IF NOT EXISTS tollgate;
    CREATE TABLE tollgate.meta (
        name  TEXT PRIMARY KEY,
        value BIGINT NOT NULL
    );
    CREATE TABLE tollgate.rows (
        kind     TEXT NOT NULL,
        key      TEXT NOT NULL,
        body     TEXT NOT NULL,
        snapshot TEXT,
        PRIMARY KEY (kind, key)
    );
    CREATE INDEX rows_by_snapshot ON tollgate.rows (snapshot) WHERE snapshot IS NOT NULL;
    CREATE TABLE tollgate.snapshots (
        hash TEXT PRIMARY KEY,
        body TEXT NOT NULL
    );
    CREATE TABLE tollgate.usage (
        plan_id TEXT NOT NULL,
        key_id  TEXT NOT NULL,
        day     BIGINT NOT NULL,
        used    BIGINT NOT NULL,
        PRIMARY KEY (plan_id, key_id, day)
    );
    INSERT INTO tollgate.meta (name, value) VALUES ('schema_version', 0), ('version', 0);
",
    "
    CREATE TABLE tollgate.code (
        sha256 TEXT PRIMARY KEY,
        zip    BYTEA NOT NULL
    );
    CREATE TABLE tollgate.events (
        id            BIGSERIAL PRIMARY KEY,
        body          TEXT NOT NULL,
        attempts      INT NOT NULL DEFAULT 0,
        not_before    BIGINT NOT NULL,
        lease_ms      BIGINT NOT NULL,
        claimed_until BIGINT
    );
",
    // Packages kept from before count as stored long ago.
    "
    ALTER TABLE tollgate.code ADD COLUMN stored_at BIGINT NOT NULL DEFAULT 0;
",
];

/// The layout this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The advisory lock migrations hold ("tollgate" in ASCII): advisory locks are per
/// database, so clusters on other databases of one server do not wait for each other.
const MIGRATION_LOCK: i64 = 0x746f_6c6c_6761_7465;

/// What a migration did ([`crate::migrate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migrated {
    /// The layout found (0: an empty database).
    pub from: i64,
    pub to: i64,
}

/// The layout of the database: 0 when it has no Tollgate tables.
async fn current(tx: &Transaction<'_>) -> Result<i64, StoreError> {
    let exists: bool = tx
        .query_one("SELECT to_regclass('tollgate.meta') IS NOT NULL", &[])
        .await
        .map_err(pg)?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let row = tx
        .query_one(
            "SELECT value FROM tollgate.meta WHERE name = 'schema_version'",
            &[],
        )
        .await
        .map_err(pg)?;
    Ok(row.get(0))
}

/// Brings the database to [`SCHEMA_VERSION`].
pub async fn upgrade(client: &mut Client) -> Result<Migrated, StoreError> {
    upgrade_to(client, SCHEMA_VERSION).await
}

/// Brings the database to layout `target` (an older one only in tests: the layout an
/// earlier Tollgate left).
pub(crate) async fn upgrade_to(client: &mut Client, target: i64) -> Result<Migrated, StoreError> {
    let tx = client.transaction().await.map_err(pg)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg)?;
    let from = current(&tx).await?;
    if !(0..=SCHEMA_VERSION).contains(&from) {
        return Err(StoreError::UnsupportedSchema {
            found: from,
            supported: SCHEMA_VERSION,
        });
    }
    let to = target.clamp(from, SCHEMA_VERSION);
    for (n, migration) in MIGRATIONS
        .iter()
        .enumerate()
        .take(to as usize)
        .skip(from as usize)
    {
        tx.batch_execute(migration).await.map_err(pg)?;
        tracing::info!(from = n, to = n + 1, "migrated the Postgres store");
    }
    if from < to {
        tx.execute(
            "UPDATE tollgate.meta SET value = $1 WHERE name = 'schema_version'",
            &[&to],
        )
        .await
        .map_err(pg)?;
    }
    tx.commit().await.map_err(pg)?;
    Ok(Migrated { from, to })
}
