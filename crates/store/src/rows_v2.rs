//! API Gateway v2 APIs as rows, one per entity, beside the REST rows of [`crate::rows`]:
//!
//! | kind | key | body |
//! |---|---|---|
//! | `v2api` | api | the Api object |
//! | `v2route`, `v2integration`, `v2authorizer`, `v2model` | api/id | one item |
//! | `v2routeresponse`, `v2integrationresponse` (WebSocket) | api/parent/id | one item |
//! | `v2deployment` | api/deployment | the deployment, its snapshot named by content hash |
//! | `v2stage` | api/stage | one stage |
//!
//! Snapshots share the REST snapshots' table (content-addressed; a deployment row's kind
//! says which type its snapshot is).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tollgate_model::v2::{Api, Definition, Deployment};
use tollgate_model::DeploymentStatus;

use crate::backend::{Row, RowOp};
use crate::error::StoreError;
use crate::row_ops::{
    corrupt, delete_api, diff_arcs, diff_deployments, diff_values, parse, put, split_api,
    DeploymentRows,
};
use crate::state::{State, V2ApiState};

pub const KIND_API: &str = "v2api";
pub const KIND_ROUTE: &str = "v2route";
pub const KIND_INTEGRATION: &str = "v2integration";
pub const KIND_AUTHORIZER: &str = "v2authorizer";
pub const KIND_DEPLOYMENT: &str = "v2deployment";
pub const KIND_STAGE: &str = "v2stage";
pub const KIND_ROUTE_RESPONSE: &str = "v2routeresponse";
pub const KIND_INTEGRATION_RESPONSE: &str = "v2integrationresponse";
pub const KIND_MODEL: &str = "v2model";

/// Every v2 kind; all but `v2api` are keyed `{api id}/...`.
pub const KINDS: [&str; 9] = [
    KIND_API,
    KIND_ROUTE,
    KIND_INTEGRATION,
    KIND_AUTHORIZER,
    KIND_DEPLOYMENT,
    KIND_STAGE,
    KIND_ROUTE_RESPONSE,
    KIND_INTEGRATION_RESPONSE,
    KIND_MODEL,
];

/// The `v2deployment` row: the deployment with its snapshot replaced by the snapshot's hash.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeploymentRow {
    deployment_id: String,
    auto_deployed: bool,
    created_date: String,
    deployment_status: DeploymentStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    deployment_status_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    snapshot: String,
}

fn diff_definition(
    ops: &mut Vec<RowOp>,
    id: &str,
    old: Option<&Definition>,
    new: &Definition,
) -> Result<(), StoreError> {
    if old.is_none_or(|o| o.api != new.api) {
        put(ops, KIND_API, id.to_string(), &new.api)?;
    }
    let prefix = format!("{id}/");
    diff_values(
        ops,
        KIND_ROUTE,
        &prefix,
        old.map(|o| &o.routes),
        &new.routes,
    )?;
    diff_values(
        ops,
        KIND_INTEGRATION,
        &prefix,
        old.map(|o| &o.integrations),
        &new.integrations,
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
        KIND_ROUTE_RESPONSE,
        &prefix,
        old.map(|o| &o.route_responses),
        &new.route_responses,
    )?;
    diff_values(
        ops,
        KIND_INTEGRATION_RESPONSE,
        &prefix,
        old.map(|o| &o.integration_responses),
        &new.integration_responses,
    )?;
    diff_values(
        ops,
        KIND_MODEL,
        &prefix,
        old.map(|o| &o.models),
        &new.models,
    )
}

impl DeploymentRows for Deployment {
    type Snapshot = Definition;
    type Row = DeploymentRow;

    fn snapshot(&self) -> &Arc<Definition> {
        &self.snapshot
    }

    fn row(&self, snapshot: String) -> DeploymentRow {
        DeploymentRow {
            deployment_id: self.deployment_id.clone(),
            auto_deployed: self.auto_deployed,
            created_date: self.created_date.clone(),
            deployment_status: self.deployment_status,
            deployment_status_message: self.deployment_status_message.clone(),
            description: self.description.clone(),
            snapshot,
        }
    }
}

