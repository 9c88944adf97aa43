//! The Postgres backend on a database of its own (created and dropped by each test) on
//! the machine's Postgres server: the store's conformance suite, then what only Postgres
//! does (migrations under the advisory lock, notifications to other nodes).

use std::sync::Arc;
use std::time::Duration;

use tollgate_store::conformance::{add_api_with_stage, Harness};
use tollgate_store::{Backend, BackendFuture, StoreError};
use tollgate_store_postgres::testing::TempDatabase;
use tollgate_store_postgres::{migrate, Migrated, PostgresBackend, SCHEMA_VERSION};

struct Postgres(TempDatabase);

impl Harness for Postgres {
    fn open(&self) -> BackendFuture<'_, Arc<dyn Backend>> {
        Box::pin(async {
            Arc::new(PostgresBackend::connect(&self.0.url).await.unwrap().0) as Arc<dyn Backend>
        })
    }
}

async fn postgres() -> Postgres {
    Postgres(TempDatabase::create())
}

mod conformance {
    use super::postgres;
    tollgate_store::backend_conformance!(postgres());
}

#[tokio::test]
async fn migrate_creates_the_schema_once_and_then_finds_it_current() {
    let db = TempDatabase::create();
    assert_eq!(
        migrate(&db.url).await.unwrap(),
        Migrated {
            from: 0,
            to: SCHEMA_VERSION
        }
    );
    assert_eq!(
        migrate(&db.url).await.unwrap(),
        Migrated {
            from: SCHEMA_VERSION,
            to: SCHEMA_VERSION
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_starting_together_migrate_once_and_all_start() {
    let db = TempDatabase::create();
    let starts: Vec<_> = (0..6)
        .map(|_| {
            let url = db.url.clone();
            tokio::spawn(async move {
                PostgresBackend::open_store(&url)
                    .await
                    .map(|s| s.state().version)
            })
        })
        .collect();
    for s in starts {
        assert_eq!(s.await.unwrap().unwrap(), 0);
    }
}

#[tokio::test]
async fn a_database_from_a_newer_tollgate_is_refused_and_left_alone() {
    let db = TempDatabase::create();
    migrate(&db.url).await.unwrap();
    let (client, driver) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(driver);
    client
        .execute(
            "UPDATE tollgate.meta SET value = $1 WHERE name = 'schema_version'",
            &[&(SCHEMA_VERSION + 1)],
        )
        .await
        .unwrap();
    match PostgresBackend::connect(&db.url).await {
        Err(StoreError::UnsupportedSchema { found, supported }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION))
        }
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => panic!("a newer schema was accepted"),
    }
    let still: i64 = client
        .query_one(
            "SELECT value FROM tollgate.meta WHERE name = 'schema_version'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(still, SCHEMA_VERSION + 1);
}

#[tokio::test]
async fn an_invalid_url_or_unreachable_server_is_an_error_without_the_password() {
    for url in [
        "postgres://u:s3cret@127.0.0.1:1/db?sslmode=bogus",
        "postgres://u:s3cret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2",
    ] {
        let e = PostgresBackend::connect(url).await.err().expect("an error");
        let text = e.to_string();
        assert!(!text.contains("s3cret"), "{text}");
        assert!(matches!(e, StoreError::Backend(_)), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_node_follows_commits_by_notification() {
    let db = TempDatabase::create();
    let a = PostgresBackend::open_store(&db.url).await.unwrap();
    let b = Arc::new(PostgresBackend::open_store(&db.url).await.unwrap());
    let mut feed = b.subscribe();
    // A periodic check far longer than the wait below: only the notification can make
    // `b` see the commit in time.
    tollgate_store_postgres::follow(&db.url, b.clone(), Duration::from_secs(3600)).unwrap();
    // Let the listener connect before the commit (a commit before it would be caught by
    // the first check, which also runs at start).
    tokio::time::sleep(Duration::from_millis(300)).await;
    add_api_with_stage(&a, "from-a").await;
    let change = tokio::time::timeout(Duration::from_secs(5), feed.next())
        .await
        .expect("b saw a's commit within 5 s")
        .unwrap();
    assert_eq!(change.version, 1);
    assert!(change.state.apis.contains_key("from-a"));
}

/// Two nodes writing at once take turns: a node whose state is behind another's commits
/// decides its write once, from the newest state, under the lock, so it can never lose
/// the race again and again (which once starved a node into a 500 in CI).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_behind_a_busy_writer_writes_once_from_the_newest_state() {
    let db = TempDatabase::create();
    let a = PostgresBackend::open_store(&db.url).await.unwrap();
    let b = Arc::new(PostgresBackend::open_store(&db.url).await.unwrap());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let busy = {
        let (b, stop) = (b.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                add_api_with_stage(&b, &format!("b{n}")).await;
                n += 1;
            }
            n
        })
    };
    for i in 0..20 {
        // Let `b` commit, so `a` is behind for every write.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let mut runs = 0;
        let seen = a
            .transact(|s| {
                runs += 1;
                s.apis.insert(format!("a{i}"), s.apis["b0"].clone());
                Ok::<_, StoreError>(s.apis.len())
            })
            .await
            .unwrap();
        assert_eq!(runs, 1, "write {i} was decided {runs} times");
        assert!(seen > i + 1, "write {i} decided from a stale state");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written_by_b = busy.await.unwrap();
    let everything = PostgresBackend::open_store(&db.url).await.unwrap().state();
    assert_eq!(everything.apis.len(), 20 + written_by_b);
}

/// A database an earlier Tollgate laid out (schema 1, before function packages were kept)
/// is migrated at start, keeping what it holds.
#[tokio::test]
async fn a_database_of_the_previous_layout_is_migrated_keeping_its_rows() {
    let db = TempDatabase::create();
    assert_eq!(db.lay_out_as(1).await.unwrap(), Migrated { from: 0, to: 1 });
    sql(
        &db,
        "INSERT INTO tollgate.rows (kind, key, body) VALUES ('tags', 'kept', '{}');
             UPDATE tollgate.meta SET value = 1 WHERE name = 'version';",
    )
    .await;
    let (backend, loaded) = PostgresBackend::connect(&db.url).await.unwrap();
    assert_eq!(loaded.version, 1);
    assert!(loaded.rows.iter().any(|r| r.key == "kept"), "{loaded:?}");
    assert_eq!(
        migrate(&db.url).await.unwrap(),
        Migrated {
            from: SCHEMA_VERSION,
            to: SCHEMA_VERSION
        }
    );
    // The new layout's table is there: packages are kept once per content.
    let zip = bytes::Bytes::from_static(b"PK\x05\x06 zip bytes");
    backend.put_code("ab12".into(), zip.clone()).await.unwrap();
    backend.put_code("ab12".into(), zip.clone()).await.unwrap();
    assert_eq!(
        backend.get_code("ab12".into()).await.unwrap().as_deref(),
        Some(&zip[..])
    );
    assert_eq!(backend.get_code("cd34".into()).await.unwrap(), None);
}

/// Packages kept by a layout before `stored_at` count as stored long ago: the first
/// prune takes the ones no function runs.
#[tokio::test]
async fn packages_of_the_previous_layout_are_kept_and_count_as_old() {
    let db = TempDatabase::create();
    assert_eq!(db.lay_out_as(2).await.unwrap(), Migrated { from: 0, to: 2 });
    sql(
        &db,
        "INSERT INTO tollgate.code (sha256, zip) VALUES ('run', 'a'), ('unused', 'b');",
    )
    .await;
    let (backend, _) = PostgresBackend::connect(&db.url).await.unwrap();
    let gone = backend
        .prune_code(vec!["run".into()], tollgate_store::epoch_ms() - 3_600_000)
        .await
        .unwrap();
    assert_eq!(gone, 1);
    assert!(backend.get_code("run".into()).await.unwrap().is_some());
    assert_eq!(backend.get_code("unused".into()).await.unwrap(), None);
}

/// Runs `batch` on the test's database through a connection of its own.
async fn sql(db: &TempDatabase, batch: &str) {
    let (client, driver) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(driver);
    client.batch_execute(batch).await.unwrap();
}
