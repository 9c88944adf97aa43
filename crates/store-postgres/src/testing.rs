//! For tests: a database of their own on a shared Postgres server, created with a random
//! name and dropped when the guard is. The server is `TOLLGATE_TEST_POSTGRES` (a URL of a
//! database to connect to for CREATE/DROP DATABASE), by default the local one with trust
//! auth. A test that needs it fails, loudly, when it is not there.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::connect::{pg, Target};

/// Plain on loopback: the local server's certificate is a self-signed one.
const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";

fn server_url() -> String {
    std::env::var("TOLLGATE_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_SERVER.into())
}

/// A database that exists as long as this value.
pub struct TempDatabase {
    name: String,
    /// The URL of the new database.
    pub url: String,
}

/// Runs `sql` on the server's maintenance database, on a runtime of its own (so it works
/// from `Drop` and from synchronous tests alike).
fn admin(sql: String) -> Result<(), String> {
    on_server(move |client| async move { client.batch_execute(&sql).await })
}

/// A setting of the test server (`SHOW name`), e.g. `ssl` or `ssl_cert_file`.
pub fn server_setting(name: &str) -> String {
    let sql = format!("SHOW {name}");
    let read = on_server(|client| async move {
        let rows = client.simple_query(&sql).await?;
        Ok(rows.into_iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        }))
    });
    match read {
        Ok(Some(v)) => v,
        Ok(None) => panic!("SHOW {name} returned no row"),
        Err(e) => panic!("cannot read {name} from the test server: {e}"),
    }
}

/// Runs `f` with a connection to the test server, on a thread and runtime of its own.
fn on_server<T, F, Fut>(f: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce(tokio_postgres::Client) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, tokio_postgres::Error>>,
{
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let target = Target::parse(&server_url()).map_err(|e| e.to_string())?;
            let client = target.client().await.map_err(|e| e.to_string())?;
            f(client).await.map_err(|e| pg(e).to_string())
        })
    })
    .join()
    .map_err(|_| "the admin thread panicked".to_string())?
}

impl TempDatabase {
    pub fn create() -> TempDatabase {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("tollgate_test_{}_{nanos:09}", std::process::id());
        let server = server_url();
        if let Err(e) = admin(format!("CREATE DATABASE {name}")) {
            panic!("cannot create a test database on {server} (TOLLGATE_TEST_POSTGRES): {e}");
        }
        // The server URL with its database replaced by the new one.
        let base = server.split('?').next().unwrap_or(&server);
        let query = server.strip_prefix(base).unwrap_or("");
        let root = base.rsplit_once('/').map_or(base, |(root, _)| root);
        let url = format!("{root}/{name}{query}");
        TempDatabase { name, url }
    }
}

impl TempDatabase {
    /// Lays the database out as Tollgate's schema version `version` did (an earlier
    /// release's database, to migrate from).
    pub async fn lay_out_as(
        &self,
        version: i64,
    ) -> Result<crate::Migrated, tollgate_store::StoreError> {
        let target = Target::parse(&self.url)?;
        crate::schema::upgrade_to(&mut target.client().await?, version).await
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        // FORCE: connections a test left open (a killed node's) do not keep it alive.
        if let Err(e) = admin(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )) {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}