/// The row operations for the v2 APIs that differ between `old` and `new`.
pub(crate) fn diff(ops: &mut Vec<RowOp>, old: &State, new: &State) -> Result<(), StoreError> {
    for (id, api) in &new.v2_apis {
        let prev = old.v2_apis.get(id);
        if prev.is_some_and(|p| Arc::ptr_eq(p, api)) {
            continue;
        }
        if !prev.is_some_and(|p| Arc::ptr_eq(&p.definition, &api.definition)) {
            let old_def = prev.map(|p| p.definition.as_ref());
            diff_definition(ops, id, old_def, &api.definition)?;
        }
        diff_deployments(
            ops,
            KIND_DEPLOYMENT,
            id,
            prev.map(|p| &p.deployments),
            &api.deployments,
        )?;
        diff_arcs(
            ops,
            KIND_STAGE,
            &format!("{id}/"),
            prev.map(|p| &p.stages),
            &api.stages,
        )?;
    }
    for id in old.v2_apis.keys().filter(|k| !new.v2_apis.contains_key(*k)) {
        delete_api(ops, KIND_API, &KINDS[1..], id);
    }
    Ok(())
}

/// Adds the v2 APIs in `rows` (all of v2 kinds) to `state`. `snapshots` are the raw
/// snapshot bodies by hash. Rows of an API whose `v2api` row is missing are ignored.
pub(crate) fn decode(
    state: &mut State,
    rows: Vec<Row>,
    snapshots: &HashMap<String, String>,
) -> Result<(), StoreError> {
    let mut apis: BTreeMap<String, V2ApiState> = BTreeMap::new();
    let mut parsed: HashMap<&str, Arc<Definition>> = HashMap::new();
    let (api_rows, scoped): (Vec<Row>, Vec<Row>) =
        rows.into_iter().partition(|r| r.kind == KIND_API);
    for row in api_rows {
        let api: Api = parse(&row.kind, &row.key, &row.body)?;
        apis.insert(row.key, V2ApiState::new(Definition::new(api)));
    }
    for row in scoped {
        let (kind, key, body) = (row.kind.as_str(), row.key.as_str(), row.body.as_str());
        let (api, name) = split_api(kind, key)?;
        let Some(b) = apis.get_mut(api) else {
            tracing::warn!(kind, key, "ignoring row of a missing API");
            continue;
        };
        let name = name.to_string();
        let def = Arc::make_mut(&mut b.definition);
        match kind {
            KIND_ROUTE => {
                def.routes.insert(name, parse(kind, key, body)?);
            }
            KIND_INTEGRATION => {
                def.integrations.insert(name, parse(kind, key, body)?);
            }
            KIND_AUTHORIZER => {
                def.authorizers.insert(name, parse(kind, key, body)?);
            }
            KIND_ROUTE_RESPONSE => {
                def.route_responses.insert(name, parse(kind, key, body)?);
            }
            KIND_INTEGRATION_RESPONSE => {
                def.integration_responses
                    .insert(name, parse(kind, key, body)?);
            }
            KIND_MODEL => {
                def.models.insert(name, parse(kind, key, body)?);
            }
            KIND_STAGE => {
                b.stages.insert(name, Arc::new(parse(kind, key, body)?));
            }
            KIND_DEPLOYMENT => {
                let r: DeploymentRow = parse(kind, key, body)?;
                let (hash, raw) = snapshots
                    .get_key_value(&r.snapshot)
                    .ok_or_else(|| corrupt(kind, key, "its snapshot is missing"))?;
                let snapshot = match parsed.get(hash.as_str()) {
                    Some(s) => s.clone(),
                    None => {
                        let s: Arc<Definition> = Arc::new(parse("snapshot", hash, raw)?);
                        parsed.insert(hash, s.clone());
                        s
                    }
                };
                let d = Deployment {
                    deployment_id: r.deployment_id,
                    auto_deployed: r.auto_deployed,
                    created_date: r.created_date,
                    deployment_status: r.deployment_status,
                    deployment_status_message: r.deployment_status_message,
                    description: r.description,
                    snapshot,
                };
                b.deployments.insert(name, Arc::new(d));
            }
            _ => {}
        }
    }
    for (id, b) in apis {
        state.v2_apis.insert(id, Arc::new(b));
    }
    Ok(())
}
