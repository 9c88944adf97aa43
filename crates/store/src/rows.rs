//! The state as rows (schema v2): one row per entity, so an edit writes only what it
//! changed.
//!
//! | kind | key | body |
//! |---|---|---|
//! | `restapi` | api | the RestApi object (and the `deleted` mark, the creation sequence) |
//! | `resource` | api/resource | the resource without its methods |
//! | `method` | api/resource/VERB | one method, with its integration and responses |
//! | `model`, `requestvalidator`, `authorizer`, `gatewayresponse` | api/name-or-id | one item |
//! | `deployment` | api/deployment | the deployment, its snapshot named by content hash |
//! | `stage` | api/stage | one stage |
//! | `documentationpart`, `documentationversion` | api/id-or-version | one part; one version with the parts it froze |
//! | `apikey`, `usageplan`, `function` | id or name | one item |
//! | `portalconsumer` | email | a developer portal consumer (argon2id password hash) |
//! | `account` | (empty) | the account settings |
//!
//! API Gateway v2 APIs have row kinds of their own (`v2api`, `v2route`...; see
//! `rows_v2.rs`), and so do IAM and STS (`iamrole`, `iampolicy`, `iamuser`, `stssession`;
//! see `rows_iam.rs`) and custom domains with their certificates (`rows_domains.rs`).
//!
//! Deployment snapshots are stored once per content (the sha256 of their JSON), so
//! deployments of an unchanged API share one. Bodies are the model's own serde shape.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tollgate_model::lambda::Function;
use tollgate_model::portal::PortalConsumer;
use tollgate_model::{
    ApiKey, Deployment, DocumentationPart, DocumentationVersion, Resource, RestApi,
    RestApiDefinition, Stage, UsagePlan,
};

use crate::backend::{Loaded, Row, RowOp};
use crate::error::StoreError;
use crate::row_ops::{
    corrupt, delete_api, diff_arcs, diff_deployments, diff_values, is_false, parse, put,
    snapshot_body, split_api, DeploymentRows,
};
use crate::state::{ApiState, State};
use crate::{rows_domains, rows_iam, rows_v2};

pub const KIND_REST_API: &str = "restapi";
pub const KIND_RESOURCE: &str = "resource";
pub const KIND_METHOD: &str = "method";
pub const KIND_MODEL: &str = "model";
pub const KIND_REQUEST_VALIDATOR: &str = "requestvalidator";
pub const KIND_AUTHORIZER: &str = "authorizer";
pub const KIND_GATEWAY_RESPONSE: &str = "gatewayresponse";
pub const KIND_DEPLOYMENT: &str = "deployment";
pub const KIND_STAGE: &str = "stage";
pub const KIND_DOCUMENTATION_PART: &str = "documentationpart";
pub const KIND_DOCUMENTATION_VERSION: &str = "documentationversion";
pub const KIND_ACCOUNT: &str = "account";
pub const KIND_API_KEY: &str = "apikey";
pub const KIND_USAGE_PLAN: &str = "usageplan";
pub const KIND_FUNCTION: &str = "function";
pub const KIND_PORTAL_CONSUMER: &str = "portalconsumer";

/// The kinds whose keys start with `{api id}/`.
pub const API_KINDS: [&str; 11] = [
    KIND_RESOURCE,
    KIND_METHOD,
    KIND_MODEL,
    KIND_REQUEST_VALIDATOR,
    KIND_AUTHORIZER,
    KIND_GATEWAY_RESPONSE,
    KIND_DEPLOYMENT,
    KIND_STAGE,
    KIND_DOCUMENTATION_PART,
    KIND_DOCUMENTATION_VERSION,
    KIND_REST_API,
];

/// The `restapi` row: what a definition holds besides its collections.
#[derive(Serialize)]
struct ApiRowOut<'a> {
    api: &'a RestApi,
    #[serde(skip_serializing_if = "is_false")]
    deleted: bool,
    #[serde(rename = "createdSequence", skip_serializing_if = "Option::is_none")]
    created_sequence: Option<u64>,
}

#[derive(Deserialize)]
struct ApiRowIn {
    api: RestApi,
    #[serde(default)]
    deleted: bool,
    /// Absent from rows written before APIs kept their creation order.
    #[serde(rename = "createdSequence", default)]
    created_sequence: Option<u64>,
}

/// The `deployment` row: the deployment with its snapshot replaced by the snapshot's hash.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeploymentRow {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    created_date: i64,
    snapshot: String,
}

