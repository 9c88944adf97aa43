//! Reading and writing the tables (see `schema.rs`).

use tokio_postgres::{Client, GenericClient, IsolationLevel, Transaction};
use tollgate_store::{
    ClaimedEvent, CommitError, Loaded, Prepare, Row, RowOp, StoreError, UsageRow,
};

use crate::connect::pg;

/// The channel every commit notifies with its new version (see `listen.rs`).
pub(crate) const COMMIT_CHANNEL: &str = "tollgate_commit";

fn to_u64(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Backend(format!("negative store version {v}")))
}

fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Backend(format!("store version {v} out of range")))
}

pub(crate) async fn version(client: &impl GenericClient) -> Result<u64, StoreError> {
    let row = client
        .query_one(
            "SELECT value FROM tollgate.meta WHERE name = 'version'",
            &[],
        )
        .await
        .map_err(pg)?;
    to_u64(row.get(0))
}

/// Everything, read in one repeatable-read transaction: the rows and snapshots are those
/// of the version read with them.
pub(crate) async fn load(client: &mut Client) -> Result<Loaded, StoreError> {
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(pg)?;
    let version = version(&tx).await?;
    let loaded = read(&tx, version).await?;
    tx.commit().await.map_err(pg)?;
    Ok(loaded)
}

/// The rows and snapshots `tx` sees, as of `version`.
async fn read(tx: &Transaction<'_>, version: u64) -> Result<Loaded, StoreError> {
    let rows = tx
        .query("SELECT kind, key, body FROM tollgate.rows", &[])
        .await
        .map_err(pg)?
        .into_iter()
        .map(|r| Row {
            kind: r.get(0),
            key: r.get(1),
            body: r.get(2),
        })
        .collect();
    let snapshots = tx
        .query("SELECT hash, body FROM tollgate.snapshots", &[])
        .await
        .map_err(pg)?
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    Ok(Loaded {
        version,
        rows,
        snapshots,
    })
}

/// Applies `ops` inside `tx`.
async fn apply(tx: &Transaction<'_>, ops: &[RowOp]) -> Result<(), StoreError> {
    let put = tx
        .prepare(
            "INSERT INTO tollgate.rows (kind, key, body, snapshot) VALUES ($1, $2, $3, $4)
             ON CONFLICT (kind, key) DO UPDATE
             SET body = excluded.body, snapshot = excluded.snapshot",
        )
        .await
        .map_err(pg)?;
    let mut deleted = false;
    for op in ops {
        match op {
            RowOp::Put {
                kind,
                key,
                body,
                snapshot,
            } => {
                tx.execute(&put, &[kind, key, body, snapshot])
                    .await
                    .map_err(pg)?;
                // Replacing a row may drop its reference to a snapshot.
                deleted |= snapshot.is_some();
            }
            RowOp::Delete { kind, key } => {
                tx.execute(
                    "DELETE FROM tollgate.rows WHERE kind = $1 AND key = $2",
                    &[kind, key],
                )
                .await
                .map_err(pg)?;
                deleted = true;
            }
            RowOp::DeletePrefix { kind, prefix } => {
                tx.execute(
                    "DELETE FROM tollgate.rows WHERE kind = $1 AND starts_with(key, $2)",
                    &[kind, prefix],
                )
                .await
                .map_err(pg)?;
                deleted = true;
            }
            RowOp::PutSnapshot { hash, body } => {
                tx.execute(
                    "INSERT INTO tollgate.snapshots (hash, body) VALUES ($1, $2)
                     ON CONFLICT DO NOTHING",
                    &[hash, body],
                )
                .await
                .map_err(pg)?;
            }
        }
    }
    if deleted {
        // A snapshot lives as long as a row refers to it.
        tx.execute(
            "DELETE FROM tollgate.snapshots s WHERE NOT EXISTS
             (SELECT 1 FROM tollgate.rows r WHERE r.snapshot = s.hash)",
            &[],
        )
        .await
        .map_err(pg)?;
    }
    Ok(())
}

/// Applies `ops` if the committed version is still `base`. The version row is locked
/// first (`FOR UPDATE`), so writers on every node take turns and the check and the write
/// are one step; the notification goes out when the transaction commits.
pub(crate) async fn commit(
    client: &mut Client,
    base: u64,
    ops: &[RowOp],
) -> Result<u64, CommitError> {
    let tx = client.transaction().await.map_err(pg)?;
    let current = lock_version(&tx).await?;
    if current != base {
        // Dropping the transaction rolls it back.
        return Err(CommitError::Conflict { base, current });
    }
    finish(tx, ops, current + 1).await
}

/// [`commit`] with the decision made under the version row's lock: when `base` is not the
/// committed version, `prepare` decides from the rows read inside this transaction (every
/// writer takes the lock first, so they are the newest), and no other node can commit
/// before this one does.
pub(crate) async fn commit_exclusive(
    client: &mut Client,
    base: u64,
    prepare: Prepare<'_>,
) -> Result<Option<u64>, CommitError> {
    let tx = client.transaction().await.map_err(pg)?;
    let current = lock_version(&tx).await?;
    let loaded = if current == base {
        None
    } else {
        Some(read(&tx, current).await?)
    };
    match prepare(loaded)? {
        Some(ops) => finish(tx, &ops, current + 1).await.map(Some),
        None => Ok(None),
    }
}

