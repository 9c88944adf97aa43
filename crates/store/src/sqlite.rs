//! The embedded backend: one SQLite file in WAL mode.

use std::path::Path;

use rusqlite::{params, Connection};

use crate::{Backend, RowOp, StoreError};

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
}
