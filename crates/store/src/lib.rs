//! Tollgate's persistent state.
//!
//! The whole control-plane state lives in memory as an immutable [`State`] snapshot that
//! readers share by `Arc`. A write ([`Store::transact`]) runs on a private copy of the
//! snapshot; when the closure succeeds, the rows that changed (found by `Arc` identity, so
//! unchanged entities cost nothing) are written to the embedded SQLite database in one
//! transaction, and only then is the new snapshot published. A failed closure or a failed
//! write changes nothing. Subscribers (the data plane) are woken through a watch channel.
//!
//! Rows are JSON documents keyed by (kind, key); the JSON is the AWS wire shape of the
//! model types, so the database is readable with the sqlite3 shell.

mod sqlite;
pub mod usage;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::watch;
use tollgate_model::lambda::Function;
use tollgate_model::{Account, ApiKey, Deployment, RestApiDefinition, Stage, UsagePlan};

pub use sqlite::SqliteBackend;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage error: {0}")]
    Backend(String),
    #[error("corrupt row {kind}/{key}: {reason}")]
    Corrupt {
        kind: String,
        key: String,
        reason: String,
    },
}

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
    /// Incremented by every successful write.
    pub version: u64,
}

/// A row change to persist.
#[derive(Debug, PartialEq)]
pub enum RowOp {
    Put {
        kind: &'static str,
        key: String,
        body: String,
    },
    Delete {
        kind: &'static str,
        key: String,
    },
    /// Deletes every row of `kind` whose key starts with `prefix`.
    DeletePrefix {
        kind: &'static str,
        prefix: String,
    },
}

pub const KIND_REST_API: &str = "restapi";
pub const KIND_DEPLOYMENT: &str = "deployment";
pub const KIND_STAGE: &str = "stage";
pub const KIND_ACCOUNT: &str = "account";
pub const KIND_API_KEY: &str = "apikey";
pub const KIND_USAGE_PLAN: &str = "usageplan";
pub const KIND_FUNCTION: &str = "function";

/// One day of one API key's usage under one plan.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRow {
    pub plan_id: String,
    pub key_id: String,
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    pub used: i64,
}

/// Where rows are kept. SQLite today; a shared database for clusters later.
pub trait Backend: Send {
    fn load(&mut self) -> Result<Vec<(String, String, String)>, StoreError>;
    fn apply(&mut self, ops: &[RowOp]) -> Result<(), StoreError>;
    fn load_usage(&mut self) -> Result<Vec<UsageRow>, StoreError>;
    /// Upserts usage rows (absolute counts) in one transaction.
    fn save_usage(&mut self, rows: &[UsageRow]) -> Result<(), StoreError>;
}

pub struct Store {
    /// Serialises writers; the backend is only touched with this held.
    writer: Mutex<Box<dyn Backend>>,
    published: watch::Sender<Arc<State>>,
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Backend(format!("cannot create {}: {e}", data_dir.display()))
        })?;
        let backend = SqliteBackend::open(&data_dir.join("tollgate.db"))?;
        Store::with_backend(Box::new(backend))
    }

    pub fn with_backend(mut backend: Box<dyn Backend>) -> Result<Store, StoreError> {
        let state = load_state(backend.load()?)?;
        let (published, _) = watch::channel(Arc::new(state));
        Ok(Store {
            writer: Mutex::new(backend),
            published,
        })
    }

    /// The current snapshot.
    pub fn state(&self) -> Arc<State> {
        self.published.borrow().clone()
    }

    /// Woken after every successful write, with the new snapshot.
    pub fn subscribe(&self) -> watch::Receiver<Arc<State>> {
        self.published.subscribe()
    }

    /// Usage counts as last saved.
    pub fn load_usage(&self) -> Result<Vec<UsageRow>, StoreError> {
        self.writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .load_usage()
    }

    pub fn save_usage(&self, rows: &[UsageRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        self.writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .save_usage(rows)
    }

    /// Runs `f` on a copy of the state; persists and publishes the result only if `f`
    /// succeeds and the write reaches the database.
    pub fn transact<R, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut State) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut backend = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.state();
        let mut new = (*old).clone();
        let out = f(&mut new)?;
        let ops = diff(&old, &new)?;
        if ops.is_empty() {
            return Ok(out);
        }
        backend.apply(&ops)?;
        new.version = old.version + 1;
        self.published.send_replace(Arc::new(new));
        Ok(out)
    }
}

fn put<T: Serialize>(
    ops: &mut Vec<RowOp>,
    kind: &'static str,
    key: String,
    v: &T,
) -> Result<(), StoreError> {
    let body = serde_json::to_string(v).map_err(|e| StoreError::Corrupt {
        kind: kind.into(),
        key: key.clone(),
        reason: e.to_string(),
    })?;
    ops.push(RowOp::Put { kind, key, body });
    Ok(())
}

