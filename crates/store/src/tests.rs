use std::collections::BTreeMap;
use std::sync::Arc;

use tollgate_model::{Deployment, EndpointConfiguration, RestApi, RestApiDefinition, Stage};

use super::*;
use crate::backend::Loaded;
use crate::rows::{diff, KIND_METHOD, KIND_RESOURCE, KIND_STAGE};

fn definition(id: &str) -> RestApiDefinition {
    RestApiDefinition::new(RestApi {
        id: id.into(),
        name: "pets".into(),
        description: None,
        version: None,
        created_date: 1,
        binary_media_types: vec![],
        minimum_compression_size: None,
        api_key_source: tollgate_model::ApiKeySourceType::Header,
        endpoint_configuration: EndpointConfiguration::default(),
        policy: None,
        tags: BTreeMap::new(),
        disable_execute_api_endpoint: false,
        root_resource_id: format!("{id}-root"),
        security_policy: None,
        endpoint_access_mode: None,
    })
}

fn deployment(id: &str, def: &Arc<RestApiDefinition>) -> Arc<Deployment> {
    Arc::new(Deployment {
        id: id.into(),
        description: None,
        created_date: 2,
        snapshot: def.clone(),
    })
}

async fn add_api_with_stage(store: &Store, id: &str) {
    store
        .transact(|s| {
            let def = definition(id);
            let mut api = ApiState::new(def);
            api.deployments
                .insert("dep1".into(), deployment("dep1", &api.definition));
            api.stages.insert(
                "dev".into(),
                Arc::new(Stage::new("dev".into(), "dep1".into(), 3)),
            );
            s.apis.insert(id.into(), Arc::new(api));
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
}

fn in_memory() -> Store {
    let (backend, loaded) = SqliteBackend::open_in_memory().unwrap();
    Store::with_loaded(Arc::new(backend), loaded).unwrap()
}

#[tokio::test]
async fn writes_and_version_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let written = {
        let store = Store::open(dir.path()).unwrap();
        add_api_with_stage(&store, "api1").await;
        add_api_with_stage(&store, "api2").await;
        assert_eq!(store.state().version, 2);
        store.state()
    };
    let store = Store::open(dir.path()).unwrap();
    let st = store.state();
    assert_eq!(st.version, 2);
    assert_eq!(st.apis.len(), 2);
    let api = &st.apis["api1"];
    assert_eq!(api.stages["dev"].deployment_id, "dep1");
    assert_eq!(api.deployments["dep1"].snapshot.api.name, "pets");
    assert_eq!(format!("{st:?}"), format!("{written:?}"));
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
async fn identical_snapshots_are_stored_once_and_dropped_with_their_last_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tollgate.db");
    let count = || -> i64 {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.query_row("SELECT count(*) FROM snapshots", [], |r| r.get(0))
            .unwrap()
    };
    let store = Store::open(dir.path()).unwrap();
    add_api_with_stage(&store, "api1").await;
    store
        .transact(|s| {
            let api = Arc::make_mut(s.apis.get_mut("api1").unwrap());
            // An unchanged definition, deployed again (a copy, not the same `Arc`).
            let copy = Arc::new((*api.definition).clone());
            api.deployments
                .insert("dep2".into(), deployment("dep2", &copy));
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
    assert_eq!(count(), 1);
    let remove = |id: &'static str| {
        move |s: &mut State| {
            let api = Arc::make_mut(s.apis.get_mut("api1").unwrap());
            api.deployments.remove(id);
            Ok::<_, StoreError>(())
        }
    };
    store.transact(remove("dep1")).await.unwrap();
    assert_eq!(count(), 1);
    store.transact(remove("dep2")).await.unwrap();
    assert_eq!(count(), 0);
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert!(store.state().apis["api1"].deployments.is_empty());
}

#[tokio::test]
async fn deleting_an_api_deletes_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        add_api_with_stage(&store, "api1").await;
        add_api_with_stage(&store, "api10").await;
        store
            .transact(|s| {
                s.apis.remove("api1");
                Ok::<_, StoreError>(())
            })
            .await
            .unwrap();
    }
    let c = rusqlite::Connection::open(dir.path().join("tollgate.db")).unwrap();
    let left: i64 = c
        .query_row(
            "SELECT count(*) FROM rows WHERE key = 'api1' OR key LIKE 'api1/%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
    let store = Store::open(dir.path()).unwrap();
    let st = store.state();
    assert_eq!(st.apis.keys().collect::<Vec<_>>(), vec!["api10"]);
    // The prefix delete of "api1/" must not touch "api10/...".
    assert_eq!(st.apis["api10"].stages.len(), 1);
    assert_eq!(st.apis["api10"].definition.resources.len(), 1);
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

#[tokio::test]
async fn a_writer_behind_another_process_reloads_and_retries() {
    let dir = tempfile::tempdir().unwrap();
    let a = Store::open(dir.path()).unwrap();
    let b = Store::open(dir.path()).unwrap();
    add_api_with_stage(&a, "from-a").await;
    // `b` still has version 0: its commit conflicts, it reloads (seeing a's API), and its
    // closure runs again on the new state.
    let mut runs = 0;
    let seen = b
        .transact(|s| {
            runs += 1;
            let seen = s.apis.len();
            s.apis.insert(
                "from-b".into(),
                Arc::new(ApiState::new(definition("from-b"))),
            );
            Ok::<_, StoreError>(seen)
        })
        .await
        .unwrap();
    assert_eq!((runs, seen), (2, 1));
    assert_eq!(b.state().version, 2);
    drop((a, b));
    let st = Store::open(dir.path()).unwrap().state();
    assert_eq!(st.apis.keys().collect::<Vec<_>>(), vec!["from-a", "from-b"]);
}
