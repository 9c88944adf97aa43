//! The Postgres backend of Tollgate's store: several `tollgate serve` nodes share one
//! database and behave as one API Gateway.
//!
//! It keeps the same rows as the embedded SQLite store (one JSON document per entity,
//! deployment snapshots by content hash, usage increments), in the `tollgate` schema
//! (`schema.rs`, migrated under an advisory lock). A commit locks the version row, checks
//! it, applies the rows and bumps it in one transaction, and notifies the other nodes
//! (`LISTEN/NOTIFY`, `listen.rs`), which reload and publish the new state on their own
//! change feed.
//!
//! The store calls a backend a few times per control-plane write and once a second for
//! usage, never per data-plane request, so one connection (re-opened when it breaks)
//! is enough; the listener has its own.

mod connect;
mod listen;
mod schema;
mod tables;
pub mod testing;

use std::sync::Arc;

use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};
use tokio_postgres::Client;
use tollgate_store::{
    Backend, BackendFuture, ClaimedEvent, CommitError, Loaded, Prepare, RowOp, Store, StoreError,
    UsageRow,
};

use crate::connect::Target;

pub use listen::follow;
pub use schema::{Migrated, SCHEMA_VERSION};

/// Whether `store` names a Postgres database (`postgres://` or `postgresql://`).
pub fn is_postgres_url(store: &str) -> bool {
    store.starts_with("postgres://") || store.starts_with("postgresql://")
}

/// Creates or upgrades the schema of the database at `url`.
pub async fn migrate(url: &str) -> Result<Migrated, StoreError> {
    let target = Target::parse(url)?;
    schema::upgrade(&mut target.client().await?).await
}

pub struct PostgresBackend {
    target: Target,
    /// The connection, opened again on the next call after it broke.
    client: Mutex<Option<Client>>,
}

impl PostgresBackend {
    /// Connects to the database at `url`, migrating it first (under the advisory lock),
    /// and reads its contents.
    pub async fn connect(url: &str) -> Result<(PostgresBackend, Loaded), StoreError> {
        let target = Target::parse(url)?;
        let mut client = target.client().await?;
        schema::upgrade(&mut client).await?;
        let loaded = tables::load(&mut client).await?;
        let backend = PostgresBackend {
            target,
            client: Mutex::new(Some(client)),
        };
        Ok((backend, loaded))
    }

    /// A store over the database at `url` (migrated and loaded).
    pub async fn open_store(url: &str) -> Result<Store, StoreError> {
        let (backend, loaded) = PostgresBackend::connect(url).await?;
        Store::with_loaded(Arc::new(backend), loaded)
    }

    /// The connection (held until the guard is dropped), opened again if it is closed.
    async fn client(&self) -> Result<MappedMutexGuard<'_, Client>, StoreError> {
        let mut guard = self.client.lock().await;
        if guard.as_ref().is_none_or(Client::is_closed) {
            *guard = None;
            *guard = Some(self.target.client().await?);
        }
        MutexGuard::try_map(guard, Option::as_mut)
            .map_err(|_| StoreError::Backend("no Postgres connection".into()))
    }
}

impl Backend for PostgresBackend {
    fn load(&self) -> BackendFuture<'_, Result<Loaded, StoreError>> {
        Box::pin(async move { tables::load(&mut *self.client().await?).await })
    }

    fn version(&self) -> BackendFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move { tables::version(&*self.client().await?).await })
    }

    fn commit(
        &self,
        base_version: u64,
        ops: Vec<RowOp>,
    ) -> BackendFuture<'_, Result<u64, CommitError>> {
        Box::pin(
            async move { tables::commit(&mut *self.client().await?, base_version, &ops).await },
        )
    }

    fn commit_exclusive<'a>(
        &'a self,
        base_version: u64,
        prepare: Prepare<'a>,
    ) -> BackendFuture<'a, Result<Option<u64>, CommitError>> {
        Box::pin(async move {
            tables::commit_exclusive(&mut *self.client().await?, base_version, prepare).await
        })
    }

    fn put_code(
        &self,
        sha256_hex: String,
        zip: bytes::Bytes,
    ) -> BackendFuture<'_, Result<(), StoreError>> {
        Box::pin(async move { tables::put_code(&*self.client().await?, &sha256_hex, &zip).await })
    }

    fn prune_code(
        &self,
        keep: Vec<String>,
        stored_before_ms: i64,
    ) -> BackendFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            tables::prune_code(&*self.client().await?, &keep, stored_before_ms).await
        })
    }

    fn get_code(
        &self,
        sha256_hex: String,
    ) -> BackendFuture<'_, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move { tables::get_code(&*self.client().await?, &sha256_hex).await })
    }

    fn shares_events(&self) -> bool {
        true
    }

    fn enqueue_event(
        &self,
        body: String,
        not_before_ms: i64,
        lease_ms: i64,
    ) -> BackendFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            tables::enqueue_event(&*self.client().await?, &body, not_before_ms, lease_ms).await
        })
    }

    fn claim_event(
        &self,
        now_ms: i64,
    ) -> BackendFuture<'_, Result<Option<ClaimedEvent>, StoreError>> {
        Box::pin(async move { tables::claim_event(&*self.client().await?, now_ms).await })
    }

    fn finish_event(&self, id: i64) -> BackendFuture<'_, Result<(), StoreError>> {
        Box::pin(async move { tables::finish_event(&*self.client().await?, id).await })
    }

    fn retry_event(
        &self,
        id: i64,
        attempts: i32,
        not_before_ms: i64,
    ) -> BackendFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            tables::retry_event(&*self.client().await?, id, attempts, not_before_ms).await
        })
    }

    fn load_usage(&self) -> BackendFuture<'_, Result<Vec<UsageRow>, StoreError>> {
        Box::pin(async move { tables::load_usage(&*self.client().await?).await })
    }

    fn add_usage(&self, deltas: Vec<UsageRow>) -> BackendFuture<'_, Result<(), StoreError>> {
        Box::pin(async move { tables::add_usage(&mut *self.client().await?, &deltas).await })
    }
}
