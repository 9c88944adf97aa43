//! The in-memory state: an immutable snapshot shared by `Arc`.

use std::collections::BTreeMap;
use std::sync::Arc;

use tollgate_model::lambda::Function;
use tollgate_model::v2;
use tollgate_model::{Account, ApiKey, Deployment, RestApiDefinition, Stage, UsagePlan};

/// One REST API with its deployments and stages.
#[derive(Debug, Clone)]
pub struct ApiState {
    pub definition: Arc<RestApiDefinition>,
    pub deployments: BTreeMap<String, Arc<Deployment>>,
    pub stages: BTreeMap<String, Arc<Stage>>,
}

impl ApiState {
    pub fn new(definition: RestApiDefinition) -> Self {
        ApiState {
            definition: Arc::new(definition),
            deployments: BTreeMap::new(),
            stages: BTreeMap::new(),
        }
    }
}

/// One API Gateway v2 API (an HTTP API) with its deployments and stages.
#[derive(Debug, Clone)]
pub struct V2ApiState {
    pub definition: Arc<v2::Definition>,
    pub deployments: BTreeMap<String, Arc<v2::Deployment>>,
    pub stages: BTreeMap<String, Arc<v2::Stage>>,
}

impl V2ApiState {
    pub fn new(definition: v2::Definition) -> Self {
        V2ApiState {
            definition: Arc::new(definition),
            deployments: BTreeMap::new(),
            stages: BTreeMap::new(),
        }
    }
}

/// The whole control-plane state at one instant.
#[derive(Debug, Clone, Default)]
pub struct State {
    pub apis: BTreeMap<String, Arc<ApiState>>,
    /// API Gateway v2 APIs by id (ids are unique across `apis` and `v2_apis`: both are
    /// served at `{apiId}.execute-api.*`).
    pub v2_apis: BTreeMap<String, Arc<V2ApiState>>,
    /// Behind one more `Arc` so the data plane can tell cheaply whether keys or plans changed.
    pub api_keys: Arc<BTreeMap<String, Arc<ApiKey>>>,
    pub usage_plans: Arc<BTreeMap<String, Arc<UsagePlan>>>,
    pub account: Arc<Account>,
    /// Lambda functions by name.
    pub functions: Arc<BTreeMap<String, Arc<Function>>>,
    /// The committed version this state is (persisted: it survives restarts and is shared by
    /// every node of one database).
    pub version: u64,
}

impl State {
    /// Whether any API, REST or v2, has this id.
    pub fn api_id_taken(&self, id: &str) -> bool {
        self.apis.contains_key(id) || self.v2_apis.contains_key(id)
    }
}
