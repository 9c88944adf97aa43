//! What the data plane serves: every API's stages with their compiled deployments, rebuilt
//! from the store when it changes and swapped in atomically. Requests load the current
//! [`Runtime`] once and use it to the end, so a redeploy never disturbs a request in flight.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use tollgate_model::Deployment;
use tollgate_store::{ApiState, State};

use crate::access_log::{AccessLog, AccessLogWriter};
use crate::compile::{compile, CompiledDeployment};

#[derive(Debug)]
pub struct Canary {
    pub percent_traffic: f64,
    pub deployment: Arc<CompiledDeployment>,
    pub variables: Arc<BTreeMap<String, String>>,
}

#[derive(Debug)]
pub struct StageRuntime {
    pub name: Arc<str>,
    pub deployment: Arc<CompiledDeployment>,
    pub variables: Arc<BTreeMap<String, String>>,
    pub canary: Option<Canary>,
    pub access_log: Option<AccessLog>,
}

#[derive(Debug)]
pub struct ApiRuntime {
    pub disable_execute_api_endpoint: bool,
    pub stages: HashMap<Box<str>, Arc<StageRuntime>>,
    /// The state this was built from, to skip rebuilding unchanged APIs.
    source: Arc<ApiState>,
    /// Compiled deployments by id, with the snapshot they came from.
    compiled: HashMap<String, (Arc<Deployment>, Arc<CompiledDeployment>)>,
}

#[derive(Debug, Default)]
pub struct Runtime {
    /// Keyed by lower-case API id (hosts are case-insensitive).
    pub apis: HashMap<Box<str>, Arc<ApiRuntime>>,
}

impl Runtime {
    pub fn api(&self, id: &str) -> Option<&Arc<ApiRuntime>> {
        self.apis.get(id)
    }
}

/// Builds the runtime for `state`, reusing everything from `old` that did not change.
pub fn rebuild(state: &State, old: &Runtime, logs: &AccessLogWriter) -> Runtime {
    let mut apis = HashMap::with_capacity(state.apis.len());
    for (id, api) in &state.apis {
        let key: Box<str> = id.to_ascii_lowercase().into();
        if let Some(prev) = old.apis.get(&key).filter(|p| Arc::ptr_eq(&p.source, api)) {
            apis.insert(key, prev.clone());
            continue;
        }
        apis.insert(
            key.clone(),
            Arc::new(build_api(
                id,
                api,
                old.apis.get(&key).map(|a| a.as_ref()),
                logs,
            )),
        );
    }
    Runtime { apis }
}

fn build_api(
    id: &str,
    api: &Arc<ApiState>,
    prev: Option<&ApiRuntime>,
    logs: &AccessLogWriter,
) -> ApiRuntime {
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
    let mut stages = HashMap::new();
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
            })
        });
        let access_log = st
            .access_log_settings
            .as_ref()
            .and_then(|s| s.format.as_deref())
            .map(|f| AccessLog::new(f, logs.file_for(id, name)));
        stages.insert(
            name.as_str().into(),
            Arc::new(StageRuntime {
                name: name.as_str().into(),
                deployment,
                variables,
                canary,
                access_log,
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

/// Where access logs go: `{dir}/{apiId}-{stage}.log`.
pub fn access_log_path(dir: &std::path::Path, api: &str, stage: &str) -> PathBuf {
    dir.join(format!("{api}-{stage}.log"))
}
