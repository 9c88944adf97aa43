//! Reading and writing the tables (see `schema.rs`).

use rusqlite::{params, Connection, OptionalExtension};

use crate::backend::{Loaded, Row, RowOp, UsageRow};
use crate::error::{CommitError, StoreError};

pub(super) fn err(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// The committed version.
pub(super) fn version(conn: &Connection) -> Result<u64, StoreError> {
    let v: i64 = conn
        .query_row("SELECT value FROM meta WHERE name = 'version'", [], |r| {
            r.get(0)
        })
        .map_err(err)?;
    Ok(v as u64)
}

pub(super) fn set_version(conn: &Connection, version: u64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE meta SET value = ?1 WHERE name = 'version'",
        params![version as i64],
    )
    .map_err(err)?;
    Ok(())
}

pub(super) fn load(conn: &mut Connection) -> Result<Loaded, StoreError> {
    let tx = conn.transaction().map_err(err)?;
    let version = version(&tx)?;
    let rows = {
        let mut stmt = tx
            .prepare("SELECT kind, key, body FROM rows")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Row {
                    kind: r.get(0)?,
                    key: r.get(1)?,
                    body: r.get(2)?,
                })
            })
            .map_err(err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(err)?
    };
    let snapshots = {
        let mut stmt = tx
            .prepare("SELECT hash, body FROM snapshots")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(err)?
    };
    Ok(Loaded {
        version,
        rows,
        snapshots,
    })
}

/// Applies `ops` inside `tx`.
pub(super) fn apply(tx: &rusqlite::Transaction, ops: &[RowOp]) -> Result<(), StoreError> {
    let mut deleted = false;
    for op in ops {
        match op {
            RowOp::Put {
                kind,
                key,
                body,
                snapshot,
            } => {
                tx.prepare_cached(
                    "INSERT INTO rows (kind, key, body, snapshot) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (kind, key) DO UPDATE
                     SET body = excluded.body, snapshot = excluded.snapshot",
                )
                .and_then(|mut s| s.execute(params![kind, key, body, snapshot]))
                .map_err(err)?;
                // Replacing a row may drop its reference to a snapshot.
                deleted |= snapshot.is_some();
            }
            RowOp::Delete { kind, key } => {
                tx.execute(
                    "DELETE FROM rows WHERE kind = ?1 AND key = ?2",
                    params![kind, key],
                )
                .map_err(err)?;
                deleted = true;
            }
            RowOp::DeletePrefix { kind, prefix } => {
                tx.execute(
                    "DELETE FROM rows WHERE kind = ?1 AND substr(key, 1, length(?2)) = ?2",
                    params![kind, prefix],
                )
                .map_err(err)?;
                deleted = true;
            }
            RowOp::PutSnapshot { hash, body } => {
                tx.execute(
                    "INSERT INTO snapshots (hash, body) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    params![hash, body],
                )
                .map_err(err)?;
            }
        }
    }
    if deleted {
        // A snapshot lives as long as a row refers to it.
        tx.execute(
            "DELETE FROM snapshots WHERE hash NOT IN
             (SELECT snapshot FROM rows WHERE snapshot IS NOT NULL)",
            [],
        )
        .map_err(err)?;
    }
    Ok(())
}

pub(super) fn commit(conn: &mut Connection, base: u64, ops: &[RowOp]) -> Result<u64, CommitError> {
    // IMMEDIATE: take the write lock before reading the version, so no other connection
    // can commit between the check and the write.
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(err)?;
    let current = version(&tx)?;
    if current != base {
        return Err(CommitError::Conflict { base, current });
    }
    apply(&tx, ops)?;
    let next = base + 1;
    set_version(&tx, next)?;
    tx.commit().map_err(err)?;
    Ok(next)
}

pub(super) fn load_usage(conn: &mut Connection) -> Result<Vec<UsageRow>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT plan_id, key_id, day, used FROM usage")
        .map_err(err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(UsageRow {
                plan_id: r.get(0)?,
                key_id: r.get(1)?,
                day: r.get(2)?,
                used: r.get(3)?,
            })
        })
        .map_err(err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(err)
}

pub(super) fn add_usage(conn: &mut Connection, deltas: &[UsageRow]) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(err)?;
    {
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO usage (plan_id, key_id, day, used) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (plan_id, key_id, day) DO UPDATE SET used = used + excluded.used",
            )
            .map_err(err)?;
        for r in deltas {
            stmt.execute(params![r.plan_id, r.key_id, r.day, r.used])
                .map_err(err)?;
        }
    }
    tx.commit().map_err(err)
}

pub(super) fn put_code(
    conn: &mut Connection,
    sha256: &str,
    zip: &[u8],
    now_ms: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO code (sha256, zip, stored_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (sha256) DO UPDATE SET stored_at = excluded.stored_at",
        params![sha256, zip, now_ms],
    )
    .map_err(err)?;
    Ok(())
}

pub(super) fn prune_code(
    conn: &mut Connection,
    keep: &[String],
    stored_before_ms: i64,
) -> Result<u64, StoreError> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(err)?;
    let old: Vec<String> = {
        let mut stmt = tx
            .prepare("SELECT sha256 FROM code WHERE stored_at < ?1")
            .map_err(err)?;
        let rows = stmt
            .query_map(params![stored_before_ms], |r| r.get(0))
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)?
    };
    let mut gone = 0;
    for sha256 in old.iter().filter(|s| !keep.contains(s)) {
        gone += tx
            .execute("DELETE FROM code WHERE sha256 = ?1", params![sha256])
            .map_err(err)? as u64;
    }
    tx.commit().map_err(err)?;
    Ok(gone)
}

pub(super) fn get_code(conn: &mut Connection, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
    conn.query_row(
        "SELECT zip FROM code WHERE sha256 = ?1",
        params![sha256],
        |r| r.get(0),
    )
    .optional()
    .map_err(err)
}
