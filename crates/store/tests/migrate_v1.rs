//! Opens a database in the first layout (schema v1, `tests/data/v1.db`, made by
//! `tests/data/make-v1.sh` with the binary of the last commit that wrote it) and checks
//! that it is migrated to the current layout with nothing lost.

use std::path::Path;

use tollgate_store::usage::{LocalUsage, UsageCounters};
use tollgate_store::{sqlite, State, Store};

/// The state without its version (v1 kept none on disk).
fn comparable(s: &State) -> String {
    let mut s = s.clone();
    s.version = 0;
    format!("{s:?}")
}

fn count(db: &Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn a_v1_database_is_migrated_with_everything_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tollgate.db");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v1.db"),
        &db,
    )
    .unwrap();
    assert_eq!(sqlite::schema_version(&db).unwrap(), None);
    let before = sqlite::read_v1(&db).unwrap();

    let store = Store::open(dir.path()).unwrap();
    let after = store.state();
    assert_eq!(comparable(&after), comparable(&before));

    // What the fixture holds (make-v1.sh).
    assert_eq!(after.apis.len(), 1);
    let api = after.apis.values().next().unwrap();
    assert_eq!(api.definition.api.name, "pets");
    let paths: Vec<&str> = api
        .definition
        .resources
        .values()
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    assert!(paths.contains(&"/pets"));
    let pets = api
        .definition
        .resources
        .values()
        .find(|r| r.path == "/pets")
        .unwrap();
    let get = &pets.resource_methods["GET"];
    assert!(get.api_key_required);
    assert!(get.method_integration.is_some());
    assert!(api.definition.models.contains_key("Pet"));
    assert_eq!(api.definition.request_validators.len(), 1);
    assert_eq!(api.definition.gateway_responses.len(), 1);
    assert_eq!(api.deployments.len(), 3);
    let stage = &api.stages["dev"];
    assert_eq!(
        api.deployments[&stage.deployment_id].description.as_deref(),
        Some("third")
    );
    assert_eq!(after.api_keys.len(), 1);
    assert_eq!(after.usage_plans.len(), 1);
    assert!(after.functions.contains_key("hello"));
    assert_eq!(after.functions["hello"].versions.len(), 1);

    // Usage survives (the same table in both layouts) and keeps counting by increments.
    let usage = LocalUsage::load(&store).await.unwrap();
    let plan = after.usage_plans.keys().next().unwrap();
    let key = after.api_keys.keys().next().unwrap();
    assert_eq!(usage.keys(plan), vec![key.clone()]);
    let total: i64 = {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.query_row("SELECT sum(used) FROM usage", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(total, 3);

    // The file is in the new layout: the first two deployments (same definition) share a
    // snapshot, the third has its own.
    drop(store);
    assert_eq!(
        sqlite::schema_version(&db).unwrap(),
        Some(sqlite::SCHEMA_VERSION)
    );
    assert_eq!(count(&db, "SELECT count(*) FROM snapshots"), 2);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM sqlite_master WHERE name = 'rows_v1'"
        ),
        0
    );
    // Reopening the migrated file loads the same state again.
    let again = Store::open(dir.path()).unwrap().state();
    assert_eq!(comparable(&again), comparable(&before));
}

#[tokio::test]
async fn a_v2_database_gains_the_code_table_and_keeps_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tollgate.db");
    let version = {
        let store = Store::open(dir.path()).unwrap();
        store
            .transact(|s| {
                s.account = std::sync::Arc::new(tollgate_model::Account {
                    cloudwatch_role_arn: Some("arn:aws:iam::000000000000:role/cw".into()),
                    ..Default::default()
                });
                Ok::<_, tollgate_store::StoreError>(())
            })
            .await
            .unwrap();
        store.state().version
    };
    // Back to the v2 layout, as the previous release left it.
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch("DROP TABLE code; UPDATE meta SET value = 2 WHERE name = 'schema_version';")
        .unwrap();
    drop(c);
    assert_eq!(sqlite::schema_version(&db).unwrap(), Some(2));

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        sqlite::schema_version(&db).unwrap(),
        Some(sqlite::SCHEMA_VERSION)
    );
    assert_eq!(store.state().version, version);
    assert!(store.state().account.cloudwatch_role_arn.is_some());
    store
        .put_code("ab".into(), bytes::Bytes::from_static(b"zip"))
        .await
        .unwrap();
    assert_eq!(
        store.get_code("ab".into()).await.unwrap(),
        Some(b"zip".to_vec())
    );
}

#[tokio::test]
async fn a_v3_database_keeps_its_packages_which_count_as_stored_long_ago() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tollgate.db");
    drop(Store::open(dir.path()).unwrap());
    // Back to the v3 layout (no `stored_at`), a package kept in it.
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch(
        "DROP TABLE code; CREATE TABLE code (sha256 TEXT PRIMARY KEY, zip BLOB NOT NULL);
         INSERT INTO code (sha256, zip) VALUES ('old', x'01');
         UPDATE meta SET value = 3 WHERE name = 'schema_version';",
    )
    .unwrap();
    drop(c);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        sqlite::schema_version(&db).unwrap(),
        Some(sqlite::SCHEMA_VERSION)
    );
    assert_eq!(store.get_code("old".into()).await.unwrap(), Some(vec![1]));
    store
        .put_code("new".into(), bytes::Bytes::from_static(b"zip"))
        .await
        .unwrap();
    // No function runs either: the one from before goes, the one just stored stays.
    let hour_ago = tollgate_store::epoch_ms() - 3_600_000;
    assert_eq!(store.prune_code(hour_ago).await.unwrap(), 1);
    assert_eq!(store.get_code("old".into()).await.unwrap(), None);
    assert!(store.get_code("new".into()).await.unwrap().is_some());
}
