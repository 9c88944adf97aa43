use std::collections::BTreeMap;

use tollgate_model::{EndpointConfiguration, RestApi};

use super::*;

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

fn add_api_with_stage(store: &Store, id: &str) {
    store
        .transact(|s| {
            let def = definition(id);
            let mut api = ApiState::new(def.clone());
            let dep = Deployment {
                id: "dep1".into(),
                description: None,
                created_date: 2,
                snapshot: Arc::new(def),
            };
            api.deployments.insert("dep1".into(), Arc::new(dep));
            api.stages.insert(
                "dev".into(),
                Arc::new(Stage::new("dev".into(), "dep1".into(), 3)),
            );
            s.apis.insert(id.into(), Arc::new(api));
            Ok::<_, StoreError>(())
        })
        .unwrap();
}

#[test]
fn writes_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        add_api_with_stage(&store, "api1");
        add_api_with_stage(&store, "api2");
        assert_eq!(store.state().version, 2);
    }
    let store = Store::open(dir.path()).unwrap();
    let st = store.state();
    assert_eq!(st.apis.len(), 2);
    let api = &st.apis["api1"];
    assert_eq!(api.stages["dev"].deployment_id, "dep1");
    assert_eq!(api.deployments["dep1"].snapshot.api.name, "pets");
}

#[test]
fn failed_closure_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    add_api_with_stage(&store, "api1");
    let r: Result<(), StoreError> = store.transact(|s| {
        s.apis.clear();
        Err(StoreError::Backend("refused".into()))
    });
    assert!(r.is_err());
    assert_eq!(store.state().apis.len(), 1);
    drop(store);
    assert_eq!(Store::open(dir.path()).unwrap().state().apis.len(), 1);
}

struct FailingBackend;
impl Backend for FailingBackend {
    fn load(&mut self) -> Result<Vec<(String, String, String)>, StoreError> {
        Ok(vec![])
    }
    fn load_usage(&mut self) -> Result<Vec<UsageRow>, StoreError> {
        Ok(vec![])
    }
    fn save_usage(&mut self, _: &[UsageRow]) -> Result<(), StoreError> {
        Err(StoreError::Backend("disk full".into()))
    }
    fn apply(&mut self, _: &[RowOp]) -> Result<(), StoreError> {
        Err(StoreError::Backend("disk full".into()))
    }
}

#[test]
fn failed_write_publishes_nothing() {
    let store = Store::with_backend(Box::new(FailingBackend)).unwrap();
    let rx = store.subscribe();
    let r = store.transact(|s| {
        s.apis
            .insert("x".into(), Arc::new(ApiState::new(definition("x"))));
        Ok::<_, StoreError>(())
    });
    assert!(r.is_err());
    assert!(store.state().apis.is_empty());
    assert!(!rx.has_changed().unwrap());
}

#[test]
fn diff_touches_only_changed_rows() {
    let store = Store::with_backend(Box::new(SqliteBackend::open_in_memory().unwrap())).unwrap();
    add_api_with_stage(&store, "api1");
    add_api_with_stage(&store, "api2");
    let old = store.state();
    let mut new = (*old).clone();
    let api = Arc::make_mut(new.apis.get_mut("api1").unwrap());
    Arc::make_mut(api.stages.get_mut("dev").unwrap()).description = Some("x".into());
    let ops = diff(&old, &new).unwrap();
    assert_eq!(ops.len(), 1);
    assert!(matches!(&ops[0], RowOp::Put { kind: KIND_STAGE, key, .. } if key == "api1/dev"));
}

#[test]
fn deleting_an_api_deletes_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        add_api_with_stage(&store, "api1");
        add_api_with_stage(&store, "api10");
        store
            .transact(|s| {
                s.apis.remove("api1");
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let st = store.state();
    assert_eq!(st.apis.keys().collect::<Vec<_>>(), vec!["api10"]);
    // The prefix delete of "api1/" must not touch "api10/...".
    assert_eq!(st.apis["api10"].stages.len(), 1);
}

#[test]
fn subscribers_see_new_state() {
    let store = Store::with_backend(Box::new(SqliteBackend::open_in_memory().unwrap())).unwrap();
    let mut rx = store.subscribe();
    add_api_with_stage(&store, "a");
    assert!(rx.has_changed().unwrap());
    assert_eq!(rx.borrow_and_update().apis.len(), 1);
}
