//! The in-memory state: an immutable snapshot shared by `Arc`.

use std::collections::BTreeMap;
use std::sync::Arc;

use tollgate_model::lambda::Function;
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

/// The whole control-plane state at one instant.
#[derive(Debug, Clone, Default)]
pub struct State {
    pub apis: BTreeMap<String, Arc<ApiState>>,
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
