//! Where the state is kept: the embedded SQLite store in the data dir (the default), or a
//! Postgres database shared by several nodes (`--store postgres://...`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tollgate_store::{transfer, Store};
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

/// Opens the store `--store` names (migrating it first), else the SQLite store in
/// `data_dir`.
async fn connect(arg: &StoreArg, data_dir: &Path) -> Result<Store, CliError> {
    Ok(match &arg.store {
        Some(url) => PostgresBackend::open_store(postgres_url(url)?).await?,
        None => Store::open(data_dir)?,
    })
}

/// [`connect`] for `serve`: a shared store is followed, so other nodes' commits are
/// loaded and published on this node's feed.
pub async fn open(arg: &StoreArg, data_dir: &Path) -> Result<Arc<Store>, CliError> {
    let store = Arc::new(connect(arg, data_dir).await?);
    let Some(url) = &arg.store else {
        return Ok(store);
    };
    tollgate_store_postgres::follow(url, store.clone(), VERSION_CHECK)?;
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

#[derive(clap::Args)]
pub struct TransferArgs {
    /// The SQLite store's data dir (when --store is not given).
    #[arg(long, env = "TOLLGATE_DATA_DIR", default_value = "./.tollgate")]
    data_dir: PathBuf,
    #[command(flatten)]
    store: StoreArg,
}

/// `tollgate export`: the whole state as JSON on stdout.
pub async fn export(args: &TransferArgs) -> Result<(), CliError> {
    let store = connect(&args.store, &args.data_dir).await?;
    let exported = transfer::export(&store).await?;
    if !exported.missing_code.is_empty() {
        eprintln!(
            "tollgate: warning: the store does not hold the code package of {} (uploaded \
             before packages were kept in the store); after the import, upload it again \
             with `aws lambda update-function-code`",
            exported.missing_code.join(", ")
        );
    }
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &exported.doc).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

/// `tollgate import`: a state exported by `tollgate export`, read from stdin, into a
/// store holding no state yet (migrated first).
pub async fn import(args: &TransferArgs) -> Result<String, CliError> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let doc: transfer::Export = serde_json::from_str(&text)
        .map_err(|e| CliError::Transfer(transfer::TransferError::Format(e.to_string())))?;
    let (apis, rows) = (
        doc.rows.iter().filter(|r| r.kind == "restapi").count(),
        doc.rows.len(),
    );
    let store = connect(&args.store, &args.data_dir).await?;
    let version = transfer::import(&store, doc).await?;
    Ok(format!(
        "imported {rows} rows ({apis} REST APIs); the store is at version {version}"
    ))
}
