//! Reading and writing the tables (see `schema.rs`).

use tokio_postgres::{Client, GenericClient, IsolationLevel, Transaction};
use tollgate_store::{CommitError, Loaded, Row, RowOp, StoreError, UsageRow};

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
    tx.commit().await.map_err(pg)?;
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
    let row = tx
        .query_one(
            "SELECT value FROM tollgate.meta WHERE name = 'version' FOR UPDATE",
            &[],
        )
        .await
        .map_err(pg)?;
    let current = to_u64(row.get(0))?;
    if current != base {
        // Dropping the transaction rolls it back.
        return Err(CommitError::Conflict { base, current });
    }
    apply(&tx, ops).await?;
    let next = base + 1;
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
