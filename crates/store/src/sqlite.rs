//! The embedded backend: one SQLite file in WAL mode.

use std::path::Path;

use rusqlite::{params, Connection};

use crate::{Backend, RowOp, StoreError, UsageRow};

pub struct SqliteBackend {
    conn: Connection,
}

fn err(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SqliteBackend {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(err)?;
        Self::init(conn)
    }

    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(err)?)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        // WAL + NORMAL: a committed transaction survives a killed process (the WAL is in
        // the OS page cache); only an OS crash can lose the last commits.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS rows (
                kind TEXT NOT NULL,
                key  TEXT NOT NULL,
                body TEXT NOT NULL,
                PRIMARY KEY (kind, key)
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS usage (
                plan_id TEXT NOT NULL,
                key_id  TEXT NOT NULL,
                day     INTEGER NOT NULL,
                used    INTEGER NOT NULL,
                PRIMARY KEY (plan_id, key_id, day)
            ) WITHOUT ROWID;",
        )
        .map_err(err)?;
        Ok(SqliteBackend { conn })
    }
}

impl Backend for SqliteBackend {
    fn load(&mut self) -> Result<Vec<(String, String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT kind, key, body FROM rows")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(err)
    }

    fn apply(&mut self, ops: &[RowOp]) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(err)?;
        for op in ops {
            match op {
                RowOp::Put { kind, key, body } => tx
                    .execute(
                        "INSERT INTO rows (kind, key, body) VALUES (?1, ?2, ?3)
                         ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body",
                        params![kind, key, body],
                    )
                    .map_err(err)?,
                RowOp::Delete { kind, key } => tx
                    .execute(
                        "DELETE FROM rows WHERE kind = ?1 AND key = ?2",
                        params![kind, key],
                    )
                    .map_err(err)?,
                RowOp::DeletePrefix { kind, prefix } => tx
                    .execute(
                        "DELETE FROM rows WHERE kind = ?1 AND substr(key, 1, length(?2)) = ?2",
                        params![kind, prefix],
                    )
                    .map_err(err)?,
            };
        }
        tx.commit().map_err(err)
    }

    fn load_usage(&mut self) -> Result<Vec<UsageRow>, StoreError> {
        let mut stmt = self
            .conn
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

    fn save_usage(&mut self, rows: &[UsageRow]) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO usage (plan_id, key_id, day, used) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (plan_id, key_id, day) DO UPDATE SET used = excluded.used",
                )
                .map_err(err)?;
            for r in rows {
                stmt.execute(params![r.plan_id, r.key_id, r.day, r.used])
                    .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }
}
