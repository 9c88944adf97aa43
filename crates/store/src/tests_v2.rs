use std::collections::BTreeMap;
use std::sync::Arc;

use tollgate_model::v2::{self, Definition};
use tollgate_model::{
    AuthorizationType, ConnectionType, DeploymentStatus, IntegrationType, IpAddressType,
    PayloadFormatVersion, ProtocolType,
};

use super::*;
use crate::rows::diff;
use crate::rows_v2::{KIND_ROUTE, KIND_STAGE};

fn definition(id: &str) -> Definition {
    let mut def = Definition::new(v2::Api {
        api_id: id.into(),
        name: "pets".into(),
        protocol_type: ProtocolType::Http,
        route_selection_expression: v2::HTTP_ROUTE_SELECTION.into(),
        api_key_selection_expression: v2::API_KEY_SELECTION.into(),
        cors_configuration: None,
        created_date: "2024-01-02T03:04:05Z".into(),
        description: None,
        version: None,
        disable_execute_api_endpoint: false,
        ip_address_type: IpAddressType::Ipv4,
        tags: BTreeMap::new(),
    });
    def.integrations.insert(
        "int0001".into(),
        v2::Integration {
            integration_id: "int0001".into(),
            api_gateway_managed: false,
            connection_type: ConnectionType::Internet,
            connection_id: None,
            credentials_arn: None,
            description: None,
            integration_method: Some("GET".into()),
            integration_subtype: None,
            integration_type: IntegrationType::HttpProxy,
            integration_uri: Some("http://127.0.0.1:1/".into()),
            payload_format_version: PayloadFormatVersion::V1,
            request_parameters: BTreeMap::new(),
            response_parameters: BTreeMap::new(),
            timeout_in_millis: 30000,
            tls_config: None,
            content_handling_strategy: None,
            integration_response_selection_expression: None,
            passthrough_behavior: None,
            request_templates: BTreeMap::new(),
            template_selection_expression: None,
        },
    );
    def.routes
        .insert("rte0001".into(), route("rte0001", "GET /pets"));
    def
}

fn route(id: &str, key: &str) -> v2::Route {
    v2::Route {
        route_id: id.into(),
        route_key: key.into(),
        api_gateway_managed: false,
        api_key_required: false,
        authorization_type: AuthorizationType::None,
        authorizer_id: None,
        authorization_scopes: None,
        operation_name: None,
        request_models: BTreeMap::new(),
        request_parameters: BTreeMap::new(),
        model_selection_expression: None,
        route_response_selection_expression: None,
        target: Some("integrations/int0001".into()),
    }
}

fn stage(name: &str, deployment: &str) -> Arc<v2::Stage> {
    Arc::new(v2::Stage {
        stage_name: name.into(),
        access_log_settings: None,
        api_gateway_managed: false,
        auto_deploy: false,
        created_date: "2024-01-02T03:04:05Z".into(),
        default_route_settings: v2::RouteSettings::default(),
        deployment_id: Some(deployment.into()),
        description: None,
        last_deployment_status_message: None,
        last_updated_date: "2024-01-02T03:04:05Z".into(),
        route_settings: BTreeMap::new(),
        stage_variables: BTreeMap::new(),
        tags: BTreeMap::new(),
    })
}

async fn add_v2_api(store: &Store, id: &str) {
    store
        .transact(|s| {
            let mut api = V2ApiState::new(definition(id));
            let d = v2::Deployment {
                deployment_id: "dep1".into(),
                auto_deployed: false,
                created_date: "2024-01-02T03:04:05Z".into(),
                deployment_status: DeploymentStatus::Deployed,
                deployment_status_message: None,
                description: None,
                snapshot: api.definition.clone(),
            };
            api.deployments.insert("dep1".into(), Arc::new(d));
            api.stages
                .insert("$default".into(), stage("$default", "dep1"));
            s.v2_apis.insert(id.into(), Arc::new(api));
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn v2_apis_survive_reopen_beside_rest_apis() {
    let dir = tempfile::tempdir().unwrap();
    let written = {
        let store = Store::open(dir.path()).unwrap();
        add_v2_api(&store, "httpapi001").await;
        store.state()
    };
    let store = Store::open(dir.path()).unwrap();
    let st = store.state();
    assert!(st.apis.is_empty());
    let api = &st.v2_apis["httpapi001"];
    assert_eq!(
        api.stages["$default"].deployment_id.as_deref(),
        Some("dep1")
    );
    assert_eq!(
        api.deployments["dep1"].snapshot.routes["rte0001"].route_key,
        "GET /pets"
    );
    assert_eq!(format!("{st:?}"), format!("{written:?}"));
    assert!(st.api_id_taken("httpapi001"));
}

#[tokio::test]
async fn editing_a_route_writes_only_its_row() {
    let (backend, loaded) = SqliteBackend::open_in_memory().unwrap();
    let store = Store::with_loaded(Arc::new(backend), loaded).unwrap();
    add_v2_api(&store, "a1").await;
    let old = store.state();
    let mut new = (*old).clone();
    let api = Arc::make_mut(new.v2_apis.get_mut("a1").unwrap());
    let def = Arc::make_mut(&mut api.definition);
    def.routes.get_mut("rte0001").unwrap().operation_name = Some("list".into());
    let ops = diff(&old, &new).unwrap();
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert!(matches!(&ops[0], RowOp::Put { kind: KIND_ROUTE, key, .. } if key == "a1/rte0001"));
    let mut new = (*old).clone();
    let api = Arc::make_mut(new.v2_apis.get_mut("a1").unwrap());
    api.stages
        .insert("$default".into(), stage("$default", "dep2"));
    let ops = diff(&old, &new).unwrap();
    assert!(matches!(&ops[..], [RowOp::Put { kind: KIND_STAGE, key, .. }] if key == "a1/$default"));
}

#[tokio::test]
async fn deleting_a_v2_api_deletes_its_rows_and_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        add_v2_api(&store, "a1").await;
        add_v2_api(&store, "a10").await;
        store
            .transact(|s| {
                s.v2_apis.remove("a1");
                Ok::<_, StoreError>(())
            })
            .await
            .unwrap();
    }
    let c = rusqlite::Connection::open(dir.path().join("tollgate.db")).unwrap();
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT count(*) FROM rows WHERE key = 'a1' OR key LIKE 'a1/%'"),
        0
    );
    // a10's snapshot has different bytes (its id), so exactly one is left.
    assert_eq!(count("SELECT count(*) FROM snapshots"), 1);
    let store = Store::open(dir.path()).unwrap();
    let st = store.state();
    assert_eq!(st.v2_apis.keys().collect::<Vec<_>>(), vec!["a10"]);
    assert_eq!(st.v2_apis["a10"].definition.routes.len(), 1);
}
