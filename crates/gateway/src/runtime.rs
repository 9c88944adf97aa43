//! What the data plane serves: every API's stages with their compiled deployments, rebuilt
//! from the store when it changes and swapped in atomically. Requests load the current
//! [`Runtime`] once and use it to the end, so a redeploy never disturbs a request in flight.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use tollgate_authorizers::{CacheId, ResultCache, ResultCaches};

use tollgate_model::{Deployment, RestApiDefinition, Stage};
use tollgate_store::limit::Verdict;
use tollgate_store::throttle::{Buckets, TokenBucket};
use tollgate_store::usage::{Quota, UsageCounters};
use tollgate_store::{ApiState, State, V2ApiState};

use crate::access_log::{access_log_path, AccessLog, AccessLogWriter};
use crate::compile::function_url::{self, CompiledFunctionUrl};
use crate::compile::http_api::{compile_http_api, CompiledHttpApi};
use crate::compile::stage_cache::{CacheScope, StageCache};
use crate::compile::{compile, CompiledDeployment};
use crate::compiled::{compiled_for, route_bucket, served_v2_stages, Compiled};
use crate::execution_log::StageExecutionLog;
use crate::frontend::{ApiKind, Frontends};
use crate::metrics::{RestStageLabels, RestStageMetrics, RouteStageMetrics};
use crate::response_cache::{budget_bytes, ResponseCaches};
use crate::router::method_slot;
use crate::runtime_ws::{build_websocket_api, WsApiRuntime};

pub use crate::key_binding::{KeyBinding, MethodBuckets};

/// Who may call a stage and how fast: API keys, stage/method buckets, the account bucket.
#[derive(Debug)]
pub struct StageLimits {
    /// By key value: enabled keys of usage plans that include this API stage.
    pub keys: crate::table::Table<Box<str>, Arc<KeyBinding>>,
    pub method_buckets: MethodBuckets,
    pub account: Arc<dyn TokenBucket>,
    /// Each caching Lambda authorizer's result cache on this stage, by authorizer id.
    pub authorizer_caches: HashMap<Box<str>, Arc<ResultCache>>,
    /// The same for the canary's deployment (its authorizers may differ).
    pub canary_authorizer_caches: HashMap<Box<str>, Arc<ResultCache>>,
}

/// What a rebuild needs besides the state.
pub struct Env<'a> {
    pub logs: &'a AccessLogWriter,
    pub buckets: &'a dyn Buckets,
    pub usage: &'a dyn UsageCounters,
    pub authorizer_caches: &'a ResultCaches,
    pub response_caches: &'a ResponseCaches,
    /// The region of function ARNs (function URLs' resource).
    pub region: &'a str,
    /// Where stages' series are resolved.
    pub metrics: &'a tollgate_metrics::Registry,
    /// Where execution logs are written: `{dir}/{apiId}-{stage}.log`.
    pub execution_log_dir: &'a std::path::Path,
}

#[derive(Debug)]
pub struct Canary {
    pub percent_traffic: f64,
    pub deployment: Arc<CompiledDeployment>,
    pub variables: Arc<BTreeMap<String, String>>,
    /// `useStageCache`: canary requests read and write the stage cache.
    pub use_stage_cache: bool,
}

#[derive(Debug)]
pub struct StageRuntime {
    pub name: Arc<str>,
    pub deployment: Arc<CompiledDeployment>,
    pub variables: Arc<BTreeMap<String, String>>,
    pub canary: Option<Canary>,
    pub access_log: Option<AccessLog>,
    /// Canary requests' access log: `{apiId}-{stage}-canary.log` beside the stage's.
    pub canary_access_log: Option<AccessLog>,
    pub limits: StageLimits,
    pub metrics: RestStageMetrics,
    /// `None` when no method of the stage has a logging level.
    pub execution_log: Option<StageExecutionLog>,
    /// The response cache (`cacheClusterEnabled`); `None` when the stage has none.
    pub cache: Option<StageCache>,
    /// The client certificate presented to HTTP backends (`clientCertificateId`).
    pub backend_tls: Option<Arc<crate::integrations::backend_tls::StageBackendTls>>,
    /// `tracingEnabled`: which requests are sampled; `None` when tracing is off (a caller's
    /// `Sampled=1` is still honoured).
    pub tracing: Option<tollgate_traces::Sampler>,
}

