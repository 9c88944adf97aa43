use std::path::PathBuf;
use std::sync::Arc;

use super::*;
use crate::backend::Loaded;
use crate::conformance::{add_api_with_stage, definition, Harness};
use crate::rows::{diff, KIND_METHOD, KIND_RESOURCE, KIND_STAGE};

fn in_memory() -> Store {
    let (backend, loaded) = SqliteBackend::open_in_memory().unwrap();
    Store::with_loaded(Arc::new(backend), loaded).unwrap()
}

#[tokio::test]
async fn failed_closure_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    add_api_with_stage(&store, "api1").await;
    let r: Result<(), StoreError> = store
        .transact(|s| {
            s.apis.clear();
            Err(StoreError::Backend("refused".into()))
        })
        .await;
    assert!(r.is_err());
    assert_eq!(store.state().apis.len(), 1);
    drop(store);
    assert_eq!(Store::open(dir.path()).unwrap().state().apis.len(), 1);
}

struct FailingBackend;
impl Backend for FailingBackend {
    fn load(&self) -> BackendFuture<'_, Result<Loaded, StoreError>> {
        Box::pin(async { Ok(Loaded::default()) })
    }
    fn version(&self) -> BackendFuture<'_, Result<u64, StoreError>> {
        Box::pin(async { Ok(0) })
    }
    fn commit(&self, _: u64, _: Vec<RowOp>) -> BackendFuture<'_, Result<u64, CommitError>> {
        Box::pin(async { Err(StoreError::Backend("disk full".into()).into()) })
    }
    fn load_usage(&self) -> BackendFuture<'_, Result<Vec<UsageRow>, StoreError>> {
        Box::pin(async { Ok(vec![]) })
    }
    fn add_usage(&self, _: Vec<UsageRow>) -> BackendFuture<'_, Result<(), StoreError>> {
        Box::pin(async { Err(StoreError::Backend("disk full".into())) })
    }
}

#[tokio::test]
async fn failed_write_publishes_nothing() {
    let store = Store::connect(Arc::new(FailingBackend)).await.unwrap();
    let rx = store.subscribe();
    let r = store
        .transact(|s| {
            s.apis
                .insert("x".into(), Arc::new(ApiState::new(definition("x"))));
            Ok::<_, StoreError>(())
        })
        .await;
    assert!(r.is_err());
    assert!(store.state().apis.is_empty());
    assert!(!rx.has_changed());
}

#[tokio::test]
async fn diff_touches_only_changed_rows() {
    let store = in_memory();
    add_api_with_stage(&store, "api1").await;
    add_api_with_stage(&store, "api2").await;
    let old = store.state();
    let mut new = (*old).clone();
    let api = Arc::make_mut(new.apis.get_mut("api1").unwrap());
    Arc::make_mut(api.stages.get_mut("dev").unwrap()).description = Some("x".into());
    let ops = diff(&old, &new).unwrap();
    assert_eq!(ops.len(), 1);
    assert!(matches!(&ops[0], RowOp::Put { kind: KIND_STAGE, key, .. } if key == "api1/dev"));
}