/// A snapshot's canonical JSON (the model's serde output: struct fields in declaration
/// order, maps sorted) and its sha256, hex.
pub fn snapshot_row(def: &RestApiDefinition) -> Result<(String, String), StoreError> {
    snapshot_body(&def.api.id, def)
}

/// A top-level collection (keys, plans, functions): skipped whole when its `Arc` is the
/// same, else diffed entity by entity.
fn diff_top_level<T: Serialize>(
    ops: &mut Vec<RowOp>,
    kind: &'static str,
    old: &Arc<BTreeMap<String, Arc<T>>>,
    new: &Arc<BTreeMap<String, Arc<T>>>,
) -> Result<(), StoreError> {
    if Arc::ptr_eq(old, new) {
        return Ok(());
    }
    diff_arcs(ops, kind, "", Some(old), new)
}

/// A resource as its row stores it: without its methods (they have rows of their own).
fn bare(r: &Resource) -> Resource {
    let mut r = r.clone();
    r.resource_methods.clear();
    r
}

fn diff_resources(
    ops: &mut Vec<RowOp>,
    api: &str,
    old: Option<&BTreeMap<String, Resource>>,
    new: &BTreeMap<String, Resource>,
) -> Result<(), StoreError> {
    for (id, r) in new {
        let prev = old.and_then(|o| o.get(id));
        if prev == Some(r) {
            continue;
        }
        let b = bare(r);
        if prev.map(bare).as_ref() != Some(&b) {
            put(ops, KIND_RESOURCE, format!("{api}/{id}"), &b)?;
        }
        diff_values(
            ops,
            KIND_METHOD,
            &format!("{api}/{id}/"),
            prev.map(|p| &p.resource_methods),
            &r.resource_methods,
        )?;
    }
    for id in old.into_iter().flat_map(|o| o.keys()) {
        if !new.contains_key(id) {
            ops.push(RowOp::Delete {
                kind: KIND_RESOURCE,
                key: format!("{api}/{id}"),
            });
            ops.push(RowOp::DeletePrefix {
                kind: KIND_METHOD,
                prefix: format!("{api}/{id}/"),
            });
        }
    }
    Ok(())
}

fn diff_definition(
    ops: &mut Vec<RowOp>,
    id: &str,
    old: Option<&RestApiDefinition>,
    new: &RestApiDefinition,
) -> Result<(), StoreError> {
    let row_changed = |o: &RestApiDefinition| {
        o.api != new.api || o.deleted != new.deleted || o.created_sequence != new.created_sequence
    };
    if old.is_none_or(row_changed) {
        let row = ApiRowOut {
            api: &new.api,
            deleted: new.deleted,
            created_sequence: new.created_sequence,
        };
        put(ops, KIND_REST_API, id.to_string(), &row)?;
    }
    diff_resources(ops, id, old.map(|o| &o.resources), &new.resources)?;
    let prefix = format!("{id}/");
    diff_values(
        ops,
        KIND_MODEL,
        &prefix,
        old.map(|o| &o.models),
        &new.models,
    )?;
    diff_values(
        ops,
        KIND_REQUEST_VALIDATOR,
        &prefix,
        old.map(|o| &o.request_validators),
        &new.request_validators,
    )?;
    diff_values(
        ops,
        KIND_AUTHORIZER,
        &prefix,
        old.map(|o| &o.authorizers),
        &new.authorizers,
    )?;
    diff_values(
        ops,
        KIND_GATEWAY_RESPONSE,
        &prefix,
        old.map(|o| &o.gateway_responses),
        &new.gateway_responses,
    )
}

impl DeploymentRows for Deployment {
    type Snapshot = RestApiDefinition;
    type Row = DeploymentRow;

    fn snapshot(&self) -> &Arc<RestApiDefinition> {
        &self.snapshot
    }

    fn row(&self, snapshot: String) -> DeploymentRow {
        DeploymentRow {
            id: self.id.clone(),
            description: self.description.clone(),
            created_date: self.created_date,
            snapshot,
        }
    }
}