impl StageRuntime {
    /// The cache a request may use: none for a canary request unless `useStageCache`,
    /// and canary entries apart from production's when the canary serves another
    /// deployment.
    pub fn cache_scope(&self, canary: bool) -> Option<CacheScope<'_>> {
        let cache = self.cache.as_ref()?;
        let prefix = match (&self.canary, canary) {
            (_, false) => None,
            (Some(c), true) if c.use_stage_cache => (c.deployment.deployment_id
                != self.deployment.deployment_id)
                .then_some(&*c.deployment.deployment_id),
            _ => return None,
        };
        Some(CacheScope { cache, prefix })
    }
}

#[derive(Debug)]
pub struct ApiRuntime {
    pub disable_execute_api_endpoint: bool,
    pub stages: crate::table::Table<Box<str>, Arc<StageRuntime>>,
    /// The state this was built from, to skip rebuilding unchanged APIs.
    source: Arc<ApiState>,
    /// Compiled deployments by id, with the snapshot they came from.
    compiled: HashMap<String, (Arc<Deployment>, Arc<CompiledDeployment>)>,
}

/// One stage of an HTTP API.
#[derive(Debug)]
pub struct HttpStageRuntime {
    pub name: Arc<str>,
    pub deployment: Arc<CompiledHttpApi>,
    pub variables: Arc<BTreeMap<String, String>>,
    /// By route index: the route's bucket from `routeSettings` over
    /// `defaultRouteSettings`; `None` when neither sets a limit.
    pub route_buckets: Vec<Option<Arc<dyn TokenBucket>>>,
    pub account: Arc<dyn TokenBucket>,
    pub access_log: Option<AccessLog>,
    /// The result caches of the deployment's caching Lambda authorizers, by authorizer
    /// id: kept while the stage serves the same deployment, new with a new one.
    pub authorizer_caches: HashMap<Arc<str>, Arc<HttpResultCache>>,
    /// The stage's series, and per route index the route's with detailed metrics.
    pub metrics: RouteStageMetrics,
}

/// One HTTP API Lambda authorizer's result cache on one stage.
pub type HttpResultCache = ResultCache<tollgate_authorizers::http_lambda::HttpAuthorizerOutput>;

/// The stage's authorizer caches: its previous runtime's while it serves the same
/// deployment (an unrelated edit must not empty them), else new ones.
fn http_authorizer_caches(
    env: &Env<'_>,
    (api, stage): (&str, &str),
    deployment: &Arc<CompiledHttpApi>,
    prev: Option<&HttpStageRuntime>,
) -> HashMap<Arc<str>, Arc<HttpResultCache>> {
    if let Some(p) = prev.filter(|p| Arc::ptr_eq(&p.deployment, deployment)) {
        return p.authorizer_caches.clone();
    }
    deployment
        .authorizers
        .lambdas()
        .filter(|a| !a.ttl.is_zero())
        .map(|a| {
            let shared = env.authorizer_caches.shared_tier(&CacheId {
                api: api.into(),
                stage: stage.into(),
                deployment: (*deployment.deployment_id).into(),
                authorizer: (*a.id).into(),
            });
            (
                a.id.clone(),
                Arc::new(ResultCache::with_shared(a.ttl, shared)),
            )
        })
        .collect()
}

impl HttpStageRuntime {
    /// One token from the route's bucket, then the account's (429 when either is empty),
    /// waiting only when a cluster's shared bucket must be asked.
    pub async fn admit(&self, route: usize) -> Verdict {
        let now = tollgate_store::throttle::now_ns();
        if let Some(b) = self.route_buckets.get(route).and_then(Option::as_ref) {
            let v = b.take(now).verdict().await;
            if v != Verdict::Admit {
                return v;
            }
        }
        self.account.take(now).verdict().await
    }
}

/// An HTTP API (API Gateway v2) as the data plane serves it.
#[derive(Debug)]
pub struct HttpApiRuntime {
    pub stages: crate::table::Table<Box<str>, Arc<HttpStageRuntime>>,
    source: Arc<V2ApiState>,
    compiled: Compiled<tollgate_model::v2::Deployment, CompiledHttpApi>,
}

/// What a frontend entry serves: an API of one kind, with its runtime.
#[derive(Debug, Clone)]
pub enum ApiEntry {
    Rest(Arc<ApiRuntime>),
    Http(Arc<HttpApiRuntime>),
    FunctionUrl(Arc<CompiledFunctionUrl>),
    WebSocket(Arc<WsApiRuntime>),
}

