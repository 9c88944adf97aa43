//! A WebSocket API as the data plane serves it: per stage its compiled deployment, stage
//! variables and the buckets that meter messages. Rebuilt from the store like
//! the other kinds; a connection keeps the stage runtime it connected to (AWS too keeps
//! a connection on the deployment it connected with).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use tollgate_store::throttle::{Buckets, TokenBucket};
use tollgate_store::V2ApiState;

use crate::access_log::{AccessLog, AccessLogWriter};
use crate::compile::websocket::{compile_websocket_api, CompiledWebSocketApi};
use crate::compiled::{compiled_for, route_bucket, served_v2_stages, Compiled};
use crate::key_binding::KeyBinding;
use crate::metrics::RouteStageMetrics;

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
    /// By value, the enabled API keys of usage plans that include this stage: checked on a
    /// `$connect` with `apiKeyRequired`, whose connection then spends the key's plan
    /// throttle and quota on `$connect` and on every message.
    pub keys: crate::table::Table<Box<str>, Arc<KeyBinding>>,
    /// The stage's series (`crate::metrics::WEBSOCKET`), and per route its own with
    /// detailed metrics.
    pub metrics: WsStageMetrics,
}

/// A WebSocket stage's series: the stage's, and by route key a route's with detailed
/// metrics.
#[derive(Debug)]
pub struct WsStageMetrics {
    stage: RouteStageMetrics,
    routes: HashMap<Box<str>, usize>,
}

impl WsStageMetrics {
    /// The series of `route` (a route key), or the stage's.
    pub fn series(&self, route: Option<&str>) -> &tollgate_metrics::Series {
        self.stage
            .series(route.and_then(|r| self.routes.get(r).copied()))
    }
}

#[derive(Debug)]
pub struct WsApiRuntime {
    pub stages: crate::table::Table<Box<str>, Arc<WsStageRuntime>>,
    pub(crate) source: Arc<V2ApiState>,
    compiled: Compiled<tollgate_model::v2::Deployment, CompiledWebSocketApi>,
}

/// Builds a WebSocket API's runtime, reusing `prev`'s compiled deployments that did not
/// change.
pub fn build_websocket_api(
    api: &Arc<V2ApiState>,
    prev: Option<&WsApiRuntime>,
    account: &Arc<dyn TokenBucket>,
    (logs, registry): (&AccessLogWriter, &tollgate_metrics::Registry),
    buckets: &dyn Buckets,
    limits: &tollgate_model::ThrottleSettings,
    keys: impl Fn(&str) -> crate::table::Table<Box<str>, Arc<KeyBinding>>,
) -> WsApiRuntime {
    let mut compiled = HashMap::new();
    let mut stages = crate::table::Table::default();
    for (name, st, dep_id, d) in served_v2_stages(api) {
        let c = compiled_for(dep_id, d, &mut compiled, prev.map(|p| &p.compiled), |d| {
            compile_websocket_api(&d.snapshot)
        });
        let a = &api.definition.api;
        let api_id = &a.api_id;
        let route_buckets = d
            .snapshot
            .routes
            .values()
            .filter_map(|r| {
                route_bucket(api_id, st, &r.route_key, limits, buckets)
                    .map(|b| (r.route_key.as_str().into(), b))
            })
            .collect();
        let route_keys: Vec<&str> = d.snapshot.routes.values().map(|r| &*r.route_key).collect();
        let detailed = |key: &str| {
            st.route_settings
                .get(key)
                .and_then(|s| s.detailed_metrics_enabled)
                .or(st.default_route_settings.detailed_metrics_enabled)
                .unwrap_or(false)
        };
        let metrics = WsStageMetrics {
            stage: RouteStageMetrics::build(
                registry,
                &crate::metrics::WEBSOCKET,
                (a.api_id.as_str(), a.name.as_str(), name.as_str()),
                route_keys.iter().map(|k| (*k, detailed(k))),
            ),
            routes: route_keys
                .iter()
                .enumerate()
                .map(|(i, k)| (Box::from(*k), i))
                .collect(),
        };
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
                metrics,
            }),
        );
    }
    WsApiRuntime {
        stages,
        source: api.clone(),
        compiled,
    }
}