/// The row operations that turn `old` into `new`. Unchanged parts are skipped by `Arc`
/// identity; inside a changed definition, sub-entities are compared by value.
pub fn diff(old: &State, new: &State) -> Result<Vec<RowOp>, StoreError> {
    let mut ops = vec![];
    for (id, api) in &new.apis {
        let prev = old.apis.get(id);
        if prev.is_some_and(|p| Arc::ptr_eq(p, api)) {
            continue;
        }
        if !prev.is_some_and(|p| Arc::ptr_eq(&p.definition, &api.definition)) {
            let old_def = prev.map(|p| p.definition.as_ref());
            diff_definition(&mut ops, id, old_def, &api.definition)?;
        }
        diff_deployments(
            &mut ops,
            KIND_DEPLOYMENT,
            id,
            prev.map(|p| &p.deployments),
            &api.deployments,
        )?;
        diff_arcs(
            &mut ops,
            KIND_STAGE,
            &format!("{id}/"),
            prev.map(|p| &p.stages),
            &api.stages,
        )?;
        diff_arcs(
            &mut ops,
            KIND_DOCUMENTATION_PART,
            &format!("{id}/"),
            prev.map(|p| &p.documentation_parts),
            &api.documentation_parts,
        )?;
        diff_arcs(
            &mut ops,
            KIND_DOCUMENTATION_VERSION,
            &format!("{id}/"),
            prev.map(|p| &p.documentation_versions),
            &api.documentation_versions,
        )?;
    }
    for id in old.apis.keys().filter(|k| !new.apis.contains_key(*k)) {
        delete_api(
            &mut ops,
            KIND_REST_API,
            &API_KINDS[..API_KINDS.len() - 1],
            id,
        );
    }
    rows_v2::diff(&mut ops, old, new)?;
    diff_top_level(&mut ops, KIND_API_KEY, &old.api_keys, &new.api_keys)?;
    diff_top_level(
        &mut ops,
        KIND_USAGE_PLAN,
        &old.usage_plans,
        &new.usage_plans,
    )?;
    diff_top_level(&mut ops, KIND_FUNCTION, &old.functions, &new.functions)?;
    diff_top_level(
        &mut ops,
        KIND_PORTAL_CONSUMER,
        &old.portal_consumers,
        &new.portal_consumers,
    )?;
    rows_iam::diff(&mut ops, &old.iam, &new.iam)?;
    rows_domains::diff(&mut ops, &old.domains, &new.domains)?;
    if !Arc::ptr_eq(&old.account, &new.account) {
        put(&mut ops, KIND_ACCOUNT, String::new(), new.account.as_ref())?;
    }
    Ok(ops)
}

/// An API while its rows are read.
struct Building {
    definition: RestApiDefinition,
    deployments: BTreeMap<String, Arc<Deployment>>,
    stages: BTreeMap<String, Arc<Stage>>,
    parts: BTreeMap<String, Arc<DocumentationPart>>,
    versions: BTreeMap<String, Arc<DocumentationVersion>>,
}