#[derive(Debug, Default)]
pub struct Runtime {
    /// Keyed by lower-case API id (hosts are case-insensitive).
    pub apis: HashMap<Box<str>, Arc<ApiRuntime>>,
    /// HTTP APIs, keyed likewise.
    pub http_apis: HashMap<Box<str>, Arc<HttpApiRuntime>>,
    /// WebSocket APIs, keyed likewise.
    pub websocket_apis: HashMap<Box<str>, Arc<WsApiRuntime>>,
    /// Which API each request is addressed to (the edge classifies every request here).
    pub frontends: Frontends<ApiEntry>,
    /// The account-wide settings this was built from (keys, plans, account throttle):
    /// when any of them changes, every stage's limits are rebuilt.
    globals: Option<Globals>,
}

#[derive(Debug)]
struct Globals {
    keys: Arc<std::collections::BTreeMap<String, Arc<tollgate_model::ApiKey>>>,
    plans: Arc<std::collections::BTreeMap<String, Arc<tollgate_model::UsagePlan>>>,
    account: Arc<tollgate_model::Account>,
}

impl Globals {
    fn same(&self, s: &State) -> bool {
        Arc::ptr_eq(&self.keys, &s.api_keys)
            && Arc::ptr_eq(&self.plans, &s.usage_plans)
            && Arc::ptr_eq(&self.account, &s.account)
    }
}

/// Builds the runtime for `state`, reusing everything from `old` that did not change.
pub fn rebuild(state: &State, old: &Runtime, env: &Env<'_>) -> Runtime {
    let globals_same = old.globals.as_ref().is_some_and(|g| g.same(state));
    let account = env.buckets.bucket(
        "account".into(),
        state.account.throttle_settings.rate_limit,
        state.account.throttle_settings.burst_limit,
    );
    let mut apis = HashMap::with_capacity(state.apis.len());
    for (id, api) in &state.apis {
        let key: Box<str> = id.to_ascii_lowercase().into();
        if let Some(prev) = old
            .apis
            .get(&key)
            .filter(|p| globals_same && Arc::ptr_eq(&p.source, api))
        {
            apis.insert(key, prev.clone());
            continue;
        }
        let built = build_api(
            id,
            api,
            old.apis.get(&key).map(|a| a.as_ref()),
            state,
            &account,
            env,
        );
        apis.insert(key, Arc::new(built));
    }
    let globals = Globals {
        keys: state.api_keys.clone(),
        plans: state.usage_plans.clone(),
        account: state.account.clone(),
    };
    let mut http_apis = HashMap::with_capacity(state.v2_apis.len());
    let mut websocket_apis = HashMap::new();
    let mut frontends = Frontends::default();
    for (id, api) in &state.v2_apis {
        let key: Box<str> = id.to_ascii_lowercase().into();
        if api.definition.is_websocket() {
            let prev = old.websocket_apis.get(&key);
            let built = match prev.filter(|p| globals_same && Arc::ptr_eq(&p.source, api)) {
                Some(p) => p.clone(),
                None => Arc::new(build_websocket_api(
                    api,
                    prev.map(|p| p.as_ref()),
                    &account,
                    (env.logs, env.metrics),
                    env.buckets,
                    &state.account.throttle_settings,
                    |stage| stage_keys(id, stage, state, env),
                )),
            };
            if !api.definition.api.disable_execute_api_endpoint {
                frontends.add_execute_api(
                    id,
                    ApiKind::WebSocket,
                    ApiEntry::WebSocket(built.clone()),
                );
            }
            websocket_apis.insert(key, built);
            continue;
        }
        let prev = old.http_apis.get(&key);
        let built = match prev.filter(|p| globals_same && Arc::ptr_eq(&p.source, api)) {
            Some(p) => p.clone(),
            None => Arc::new(build_http_api(
                api,
                prev.map(|p| p.as_ref()),
                &account,
                state,
                env,
            )),
        };
        if !api.definition.api.disable_execute_api_endpoint {
            frontends.add_execute_api(id, ApiKind::Http, ApiEntry::Http(built.clone()));
        }
        http_apis.insert(key, built);
    }
    for (id, api) in apis.iter().filter(|(_, a)| !a.disable_execute_api_endpoint) {
        frontends.add_execute_api(id, ApiKind::Rest, ApiEntry::Rest(api.clone()));
    }
    add_domains(&mut frontends, state, &apis, &http_apis, &websocket_apis);
    for (name, f) in state.functions.iter() {
        for (key, url) in &f.url_configs {
            let compiled = function_url::compile(env.region, name, key, url);
            frontends.add_function_url(&url.url_id, ApiEntry::FunctionUrl(Arc::new(compiled)));
        }
    }
    Runtime {
        apis,
        http_apis,
        websocket_apis,
        frontends,
        globals: Some(globals),
    }
}

