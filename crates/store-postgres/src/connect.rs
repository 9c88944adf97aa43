//! Opening connections: the URL, TLS (rustls, verified against the system's roots), and
//! the task that drives each connection.

use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::{Client, Config, Connection, Socket};
use tokio_postgres_rustls::MakeRustlsConnect;
use tollgate_store::StoreError;

/// How long opening a connection may take unless the URL says (`connect_timeout=`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the database is and how to reach it, parsed once.
#[derive(Clone)]
pub(crate) struct Target {
    config: Config,
    /// Used unless the URL says `sslmode=disable`.
    tls: MakeRustlsConnect,
}

/// A driver of one connection: runs until the connection closes. The LISTEN connection
/// polls its own, to see notifications.
pub(crate) type Driver =
    Connection<Socket, <MakeRustlsConnect as tokio_postgres::tls::MakeTlsConnect<Socket>>::Stream>;

impl Target {
    /// Parses a `postgres://user[:password]@host[:port]/db[?sslmode=...]` URL (or a
    /// `key=value` string). The URL is never repeated in an error: it may hold a password.
    pub(crate) fn parse(url: &str) -> Result<Target, StoreError> {
        let mut config: Config = url
            .parse()
            .map_err(|e| StoreError::Backend(format!("invalid Postgres URL: {e}")))?;
        // Without one, connecting to an unreachable host waits for the OS (minutes), with
        // the store's writers queued behind it.
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let tls = MakeRustlsConnect::new(client_tls()?);
        Ok(Target { config, tls })
    }

    /// A new connection whose driver runs on a task of its own.
    pub(crate) async fn client(&self) -> Result<Client, StoreError> {
        let (client, driver) = self.connect().await?;
        tokio::spawn(async move {
            if let Err(e) = driver.await {
                tracing::warn!(error = %e, "Postgres connection closed");
            }
        });
        Ok(client)
    }

    /// A new connection, its driver left to the caller.
    pub(crate) async fn connect(&self) -> Result<(Client, Driver), StoreError> {
        self.config.connect(self.tls.clone()).await.map_err(pg)
    }
}

/// rustls with the system's root certificates (`SSL_CERT_FILE` or `SSL_CERT_DIR` name
/// others, e.g. a private CA).
fn client_tls() -> Result<rustls::ClientConfig, StoreError> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        // A certificate the system has but rustls cannot parse is skipped, as browsers do.
        let _ = roots.add(cert);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Backend(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// A Postgres error as the store's, with the server's own message when there is one
/// (`tokio_postgres::Error`'s display is only "db error").
pub(crate) fn pg(e: tokio_postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        return StoreError::Backend(format!("Postgres: {} ({})", db.message(), db.code().code()));
    }
    let mut text = format!("Postgres: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    if text.contains("TLS handshake") {
        text.push_str(
            " (the server's certificate must be trusted: name its CA with SSL_CERT_FILE, \
             or add sslmode=disable to the URL for a plain connection)",
        );
    }
    StoreError::Backend(text)
}