/// Rows of one map of `Arc`s that changed between two snapshots.
fn diff_map<T: Serialize>(
    ops: &mut Vec<RowOp>,
    kind: &'static str,
    prefix: &str,
    old: Option<&BTreeMap<String, Arc<T>>>,
    new: &BTreeMap<String, Arc<T>>,
) -> Result<(), StoreError> {
    for (k, v) in new {
        let same = old
            .and_then(|o| o.get(k))
            .is_some_and(|o| Arc::ptr_eq(o, v));
        if !same {
            put(ops, kind, format!("{prefix}{k}"), v.as_ref())?;
        }
    }
    if let Some(old) = old {
        for k in old.keys().filter(|k| !new.contains_key(*k)) {
            ops.push(RowOp::Delete {
                kind,
                key: format!("{prefix}{k}"),
            });
        }
    }
    Ok(())
}

/// The row operations that turn `old` into `new`.
pub fn diff(old: &State, new: &State) -> Result<Vec<RowOp>, StoreError> {
    let mut ops = vec![];
    for (id, api) in &new.apis {
        let prev = old.apis.get(id);
        if prev.is_some_and(|p| Arc::ptr_eq(p, api)) {
            continue;
        }
        if !prev.is_some_and(|p| Arc::ptr_eq(&p.definition, &api.definition)) {
            put(&mut ops, KIND_REST_API, id.clone(), api.definition.as_ref())?;
        }
        let prefix = format!("{id}/");
        diff_map(
            &mut ops,
            KIND_DEPLOYMENT,
            &prefix,
            prev.map(|p| &p.deployments),
            &api.deployments,
        )?;
        diff_map(
            &mut ops,
            KIND_STAGE,
            &prefix,
            prev.map(|p| &p.stages),
            &api.stages,
        )?;
    }
    for id in old.apis.keys().filter(|k| !new.apis.contains_key(*k)) {
        ops.push(RowOp::Delete {
            kind: KIND_REST_API,
            key: id.clone(),
        });
        for kind in [KIND_DEPLOYMENT, KIND_STAGE] {
            ops.push(RowOp::DeletePrefix {
                kind,
                prefix: format!("{id}/"),
            });
        }
    }
    if !Arc::ptr_eq(&old.api_keys, &new.api_keys) {
        diff_map(
            &mut ops,
            KIND_API_KEY,
            "",
            Some(&old.api_keys),
            &new.api_keys,
        )?;
    }
    if !Arc::ptr_eq(&old.usage_plans, &new.usage_plans) {
        diff_map(
            &mut ops,
            KIND_USAGE_PLAN,
            "",
            Some(&old.usage_plans),
            &new.usage_plans,
        )?;
    }
    if !Arc::ptr_eq(&old.functions, &new.functions) {
        diff_map(
            &mut ops,
            KIND_FUNCTION,
            "",
            Some(&old.functions),
            &new.functions,
        )?;
    }
    if !Arc::ptr_eq(&old.account, &new.account) {
        put(&mut ops, KIND_ACCOUNT, String::new(), new.account.as_ref())?;
    }
    Ok(ops)
}

fn parse<T: serde::de::DeserializeOwned>(
    kind: &str,
    key: &str,
    body: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt {
        kind: kind.into(),
        key: key.into(),
        reason: e.to_string(),
    })
}

/// Rebuilds the state from rows.
pub fn load_state(rows: Vec<(String, String, String)>) -> Result<State, StoreError> {
    let mut state = State::default();
    let mut deployments = vec![];
    let mut stages = vec![];
    for (kind, key, body) in rows {
        match kind.as_str() {
            KIND_REST_API => {
                let def: RestApiDefinition = parse(&kind, &key, &body)?;
                state.apis.insert(key, Arc::new(ApiState::new(def)));
            }
            KIND_DEPLOYMENT => deployments.push((key, body)),
            KIND_STAGE => stages.push((key, body)),
            KIND_ACCOUNT => state.account = Arc::new(parse(&kind, &key, &body)?),
            KIND_API_KEY => {
                let k: ApiKey = parse(&kind, &key, &body)?;
                Arc::make_mut(&mut state.api_keys).insert(key, Arc::new(k));
            }
            KIND_USAGE_PLAN => {
                let p: UsagePlan = parse(&kind, &key, &body)?;
                Arc::make_mut(&mut state.usage_plans).insert(key, Arc::new(p));
            }
            KIND_FUNCTION => {
                let f: Function = parse(&kind, &key, &body)?;
                Arc::make_mut(&mut state.functions).insert(key, Arc::new(f));
            }
            other => tracing::warn!(kind = other, key, "ignoring row of unknown kind"),
        }
    }
    for (key, body) in deployments {
        let d: Deployment = parse(KIND_DEPLOYMENT, &key, &body)?;
        let api_id = key.split('/').next().unwrap_or_default();
        if let Some(api) = state.apis.get_mut(api_id) {
            Arc::make_mut(api)
                .deployments
                .insert(d.id.clone(), Arc::new(d));
        }
    }
    for (key, body) in stages {
        let s: Stage = parse(KIND_STAGE, &key, &body)?;
        let api_id = key.split('/').next().unwrap_or_default();
        if let Some(api) = state.apis.get_mut(api_id) {
            Arc::make_mut(api)
                .stages
                .insert(s.stage_name.clone(), Arc::new(s));
        }
    }
    Ok(state)
}

#[cfg(test)]
mod tests;