/// Custom domain names: each mapping to the API it names, of whichever kind (REST and HTTP
/// APIs may share a domain). A mapping to an API that is gone takes nothing.
fn add_domains(
    frontends: &mut Frontends<ApiEntry>,
    state: &State,
    apis: &HashMap<Box<str>, Arc<ApiRuntime>>,
    http_apis: &HashMap<Box<str>, Arc<HttpApiRuntime>>,
    websocket_apis: &HashMap<Box<str>, Arc<WsApiRuntime>>,
) {
    use crate::frontend::{BasePathMapping, Frontend};
    for (name, d) in &state.domains.domain_names {
        if d.serves_portal() {
            frontends.add_portal_domain(name, d.mutual_tls_authentication.is_some());
            continue;
        }
        let mappings = d
            .mappings
            .iter()
            .filter_map(|m| {
                let id = m.api_id.to_ascii_lowercase();
                let (kind, api) = if let Some(a) = apis.get(id.as_str()) {
                    (ApiKind::Rest, ApiEntry::Rest(a.clone()))
                } else if let Some(a) = http_apis.get(id.as_str()) {
                    (ApiKind::Http, ApiEntry::Http(a.clone()))
                } else {
                    let a = websocket_apis.get(id.as_str())?;
                    (ApiKind::WebSocket, ApiEntry::WebSocket(a.clone()))
                };
                Some(BasePathMapping {
                    base_path: m.api_mapping_key.as_str().into(),
                    stage: m.stage.as_deref().map(Into::into),
                    frontend: Frontend { kind, api },
                })
            })
            .collect();
        frontends.add_domain(name, mappings, d.mutual_tls_authentication.is_some());
    }
}

/// `{resourcePath}/{METHOD}` → (path, method slot).
fn split_key(key: &str) -> Option<(String, usize)> {
    let (path, method) = tollgate_model::stage::split_method_setting_key(key)?;
    Some((path, method_slot(&method)?))
}

/// The stage's method-level buckets: a method's own settings, else `*/*`, for every method
/// of the deployment (each method gets its own bucket).
fn stage_buckets(
    api_id: &str,
    st: &Stage,
    def: &RestApiDefinition,
    buckets: &dyn Buckets,
) -> MethodBuckets {
    let mut specific: HashMap<(String, usize), (f64, i64)> = HashMap::new();
    let mut all = None;
    for (k, ms) in &st.method_settings {
        let limits = (ms.throttling_rate_limit, ms.throttling_burst_limit);
        if k == "*/*" {
            all = Some(limits);
        } else if let Some(pk) = split_key(k) {
            specific.insert(pk, limits);
        }
    }
    let mut out = MethodBuckets::new();
    for r in def.resources.values() {
        for verb in r.resource_methods.keys() {
            let Some(slot) = method_slot(verb) else {
                continue;
            };
            let Some((rate, burst)) = specific.get(&(r.path.clone(), slot)).copied().or(all) else {
                continue;
            };
            let scope = format!(
                "stage\u{0}{api_id}\u{0}{}\u{0}{}\u{0}{verb}",
                st.stage_name, r.path
            );
            out.entry(r.path.as_str().into()).or_default()[slot] =
                Some(buckets.bucket(scope, rate, burst));
        }
    }
    out
}

/// The enabled API keys of every usage plan that includes this API stage.
fn stage_keys(
    api_id: &str,
    stage: &str,
    state: &State,
    env: &Env<'_>,
) -> crate::table::Table<Box<str>, Arc<KeyBinding>> {
    let mut keys = crate::table::Table::default();
    for plan in state
        .usage_plans
        .values()
        .filter(|p| p.covers(api_id, stage))
    {
        let api_stage = plan
            .api_stages
            .iter()
            .find(|s| s.api_id == api_id && s.stage == stage);
        let quota = plan.quota.as_ref().map(|q| Quota {
            limit: q.limit,
            offset: q.offset,
            period: q.period,
            first_day: plan.created_date.div_euclid(86_400),
        });
        for key_id in &plan.key_ids {
            let Some(key) = state.api_keys.get(key_id).filter(|k| k.enabled) else {
                continue;
            };
            let plan_bucket = plan.throttle.map(|t| {
                env.buckets.bucket(
                    format!("plan\u{0}{}\u{0}{key_id}", plan.id),
                    t.rate_limit,
                    t.burst_limit,
                )
            });
            let mut method_buckets = MethodBuckets::new();
            for (k, t) in api_stage.map(|s| &s.throttle).into_iter().flatten() {
                let Some((path, slot)) = split_key(k) else {
                    continue;
                };
                let scope = format!(
                    "planmethod\u{0}{}\u{0}{key_id}\u{0}{api_id}\u{0}{stage}\u{0}{k}",
                    plan.id
                );
                method_buckets.entry(path.into_boxed_str()).or_default()[slot] =
                    Some(env.buckets.bucket(scope, t.rate_limit, t.burst_limit));
            }
            let binding = KeyBinding {
                key_id: key_id.as_str().into(),
                plan_id: plan.id.as_str().into(),
                plan_bucket,
                method_buckets,
                quota: quota.clone(),
                counter: env.usage.counter(&plan.id, key_id),
            };
            keys.insert(key.value.as_str().into(), Arc::new(binding));
        }
    }
    keys
}

