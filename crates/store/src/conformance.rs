//! What every [`Backend`] must do, as tests any backend crate can run against its own
//! storage: [`backend_conformance!`](crate::backend_conformance) expands to one
//! `#[tokio::test]` per check. The SQLite backend runs them in this crate's tests, the
//! Postgres backend in its own. Built for tests only (`cfg(test)` or the `conformance`
//! feature).

use std::collections::BTreeMap;
use std::sync::Arc;

use tollgate_model::{Deployment, EndpointConfiguration, RestApi, RestApiDefinition, Stage};

use crate::backend::{Backend, BackendFuture, UsageRow};
use crate::error::StoreError;
use crate::state::{ApiState, State};
use crate::store::Store;

/// Opens backends over one fresh storage (a temporary file, a temporary database), each
/// a connection of its own, as two processes or two nodes would have. Dropping the
/// harness removes the storage.
pub trait Harness {
    fn open(&self) -> BackendFuture<'_, Arc<dyn Backend>>;
}

/// Expands to the conformance tests for the backend `$harness` (an async expression
/// making a [`Harness`]) opens.
#[macro_export]
macro_rules! backend_conformance {
    ($harness:expr) => {
        $crate::backend_conformance!(@tests $harness;
            writes_and_version_survive_reopen,
            identical_snapshots_are_stored_once_and_collected,
            deleting_an_api_deletes_its_rows_and_only_its,
            a_writer_behind_another_reloads_and_retries,
            concurrent_writers_on_two_stores_both_survive,
            refresh_catches_up_with_another_writer,
            usage_increments_from_two_writers_add_up,
            packages_no_function_runs_go_once_stored_before_the_cut_off);
    };
    (@tests $harness:expr; $($name:ident),*) => {
        $(
            #[tokio::test]
            async fn $name() {
                let harness = $harness.await;
                $crate::conformance::$name(&harness).await;
            }
        )*
    };
}