/// Reads the committed version, holding its row until `tx` ends.
async fn lock_version(tx: &Transaction<'_>) -> Result<u64, StoreError> {
    let row = tx
        .query_one(
            "SELECT value FROM tollgate.meta WHERE name = 'version' FOR UPDATE",
            &[],
        )
        .await
        .map_err(pg)?;
    to_u64(row.get(0))
}

/// Applies `ops`, sets the version to `next`, and commits with the notification.
async fn finish(tx: Transaction<'_>, ops: &[RowOp], next: u64) -> Result<u64, CommitError> {
    apply(&tx, ops).await?;
    tx.execute(
        "UPDATE tollgate.meta SET value = $1 WHERE name = 'version'",
        &[&to_i64(next)?],
    )
    .await
    .map_err(pg)?;
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&COMMIT_CHANNEL, &next.to_string()],
    )
    .await
    .map_err(pg)?;
    tx.commit().await.map_err(pg)?;
    Ok(next)
}

pub(crate) async fn put_code(client: &Client, sha256: &str, zip: &[u8]) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO tollgate.code (sha256, zip, stored_at) VALUES ($1, $2, $3)
             ON CONFLICT (sha256) DO UPDATE SET stored_at = EXCLUDED.stored_at",
            &[&sha256, &zip, &tollgate_store::epoch_ms()],
        )
        .await
        .map_err(pg)?;
    Ok(())
}

pub(crate) async fn prune_code(
    client: &Client,
    keep: &[String],
    stored_before_ms: i64,
) -> Result<u64, StoreError> {
    client
        .execute(
            "DELETE FROM tollgate.code WHERE stored_at < $1 AND NOT (sha256 = ANY($2))",
            &[&stored_before_ms, &keep],
        )
        .await
        .map_err(pg)
}

pub(crate) async fn get_code(client: &Client, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(client
        .query_opt(
            "SELECT zip FROM tollgate.code WHERE sha256 = $1",
            &[&sha256],
        )
        .await
        .map_err(pg)?
        .map(|r| r.get(0)))
}

pub(crate) async fn enqueue_event(
    client: &Client,
    body: &str,
    not_before: i64,
    lease_ms: i64,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO tollgate.events (body, not_before, lease_ms) VALUES ($1, $2, $3)",
            &[&body, &not_before, &lease_ms],
        )
        .await
        .map_err(pg)?;
    Ok(())
}

/// Claims the oldest due event no live claim holds. `SKIP LOCKED`: nodes claiming at
/// once take different events instead of waiting on each other.
pub(crate) async fn claim_event(
    client: &Client,
    now: i64,
) -> Result<Option<ClaimedEvent>, StoreError> {
    let row = client
        .query_opt(
            "UPDATE tollgate.events SET claimed_until = $1 + lease_ms
             WHERE id = (
                 SELECT id FROM tollgate.events
                 WHERE not_before <= $1 AND (claimed_until IS NULL OR claimed_until < $1)
                 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING id, body, attempts",
            &[&now],
        )
        .await
        .map_err(pg)?;
    Ok(row.map(|r| ClaimedEvent {
        id: r.get(0),
        body: r.get(1),
        attempts: r.get(2),
    }))
}

pub(crate) async fn finish_event(client: &Client, id: i64) -> Result<(), StoreError> {
    client
        .execute("DELETE FROM tollgate.events WHERE id = $1", &[&id])
        .await
        .map_err(pg)?;
    Ok(())
}

pub(crate) async fn retry_event(
    client: &Client,
    id: i64,
    attempts: i32,
    not_before: i64,
) -> Result<(), StoreError> {
    client
        .execute(
            "UPDATE tollgate.events SET attempts = $2, not_before = $3, claimed_until = NULL
             WHERE id = $1",
            &[&id, &attempts, &not_before],
        )
        .await
        .map_err(pg)?;
    Ok(())
}

pub(crate) async fn load_usage(client: &Client) -> Result<Vec<UsageRow>, StoreError> {
    Ok(client
        .query("SELECT plan_id, key_id, day, used FROM tollgate.usage", &[])
        .await
        .map_err(pg)?
        .into_iter()
        .map(|r| UsageRow {
            plan_id: r.get(0),
            key_id: r.get(1),
            day: r.get(2),
            used: r.get(3),
        })
        .collect())
}

/// Adds the increments in one transaction (`used = used + delta`), so counts from
/// several nodes add up.
pub(crate) async fn add_usage(client: &mut Client, deltas: &[UsageRow]) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(pg)?;
    let add = tx
        .prepare(
            "INSERT INTO tollgate.usage (plan_id, key_id, day, used) VALUES ($1, $2, $3, $4)
             ON CONFLICT (plan_id, key_id, day) DO UPDATE SET used = usage.used + excluded.used",
        )
        .await
        .map_err(pg)?;
    for r in deltas {
        tx.execute(&add, &[&r.plan_id, &r.key_id, &r.day, &r.used])
            .await
            .map_err(pg)?;
    }
    tx.commit().await.map_err(pg)
}