/// The result caches of `deployment`'s caching Lambda authorizers on one stage.
fn stage_authorizer_caches(
    env: &Env<'_>,
    api: &str,
    stage: &str,
    deployment: &CompiledDeployment,
) -> HashMap<Box<str>, Arc<ResultCache>> {
    deployment
        .lambda_authorizers
        .iter()
        .filter(|a| !a.ttl.is_zero())
        .map(|a| {
            let cache_id = CacheId {
                api: api.into(),
                stage: stage.into(),
                deployment: (*deployment.deployment_id).into(),
                authorizer: (*a.id).into(),
            };
            (
                (*a.id).into(),
                env.authorizer_caches.cache_for(cache_id, a.ttl),
            )
        })
        .collect()
}

fn build_api(
    id: &str,
    api: &Arc<ApiState>,
    prev: Option<&ApiRuntime>,
    state: &State,
    account: &Arc<dyn TokenBucket>,
    env: &Env<'_>,
) -> ApiRuntime {
    let logs = env.logs;
    let mut compiled = HashMap::new();
    let mut get = |dep_id: &str| -> Option<Arc<CompiledDeployment>> {
        let d = api.deployments.get(dep_id)?;
        if let Some((_, c)) = compiled.get(dep_id) {
            return Some(Arc::clone(c));
        }
        let reused = prev
            .and_then(|p| p.compiled.get(dep_id))
            .filter(|(src, _)| Arc::ptr_eq(src, d))
            .map(|(_, c)| c.clone());
        let c = reused.unwrap_or_else(|| Arc::new(compile(&d.snapshot, dep_id)));
        compiled.insert(dep_id.to_string(), (d.clone(), c.clone()));
        Some(c)
    };
    let mut stages = crate::table::Table::default();
    for (name, st) in &api.stages {
        let Some(deployment) = get(&st.deployment_id) else {
            tracing::warn!(api = id, stage = %name, "stage points to a missing deployment; not served");
            continue;
        };
        let variables = Arc::new(st.variables.clone());
        let canary = st.canary_settings.as_ref().and_then(|c| {
            let dep = get(c.deployment_id.as_deref()?)?;
            let mut vars = st.variables.clone();
            vars.extend(c.stage_variable_overrides.clone());
            Some(Canary {
                percent_traffic: c.percent_traffic.unwrap_or(0.0),
                deployment: dep,
                variables: Arc::new(vars),
                use_stage_cache: c.use_stage_cache,
            })
        });
        let log_format = st
            .access_log_settings
            .as_ref()
            .and_then(|s| s.format.as_deref());
        let access_log = log_format.map(|f| AccessLog::new(f, logs.file_for(id, name)));
        let canary_access_log = log_format
            .filter(|_| canary.is_some())
            .map(|f| AccessLog::new(f, logs.file_for(id, &format!("{name}-canary"))));
        let cache = st.cache_cluster_enabled.then(|| {
            let budget = budget_bytes(st.cache_cluster_size);
            StageCache::new(st, env.response_caches.cache_for(id, name, budget))
        });
        // Present: `get` above found this deployment.
        let Some(snapshot) = api.deployments.get(&st.deployment_id).map(|d| &d.snapshot) else {
            continue;
        };
        let authorizer_caches = stage_authorizer_caches(env, id, name, &deployment);
        let canary_authorizer_caches = canary
            .as_ref()
            .map(|c| stage_authorizer_caches(env, id, name, &c.deployment))
            .unwrap_or_default();
        let canary_snapshot = st
            .canary_settings
            .as_ref()
            .and_then(|c| api.deployments.get(c.deployment_id.as_deref()?))
            .map(|d| &*d.snapshot);
        let definitions: Vec<&RestApiDefinition> = [Some(&**snapshot), canary_snapshot]
            .into_iter()
            .flatten()
            .collect();
        let metrics = RestStageMetrics::build(
            env.metrics,
            &RestStageLabels {
                api_id: id,
                api_name: &api.definition.api.name,
                stage: st,
                definitions: &definitions,
                has_canary: canary.is_some(),
            },
        );
        let execution_log = StageExecutionLog::build(
            || access_log_path(env.execution_log_dir, id, name).into(),
            st,
            &definitions,
        );
        let limits = StageLimits {
            keys: stage_keys(id, name, state, env),
            method_buckets: stage_buckets(id, st, snapshot, env.buckets),
            account: account.clone(),
            authorizer_caches,
            canary_authorizer_caches,
        };
        stages.insert(
            name.as_str().into(),
            Arc::new(StageRuntime {
                name: name.as_str().into(),
                deployment,
                variables,
                canary,
                access_log,
                canary_access_log,
                limits,
                metrics,
                execution_log,
                cache,
                backend_tls: st
                    .client_certificate_id
                    .as_ref()
                    .and_then(|id| state.domains.client_certificates.get(id))
                    .and_then(|c| crate::integrations::backend_tls::for_stage(c)),
                tracing: st.tracing_enabled.then(tollgate_traces::Sampler::default),
            }),
        );
    }
    ApiRuntime {
        disable_execute_api_endpoint: api.definition.api.disable_execute_api_endpoint,
        stages,
        source: api.clone(),
        compiled,
    }
}

