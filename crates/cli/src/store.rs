//! Where the state is kept: the embedded SQLite store in the data dir (the default), or a
//! Postgres database shared by several nodes (`--store postgres://...`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tollgate_store::Store;
use tollgate_store_postgres::{is_postgres_url, Migrated, PostgresBackend};

use crate::error::CliError;

/// How often a node checks the shared database's version even without a notification
/// (the safety net for one lost while its listening connection was down).
const VERSION_CHECK: Duration = Duration::from_secs(1);

#[derive(clap::Args)]
pub struct StoreArg {
    /// A Postgres database shared by several nodes (`postgres://user@host/db`;
    /// `?sslmode=disable` for a plain connection, otherwise TLS verified against the
    /// system's roots or SSL_CERT_FILE). Without it, state is kept in the data dir.
    #[arg(long, env = "TOLLGATE_STORE", hide_env_values = true)]
    pub store: Option<String>,
}

/// The `--store` URL, checked to be one we can open (never repeated in the error: it
/// may hold a password).
fn postgres_url(url: &str) -> Result<&str, CliError> {
    if is_postgres_url(url) {
        Ok(url)
    } else {
        Err(CliError::StoreUrl)
    }
}

/// Opens the store `--store` names, else the SQLite store in `data_dir`. A shared store
/// is followed: other nodes' commits are loaded and published on this node's feed.
pub async fn open(arg: &StoreArg, data_dir: &Path) -> Result<Arc<Store>, CliError> {
    let Some(url) = &arg.store else {
        return Ok(Arc::new(Store::open(data_dir)?));
    };
    let url = postgres_url(url)?;
    let store = Arc::new(PostgresBackend::open_store(url).await?);
    tollgate_store_postgres::follow(url, store.clone(), VERSION_CHECK)?;
    tracing::warn!(
        "cluster store without Redis: throttling and quotas are enforced per node \
         (quota counts are added up in the database)"
    );
    Ok(store)
}

/// `tollgate migrate --store URL`: creates or upgrades the schema, and says which.
pub async fn migrate(arg: &StoreArg) -> Result<String, CliError> {
    let url = postgres_url(arg.store.as_deref().ok_or(CliError::StoreUrl)?)?;
    let Migrated { from, to } = tollgate_store_postgres::migrate(url).await?;
    Ok(match from {
        0 => format!("created the store's schema (version {to})"),
        f if f == to => format!("the store's schema is current (version {to})"),
        f => format!("upgraded the store's schema from version {f} to {to}"),
    })
}