pub fn definition(id: &str) -> RestApiDefinition {
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

pub fn deployment(id: &str, def: &Arc<RestApiDefinition>) -> Arc<Deployment> {
    Arc::new(Deployment {
        id: id.into(),
        description: None,
        created_date: 2,
        snapshot: def.clone(),
    })
}

/// Adds API `id` with deployment `dep1` and stage `dev`.
pub async fn add_api_with_stage(store: &Store, id: &str) {
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

async fn store(h: &impl Harness) -> Store {
    Store::connect(h.open().await).await.unwrap()
}

pub async fn writes_and_version_survive_reopen(h: &impl Harness) {
    let written = {
        let store = store(h).await;
        add_api_with_stage(&store, "api1").await;
        add_api_with_stage(&store, "api2").await;
        assert_eq!(store.state().version, 2);
        store.state()
    };
    let st = store(h).await.state();
    assert_eq!(st.version, 2);
    assert_eq!(st.apis.len(), 2);
    let api = &st.apis["api1"];
    assert_eq!(api.stages["dev"].deployment_id, "dep1");
    assert_eq!(api.deployments["dep1"].snapshot.api.name, "pets");
    assert_eq!(format!("{st:?}"), format!("{written:?}"));
}

pub async fn identical_snapshots_are_stored_once_and_collected(h: &impl Harness) {
    let backend = h.open().await;
    let count = || async { backend.load().await.unwrap().snapshots.len() };
    let store = store(h).await;
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
    assert_eq!(count().await, 1);
    let remove = |id: &'static str| {
        move |s: &mut State| {
            let api = Arc::make_mut(s.apis.get_mut("api1").unwrap());
            api.deployments.remove(id);
            Ok::<_, StoreError>(())
        }
    };
    store.transact(remove("dep1")).await.unwrap();
    assert_eq!(count().await, 1);
    store.transact(remove("dep2")).await.unwrap();
    assert_eq!(count().await, 0);
    assert!(
        Store::connect(backend.clone()).await.unwrap().state().apis["api1"]
            .deployments
            .is_empty()
    );
}

pub async fn deleting_an_api_deletes_its_rows_and_only_its(h: &impl Harness) {
    {
        let store = store(h).await;
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
    let loaded = h.open().await.load().await.unwrap();
    let left: Vec<_> = loaded
        .rows
        .iter()
        .filter(|r| r.key == "api1" || r.key.starts_with("api1/"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let st = store(h).await.state();
    assert_eq!(st.apis.keys().collect::<Vec<_>>(), vec!["api10"]);
    // The prefix delete of "api1/" must not touch "api10/...".
    assert_eq!(st.apis["api10"].stages.len(), 1);
    assert_eq!(st.apis["api10"].definition.resources.len(), 1);
}

pub async fn a_writer_behind_another_reloads_and_retries(h: &impl Harness) {
    let a = store(h).await;
    let b = store(h).await;
    add_api_with_stage(&a, "from-a").await;
    // `b` still has version 0: before running its closure it sees the backend ahead and
    // reloads, so the closure runs once, on a state holding a's API. (A commit that races
    // past that check conflicts and runs the closure again: `concurrent_writers_on_two_stores_both_survive`.)
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
    assert_eq!((runs, seen), (1, 1));
    assert_eq!(b.state().version, 2);
    drop((a, b));
    let st = store(h).await.state();
    assert_eq!(st.apis.keys().collect::<Vec<_>>(), vec!["from-a", "from-b"]);
}

pub async fn concurrent_writers_on_two_stores_both_survive(h: &impl Harness) {
    const EACH: usize = 10;
    let a = Arc::new(store(h).await);
    let b = Arc::new(store(h).await);
    let write = |store: Arc<Store>, prefix: &'static str| {
        tokio::spawn(async move {
            for i in 0..EACH {
                add_api_with_stage(&store, &format!("{prefix}{i}")).await;
            }
        })
    };
    let (ra, rb) = tokio::join!(write(a.clone(), "a"), write(b.clone(), "b"));
    ra.unwrap();
    rb.unwrap();
    let st = store(h).await.state();
    assert_eq!(st.apis.len(), 2 * EACH);
    assert_eq!(st.version, 2 * EACH as u64);
}

pub async fn refresh_catches_up_with_another_writer(h: &impl Harness) {
    let a = store(h).await;
    let b = store(h).await;
    assert!(!b.refresh().await.unwrap(), "nothing to catch up with");
    add_api_with_stage(&a, "first").await;
    assert!(b.refresh().await.unwrap());
    let first = b.state().apis["first"].clone();
    let mut feed = b.subscribe();
    add_api_with_stage(&a, "from-a").await;
    assert!(b.refresh().await.unwrap());
    let change = feed.next().await.unwrap();
    assert_eq!(change.version, 2);
    assert!(change.changed.is_none(), "a reload is a whole state");
    assert!(change.state.apis.contains_key("from-a"));
    // What the commit did not change is shared with the previous state, so consumers
    // comparing by `Arc` identity rebuild only the new API.
    assert!(Arc::ptr_eq(&change.state.apis["first"], &first));
    assert!(Arc::ptr_eq(&change.state.account, &b.state().account));
    assert!(!b.refresh().await.unwrap());
}

pub async fn usage_increments_from_two_writers_add_up(h: &impl Harness) {
    let row = |key: &str, day, used| UsageRow {
        plan_id: "plan".into(),
        key_id: key.into(),
        day,
        used,
    };
    let a = h.open().await;
    let b = h.open().await;
    a.add_usage(vec![row("k1", 100, 3), row("k2", 100, 1)])
        .await
        .unwrap();
    b.add_usage(vec![row("k1", 100, 4), row("k1", 101, 2)])
        .await
        .unwrap();
    // UpdateUsage saves a negative increment.
    a.add_usage(vec![row("k1", 100, -2)]).await.unwrap();
    let mut saved = h.open().await.load_usage().await.unwrap();
    saved.sort_by(|x, y| (&x.key_id, x.day).cmp(&(&y.key_id, y.day)));
    assert_eq!(
        saved,
        vec![row("k1", 100, 5), row("k1", 101, 2), row("k2", 100, 1)]
    );
}

pub async fn packages_no_function_runs_go_once_stored_before_the_cut_off(h: &impl Harness) {
    let a = h.open().await;
    let b = h.open().await;
    let zip = |s: &'static str| bytes::Bytes::from_static(s.as_bytes());
    let before = crate::backend::epoch_ms();
    a.put_code("old-run".into(), zip("1")).await.unwrap();
    a.put_code("old-unused".into(), zip("2")).await.unwrap();
    b.put_code("stored-again".into(), zip("3")).await.unwrap();
    let cut_off = crate::backend::epoch_ms() + 1;
    // Stored again after the cut-off: counts as new (an upload on its way to its commit).
    std::thread::sleep(std::time::Duration::from_millis(5));
    b.put_code("stored-again".into(), zip("3")).await.unwrap();
    assert!(before < cut_off);
    let gone = b.prune_code(vec!["old-run".into()], cut_off).await.unwrap();
    assert_eq!(gone, 1);
    let kept = |k: &'static str| {
        let a = a.clone();
        async move { a.get_code(k.into()).await.unwrap().is_some() }
    };
    assert!(kept("old-run").await, "run by a function");
    assert!(
        !kept("old-unused").await,
        "stored before the cut-off, run by none"
    );
    assert!(kept("stored-again").await, "stored again after the cut-off");
    assert_eq!(a.prune_code(vec![], 0).await.unwrap(), 0, "nothing older");
}