#[tokio::test]
async fn editing_a_method_writes_only_its_row() {
    let store = in_memory();
    add_api_with_stage(&store, "api1").await;
    let method: tollgate_model::Method = serde_json::from_str(
        r#"{"httpMethod":"GET","authorizationType":"NONE","apiKeyRequired":false}"#,
    )
    .unwrap();
    let put_method = |s: &mut State, key_required: bool| {
        let api = Arc::make_mut(s.apis.get_mut("api1").unwrap());
        let def = Arc::make_mut(&mut api.definition);
        let root = def.resources.get_mut("api1-root").unwrap();
        let mut m = method.clone();
        m.api_key_required = key_required;
        root.resource_methods.insert("GET".into(), m);
    };
    let old = store.state();
    let mut new = (*old).clone();
    put_method(&mut new, false);
    let ops = diff(&old, &new).unwrap();
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert!(
        matches!(&ops[0], RowOp::Put { kind: KIND_METHOD, key, .. } if key == "api1/api1-root/GET")
    );
    store
        .transact(|s| {
            put_method(s, true);
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
    // Deleting the resource deletes its methods' rows too.
    let old = store.state();
    let mut new = (*old).clone();
    let api = Arc::make_mut(new.apis.get_mut("api1").unwrap());
    Arc::make_mut(&mut api.definition)
        .resources
        .remove("api1-root");
    let ops = diff(&old, &new).unwrap();
    assert_eq!(
        ops,
        vec![
            RowOp::Delete {
                kind: KIND_RESOURCE,
                key: "api1/api1-root".into()
            },
            RowOp::DeletePrefix {
                kind: KIND_METHOD,
                prefix: "api1/api1-root/".into()
            }
        ]
    );
}

#[tokio::test]
async fn subscribers_see_each_change_with_what_it_changed() {
    let store = in_memory();
    let mut feed = store.subscribe();
    assert_eq!(feed.current().version, 0);
    add_api_with_stage(&store, "a").await;
    let change = feed.next().await.unwrap();
    assert_eq!((change.base_version, change.version), (0, 1));
    assert_eq!(change.state.apis.len(), 1);
    assert!(change.touches(rows::KIND_STAGE));
    assert!(!change.touches(rows::KIND_FUNCTION));
}

/// SQLite backends over one temporary file, each with its own connection (as two
/// processes sharing a data dir have).
struct SqliteFile {
    _dir: tempfile::TempDir,
    db: PathBuf,
}

async fn sqlite_file() -> SqliteFile {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tollgate.db");
    SqliteFile { _dir: dir, db }
}

impl Harness for SqliteFile {
    fn open(&self) -> BackendFuture<'_, Arc<dyn Backend>> {
        Box::pin(async { Arc::new(SqliteBackend::open(&self.db).unwrap().0) as Arc<dyn Backend> })
    }
}

mod sqlite_conformance {
    use super::sqlite_file;
    crate::backend_conformance!(sqlite_file());
}

/// The state without its version (an import starts a new history).
fn comparable(s: &State) -> String {
    let mut s = s.clone();
    s.version = 0;
    format!("{s:?}")
}

#[tokio::test]
async fn an_export_imported_into_a_new_store_is_the_same_state_and_usage() {
    use crate::transfer::{export, import, Export};
    let from = in_memory();
    add_api_with_stage(&from, "api1").await;
    add_api_with_stage(&from, "api2").await;
    let usage = |used| UsageRow {
        plan_id: "p".into(),
        key_id: "k".into(),
        day: 100,
        used,
    };
    from.add_usage(vec![usage(7)]).await.unwrap();
    let text = serde_json::to_string(&export(&from).await.unwrap().doc).unwrap();
    let doc = || serde_json::from_str::<Export>(&text).unwrap();

    let to = in_memory();
    assert_eq!(import(&to, doc()).await.unwrap(), 1, "one commit");
    assert_eq!(comparable(&to.state()), comparable(&from.state()));
    assert_eq!(to.load_usage().await.unwrap(), vec![usage(7)]);

    // A second import would mix two states: refused, nothing changed.
    let err = import(&to, doc()).await.unwrap_err();
    assert!(matches!(err, transfer::TransferError::NotEmpty), "{err}");
    assert_eq!(to.state().version, 1);
    assert_eq!(to.load_usage().await.unwrap(), vec![usage(7)]);

    let mut other = doc();
    other.format = "something-else".into();
    let fresh = in_memory();
    assert!(matches!(
        import(&fresh, other).await,
        Err(transfer::TransferError::Format(_))
    ));
    assert_eq!(fresh.state().version, 0);
}

/// The database holds private keys: a new data directory is its owner's only, and the
/// database file and its WAL files are mode 0600.
#[cfg(unix)]
#[test]
fn the_data_directory_and_database_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new-data-dir");
    let store = Store::open(&data).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("tollgate.db")), 0o600);
    for wal in ["tollgate.db-wal", "tollgate.db-shm"] {
        let p = data.join(wal);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{wal}");
        }
    }
    drop(store);
}

#[tokio::test]
async fn creation_sequence_survives_reopening_and_old_rows_have_none() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .transact(|s| {
            let mut def = definition("made-now");
            def.created_sequence = Some(s.next_api_sequence());
            s.apis
                .insert("made-now".into(), Arc::new(ApiState::new(def)));
            // As an API stored before the sequence existed: no sequence in its row.
            let old = definition("made-before");
            s.apis
                .insert("made-before".into(), Arc::new(ApiState::new(old)));
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
    drop(store);
    let state = Store::open(dir.path()).unwrap().state();
    let seq = |id: &str| state.apis[id].definition.created_sequence;
    assert_eq!((seq("made-now"), seq("made-before")), (Some(1), None));
    assert_eq!(state.next_api_sequence(), 2);
}