/// Rebuilds the state from rows. Rows of an API whose `restapi` row is missing are
/// ignored (with a warning), like rows of an unknown kind.
pub fn decode(loaded: Loaded) -> Result<State, StoreError> {
    // Raw until a deployment row names one: its kind says which type the snapshot is.
    let raw_snapshots: HashMap<String, String> = loaded.snapshots.into_iter().collect();
    let mut snapshots: HashMap<String, Arc<RestApiDefinition>> = HashMap::new();
    let mut v2_rows = vec![];
    let mut iam_rows = vec![];
    let mut domain_rows = vec![];
    let mut state = State {
        version: loaded.version,
        ..State::default()
    };
    let mut apis: BTreeMap<String, Building> = BTreeMap::new();
    let mut scoped = vec![];
    let mut methods = vec![];
    for row in loaded.rows {
        let (kind, key, body) = (row.kind.as_str(), row.key, row.body);
        match kind {
            KIND_REST_API => {
                let r: ApiRowIn = parse(kind, &key, &body)?;
                let mut definition = RestApiDefinition::new(r.api);
                // Its collections come from their own rows.
                definition.resources.clear();
                definition.models.clear();
                definition.deleted = r.deleted;
                definition.created_sequence = r.created_sequence;
                let b = Building {
                    definition,
                    deployments: BTreeMap::new(),
                    stages: BTreeMap::new(),
                    parts: BTreeMap::new(),
                    versions: BTreeMap::new(),
                };
                apis.insert(key, b);
            }
            KIND_METHOD => methods.push((key, body)),
            KIND_ACCOUNT => state.account = Arc::new(parse(kind, &key, &body)?),
            KIND_API_KEY => {
                let k: ApiKey = parse(kind, &key, &body)?;
                Arc::make_mut(&mut state.api_keys).insert(key, Arc::new(k));
            }
            KIND_USAGE_PLAN => {
                let p: UsagePlan = parse(kind, &key, &body)?;
                Arc::make_mut(&mut state.usage_plans).insert(key, Arc::new(p));
            }
            KIND_FUNCTION => {
                let f: Function = parse(kind, &key, &body)?;
                Arc::make_mut(&mut state.functions).insert(key, Arc::new(f));
            }
            KIND_PORTAL_CONSUMER => {
                let c: PortalConsumer = parse(kind, &key, &body)?;
                Arc::make_mut(&mut state.portal_consumers).insert(key, Arc::new(c));
            }
            _ if API_KINDS.contains(&kind) => scoped.push((row.kind, key, body)),
            _ if rows_v2::KINDS.contains(&kind) => v2_rows.push(Row {
                kind: row.kind,
                key,
                body,
            }),
            _ if rows_iam::KINDS.contains(&kind) => iam_rows.push(Row {
                kind: row.kind,
                key,
                body,
            }),
            _ if rows_domains::KINDS.contains(&kind) => domain_rows.push(Row {
                kind: row.kind,
                key,
                body,
            }),
            other => tracing::warn!(kind = other, key, "ignoring row of unknown kind"),
        }
    }
    for (kind, key, body) in scoped {
        let (api, name) = split_api(&kind, &key)?;
        let Some(b) = apis.get_mut(api) else {
            tracing::warn!(kind, key, "ignoring row of a missing API");
            continue;
        };
        let name = name.to_string();
        let def = &mut b.definition;
        match kind.as_str() {
            KIND_RESOURCE => {
                def.resources.insert(name, parse(&kind, &key, &body)?);
            }
            KIND_MODEL => {
                def.models.insert(name, parse(&kind, &key, &body)?);
            }
            KIND_REQUEST_VALIDATOR => {
                def.request_validators
                    .insert(name, parse(&kind, &key, &body)?);
            }
            KIND_AUTHORIZER => {
                def.authorizers.insert(name, parse(&kind, &key, &body)?);
            }
            KIND_GATEWAY_RESPONSE => {
                def.gateway_responses
                    .insert(name, parse(&kind, &key, &body)?);
            }
            KIND_STAGE => {
                b.stages.insert(name, Arc::new(parse(&kind, &key, &body)?));
            }
            KIND_DOCUMENTATION_PART => {
                b.parts.insert(name, Arc::new(parse(&kind, &key, &body)?));
            }
            KIND_DOCUMENTATION_VERSION => {
                b.versions
                    .insert(name, Arc::new(parse(&kind, &key, &body)?));
            }
            KIND_DEPLOYMENT => {
                let r: DeploymentRow = parse(&kind, &key, &body)?;
                let snapshot = match snapshots.get(&r.snapshot) {
                    Some(s) => s.clone(),
                    None => {
                        let raw = raw_snapshots
                            .get(&r.snapshot)
                            .ok_or_else(|| corrupt(&kind, &key, "its snapshot is missing"))?;
                        let def: RestApiDefinition = parse("snapshot", &r.snapshot, raw)?;
                        let def = Arc::new(def);
                        snapshots.insert(r.snapshot.clone(), def.clone());
                        def
                    }
                };
                let d = Deployment {
                    id: r.id,
                    description: r.description,
                    created_date: r.created_date,
                    snapshot,
                };
                b.deployments.insert(name, Arc::new(d));
            }
            _ => {}
        }
    }
    for (key, body) in methods {
        let (api, rest) = split_api(KIND_METHOD, &key)?;
        let (res, verb) = split_api(KIND_METHOD, rest)?;
        let resource = apis
            .get_mut(api)
            .and_then(|b| b.definition.resources.get_mut(res));
        let Some(resource) = resource else {
            tracing::warn!(key, "ignoring a method of a missing resource");
            continue;
        };
        let m = parse(KIND_METHOD, &key, &body)?;
        resource.resource_methods.insert(verb.to_string(), m);
    }
    for (id, b) in apis {
        let api = ApiState {
            definition: Arc::new(b.definition),
            deployments: b.deployments,
            stages: b.stages,
            documentation_parts: b.parts,
            documentation_versions: b.versions,
        };
        state.apis.insert(id, Arc::new(api));
    }
    rows_v2::decode(&mut state, v2_rows, &raw_snapshots)?;
    state.iam = Arc::new(rows_iam::decode(iam_rows)?);
    state.domains = Arc::new(rows_domains::decode(domain_rows)?);
    Ok(state)
}