/// A stage's per-route buckets, in the compiled routes' order.
fn http_route_buckets(
    api_id: &str,
    st: &tollgate_model::v2::Stage,
    c: &CompiledHttpApi,
    state: &State,
    buckets: &dyn Buckets,
) -> Vec<Option<Arc<dyn TokenBucket>>> {
    let account = &state.account.throttle_settings;
    c.routes()
        .map(|r| route_bucket(api_id, st, &r.key, account, buckets))
        .collect()
}

/// `detailedMetricsEnabled` of the route's settings over the stage's defaults.
fn detailed_metrics(st: &tollgate_model::v2::Stage, route: &str) -> bool {
    st.route_settings
        .get(route)
        .and_then(|s| s.detailed_metrics_enabled)
        .or(st.default_route_settings.detailed_metrics_enabled)
        .unwrap_or(false)
}

fn build_http_api(
    api: &Arc<V2ApiState>,
    prev: Option<&HttpApiRuntime>,
    account: &Arc<dyn TokenBucket>,
    state: &State,
    env: &Env<'_>,
) -> HttpApiRuntime {
    let mut compiled = HashMap::new();
    let mut stages = crate::table::Table::default();
    for (name, st, dep_id, d) in served_v2_stages(api) {
        let c = compiled_for(dep_id, d, &mut compiled, prev.map(|p| &p.compiled), |d| {
            compile_http_api(&d.snapshot, dep_id)
        });
        let route_buckets =
            http_route_buckets(&api.definition.api.api_id, st, &c, state, env.buckets);
        let prev_stage = prev.and_then(|p| p.stages.get(name.as_str()));
        let authorizer_caches = http_authorizer_caches(
            env,
            (&api.definition.api.api_id, name.as_str()),
            &c,
            prev_stage.map(|s| &**s),
        );
        let a = &api.definition.api;
        let metrics = RouteStageMetrics::build(
            env.metrics,
            &crate::metrics::API,
            (a.api_id.as_str(), a.name.as_str(), name.as_str()),
            c.routes().map(|r| (&*r.key, detailed_metrics(st, &r.key))),
        );
        stages.insert(
            name.as_str().into(),
            Arc::new(HttpStageRuntime {
                name: name.as_str().into(),
                deployment: c,
                variables: Arc::new(st.stage_variables.clone()),
                route_buckets,
                account: account.clone(),
                access_log: st
                    .access_log_settings
                    .as_ref()
                    .and_then(|s| s.format.as_deref())
                    .map(|f| {
                        AccessLog::new(f, env.logs.file_for(&api.definition.api.api_id, name))
                    }),
                authorizer_caches,
                metrics,
            }),
        );
    }
    HttpApiRuntime {
        stages,
        source: api.clone(),
        compiled,
    }
}
