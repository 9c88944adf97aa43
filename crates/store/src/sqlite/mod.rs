//! The embedded backend: one SQLite file in WAL mode, used by one thread of its own, so
//! no database I/O ever runs on an async worker thread.

mod schema;
mod tables;
mod v1;

pub use self::schema::SCHEMA_VERSION;

use std::path::Path;
use std::sync::mpsc;
use std::sync::Mutex;
use std::thread::JoinHandle;

use rusqlite::{Connection, OptionalExtension};

use self::tables::{add_usage, commit, err, get_code, load, load_usage, prune_code, put_code};
use tokio::sync::oneshot;

use crate::backend::{epoch_ms, Backend, BackendFuture, Loaded, RowOp, UsageRow};
use crate::error::{CommitError, StoreError};

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// The database holds private keys (certificates, client certificates): it and its WAL
/// files are readable by their owner only (mode 0600). SQLite gives the `-wal` and `-shm`
/// files it creates the database's mode; existing ones are set here too.
fn private_files(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let fail = |e: std::io::Error| {
            StoreError::Backend(format!("cannot make {} private: {e}", path.display()))
        };
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(fail)?;
        let mut names = vec![path.to_path_buf()];
        for suffix in ["-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            names.push(p.into());
        }
        for p in names.iter().filter(|p| p.exists()) {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).map_err(fail)?;
        }
    }
    Ok(())
}

pub struct SqliteBackend {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl SqliteBackend {
    /// Opens the database (creating it, or migrating an older layout, in one transaction)
    /// and reads its contents.
    pub fn open(path: &Path) -> Result<(Self, Loaded), StoreError> {
        private_files(path)?;
        Self::start(Connection::open(path).map_err(err)?)
    }

    pub fn open_in_memory() -> Result<(Self, Loaded), StoreError> {
        Self::start(Connection::open_in_memory().map_err(err)?)
    }

    fn start(mut conn: Connection) -> Result<(Self, Loaded), StoreError> {
        // WAL + NORMAL: a committed transaction survives a killed process (the WAL is in
        // the OS page cache); only an OS crash can lose the last commits.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        schema::upgrade(&mut conn)?;
        let loaded = load(&mut conn)?;
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("tollgate-sqlite".into())
            .spawn(move || {
                // Ends when the backend (the only sender) is dropped.
                for job in rx {
                    job(&mut conn);
                }
            })
            .map_err(|e| StoreError::Backend(format!("cannot start the SQLite thread: {e}")))?;
        let backend = SqliteBackend {
            jobs: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        };
        Ok((backend, loaded))
    }

    /// Runs `f` on the database thread.
    fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, CommitError> + Send + 'static,
    ) -> BackendFuture<'_, Result<T, CommitError>> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = tx.send(f(conn));
        });
        let sent = self
            .jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|jobs| jobs.send(job).is_ok());
        Box::pin(async move {
            let gone = || StoreError::Backend("the SQLite thread has stopped".into());
            if !sent {
                return Err(gone().into());
            }
            rx.await.map_err(|_| CommitError::from(gone()))?
        })
    }

    /// [`Self::call`] for operations that cannot conflict.
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> BackendFuture<'_, Result<T, StoreError>> {
        let call = self.call(move |conn| f(conn).map_err(CommitError::from));
        Box::pin(async move {
            call.await.map_err(|e| match e {
                CommitError::Store(e) => e,
                CommitError::Conflict { .. } => unreachable!("run never conflicts"),
            })
        })
    }
}

impl Drop for SqliteBackend {
    /// Closes the database before returning, so the file can be reopened at once.
    fn drop(&mut self) {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
    }
}

impl Backend for SqliteBackend {
    fn load(&self) -> BackendFuture<'_, Result<Loaded, StoreError>> {
        self.run(load)
    }

    fn version(&self) -> BackendFuture<'_, Result<u64, StoreError>> {
        self.run(|conn| tables::version(conn))
    }

    fn commit(
        &self,
        base_version: u64,
        ops: Vec<RowOp>,
    ) -> BackendFuture<'_, Result<u64, CommitError>> {
        self.call(move |conn| commit(conn, base_version, &ops))
    }

    fn put_code(
        &self,
        sha256_hex: String,
        zip: bytes::Bytes,
    ) -> BackendFuture<'_, Result<(), StoreError>> {
        self.run(move |conn| put_code(conn, &sha256_hex, &zip, epoch_ms()))
    }

    fn prune_code(
        &self,
        keep: Vec<String>,
        stored_before_ms: i64,
    ) -> BackendFuture<'_, Result<u64, StoreError>> {
        self.run(move |conn| prune_code(conn, &keep, stored_before_ms))
    }

    fn get_code(
        &self,
        sha256_hex: String,
    ) -> BackendFuture<'_, Result<Option<Vec<u8>>, StoreError>> {
        self.run(move |conn| get_code(conn, &sha256_hex))
    }

    fn load_usage(&self) -> BackendFuture<'_, Result<Vec<UsageRow>, StoreError>> {
        self.run(load_usage)
    }

    fn add_usage(&self, deltas: Vec<UsageRow>) -> BackendFuture<'_, Result<(), StoreError>> {
        self.run(move |conn| add_usage(conn, &deltas))
    }
}

/// The schema version of the database at `path`, if it has a `meta` table (tests).
pub fn schema_version(path: &Path) -> Result<Option<i64>, StoreError> {
    let conn = Connection::open(path).map_err(err)?;
    conn.query_row(
        "SELECT value FROM meta WHERE name = 'schema_version'",
        [],
        |r| r.get(0),
    )
    .optional()
    .or_else(|e| match e {
        rusqlite::Error::SqliteFailure(..) => Ok(None),
        e => Err(err(e)),
    })
}

/// Reads a v1 database as it is, without migrating it (to compare a migration against).
pub fn read_v1(path: &Path) -> Result<crate::state::State, StoreError> {
    let mut conn = Connection::open(path).map_err(err)?;
    let tx = conn.transaction().map_err(err)?;
    v1::read(&tx)
}
