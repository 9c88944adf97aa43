//! A WebSocket API as the data plane serves it: per stage its compiled deployment, stage
//! variables and the buckets that meter messages. Rebuilt from the store like
//! the other kinds; a connection keeps the stage runtime it connected to (AWS too keeps
//! a connection on the deployment it connected with).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use tollgate_store::throttle::{Buckets, TokenBucket};
use tollgate_store::V2ApiState;

use crate::access_log::{AccessLog, AccessLogWriter};
use crate::compile::websocket::{compile_websocket_api, CompiledWebSocketApi};
use crate::compiled::{compiled_for, route_bucket, served_v2_stages, Compiled};

#[derive(Debug)]
pub struct WsStageRuntime {
    pub name: Arc<str>,
    pub deployment: Arc<CompiledWebSocketApi>,
    pub variables: Arc<BTreeMap<String, String>>,
    /// Messages and `@connections` calls spend from the account's bucket (websocket.md §4).
    pub account: Arc<dyn TokenBucket>,
    /// The routes whose stage settings (`defaultRouteSettings`, `routeSettings`) set a
    /// throttle: `$connect` and every message of the route spend from it too.
    pub route_buckets: HashMap<Box<str>, Arc<dyn TokenBucket>>,
    /// One line per `$connect`, message and `$disconnect` (`accessLogSettings`).
    pub access_log: Option<AccessLog>,
    /// The values of the enabled API keys of usage plans that include this stage (checked
    /// on a `$connect` with `apiKeyRequired`; plans' throttles and quotas are not applied
    /// to WebSocket messages).
    pub keys: HashSet<Box<str>>,
}

#[derive(Debug)]
pub struct WsApiRuntime {
    pub stages: HashMap<Box<str>, Arc<WsStageRuntime>>,
    pub(crate) source: Arc<V2ApiState>,
    compiled: Compiled<tollgate_model::v2::Deployment, CompiledWebSocketApi>,
}

/// Builds a WebSocket API's runtime, reusing `prev`'s compiled deployments that did not
/// change.
pub fn build_websocket_api(
    api: &Arc<V2ApiState>,
    prev: Option<&WsApiRuntime>,
    account: &Arc<dyn TokenBucket>,
    logs: &AccessLogWriter,
    buckets: &dyn Buckets,
    limits: &tollgate_model::ThrottleSettings,
    keys: impl Fn(&str) -> HashSet<Box<str>>,
) -> WsApiRuntime {
    let mut compiled = HashMap::new();
    let mut stages = HashMap::new();
    for (name, st, dep_id, d) in served_v2_stages(api) {
        let c = compiled_for(dep_id, d, &mut compiled, prev.map(|p| &p.compiled), |d| {
            compile_websocket_api(&d.snapshot)
        });
        let api_id = &api.definition.api.api_id;
        let route_buckets = d
            .snapshot
            .routes
            .values()
            .filter_map(|r| {
                route_bucket(api_id, st, &r.route_key, limits, buckets)
                    .map(|b| (r.route_key.as_str().into(), b))
            })
            .collect();
        stages.insert(
            name.as_str().into(),
            Arc::new(WsStageRuntime {
                name: name.as_str().into(),
                deployment: c,
                variables: Arc::new(st.stage_variables.clone()),
                account: account.clone(),
                route_buckets,
                access_log: st
                    .access_log_settings
                    .as_ref()
                    .and_then(|s| s.format.as_deref())
                    .map(|f| AccessLog::new(f, logs.file_for(api_id, name))),
                keys: keys(name),
            }),
        );
    }
    WsApiRuntime {
        stages,
        source: api.clone(),
        compiled,
    }
}
