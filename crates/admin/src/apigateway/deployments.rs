//! CreateDeployment, GetDeployments, GetDeployment, UpdateDeployment, DeleteDeployment.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tollgate_model::{ids, time, CanarySettings, Deployment, RestApiDefinition, Stage};

use super::shared::{api, api_mut};
use super::stages::{check_variables, CanarySettingsInput};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::pagination::page;
use crate::core::patch::PatchBody;
use crate::core::patch_table::{NoMatch, PatchTable};
use crate::core::util::{empty, json, parse_body, Query as Q};
use crate::core::wire::Wire;

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateDeploymentInput {
    /// Kept as sent: an empty name is told apart from none in the canary error.
    #[serde(default)]
    stage_name: Option<String>,
    stage_description: Option<String>,
    description: Option<String>,
    cache_cluster_enabled: Option<bool>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    cache_cluster_size: Option<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    canary_settings: Option<CanarySettingsInput>,
    tracing_enabled: Option<bool>,
}

/// A deployment on the wire: its snapshot is stored, never shown.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentWire<'a> {
    id: &'a str,
    created_date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

impl Wire for Deployment {
    type Shape<'a> = DeploymentWire<'a>;

    fn to_wire(&self) -> DeploymentWire<'_> {
        DeploymentWire {
            id: &self.id,
            created_date: self.created_date,
            description: self.description.as_deref(),
        }
    }
}

/// GetDeployment's view: the wire shape, plus `apiSummary` when asked for.
fn view(d: &Deployment, summary: bool) -> serde_json::Value {
    let mut v = serde_json::to_value(d.to_wire()).unwrap_or_default();
    if summary {
        v["apiSummary"] = serde_json::to_value(d.api_summary()).unwrap_or_default();
    }
    v
}

pub async fn create(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: CreateDeploymentInput = parse_body(&body)?;
    check_variables(&input.variables)?;
    let cache_size = super::stage_patch::cache_cluster_size(input.cache_cluster_size.as_deref())?;
    let stage_name = input.stage_name.clone().filter(|s| !s.is_empty());
    if let Some(name) = &stage_name {
        if !tollgate_model::validate::stage_name(name) {
            return Err(ApiError::bad_request(
                "Stage name only allows a-zA-Z0-9_- and must be between 1 and 128 characters",
            ));
        }
    }
    let out = ctx.store.transact(|s| {
        // The closure may run again (on a conflict): it moves copies.
        let input = input.clone();
        let a = api(s, &api_id)?;
        if !a.definition.has_methods() {
            return Err(ApiError::bad_request("The REST API doesn't contain any methods"));
        }
        for r in a.definition.resources.values() {
            if r.resource_methods.values().any(|m| m.method_integration.is_none()) {
                return Err(ApiError::bad_request("No integration defined for method"));
            }
        }
        check_templates(&a.definition)?;
        if input.canary_settings.is_some() {
            match &stage_name {
                // AWS names what it got: `null`, or the empty name (recorded).
                None => return Err(ApiError::bad_request(format!(
                    "Invalid deployment content specified.Non null and non empty stageName must be provided for canary deployment. Provided value is {}",
                    input.stage_name.as_deref().unwrap_or("null")
                ))),
                Some(n) if !a.stages.contains_key(n) => {
                    return Err(ApiError::bad_request(format!(
                        "Invalid deployment content specified.Stage {n} must already be created before making a canary release deployment"
                    )))
                }
                _ => {}
            }
            let percent = input.canary_settings.as_ref().and_then(|c| c.percent_traffic);
            if percent.is_some_and(|p| !(0.0..=100.0).contains(&p)) {
                return Err(ApiError::bad_request(
                    "Canary weight must be between 0.0 and 100.0",
                ));
            }
        }
        let id = ids::unique(ids::short_id, |id| a.deployments.contains_key(id));
        let now = time::now_epoch();
        let deployment = Deployment {
            id: id.clone(),
            description: input.description.clone(),
            created_date: now,
            // The definition is copy-on-write: sharing the Arc is the snapshot.
            snapshot: a.definition.clone(),
        };
        let a = api_mut(s, &api_id)?;
        a.deployments.insert(id.clone(), Arc::new(deployment.clone()));
        if let Some(name) = stage_name.clone() {
            if let Some(canary) = input.canary_settings {
                let stage = Arc::make_mut(a.stages.get_mut(&name).ok_or_else(ApiError::no_stage)?);
                stage.canary_settings = Some(CanarySettings {
                    percent_traffic: Some(canary.percent_traffic.unwrap_or(0.0)),
                    deployment_id: Some(id.clone()),
                    stage_variable_overrides: canary.stage_variable_overrides.unwrap_or_default(),
                    use_stage_cache: canary.use_stage_cache.unwrap_or(false),
                });
                stage.last_updated_date = now;
            } else if let Some(existing) = a.stages.get_mut(&name) {
                let stage = Arc::make_mut(existing);
                stage.deployment_id = id.clone();
                stage.variables.extend(input.variables.clone());
                stage.last_updated_date = now;
            } else {
                let mut stage = Stage::new(name.clone(), id.clone(), now);
                stage.description = input.stage_description.clone();
                stage.variables = input.variables.clone();
                stage.tracing_enabled = input.tracing_enabled.unwrap_or(false);
                if input.cache_cluster_enabled.unwrap_or(false) {
                    stage.cache_cluster_size = cache_size;
                    stage.set_cache_cluster(true);
                }
                a.stages.insert(name, Arc::new(stage));
            }
        }
        Ok::<_, ApiError>(deployment)
    }).await?;
    Ok(json(201, &view(&out, false)))
}

/// Refuses a snapshot with a mapping template that does not parse: the data plane could
/// only answer 500 for it, so the mistake is reported to whoever deploys, like AWS's
/// deployment-time validation. AWS's text for this case is not recorded; ours follows its
/// mapping-expression errors ("Invalid mapping expression specified: ...") and names the
/// method, the template and the parser's line and column. Resources are checked in path
/// order, so the error is the same on every try.
fn check_templates(def: &RestApiDefinition) -> Result<(), ApiError> {
    let mut resources: Vec<_> = def.resources.values().collect();
    resources.sort_by(|a, b| a.path.cmp(&b.path));
    for r in resources {
        for (verb, m) in &r.resource_methods {
            let Some(i) = &m.method_integration else {
                continue;
            };
            let response_templates = i.integration_responses.values().flat_map(|ir| {
                ir.templates()
                    .map(move |(ct, t)| (format!("integration response {}", ir.status_code), ct, t))
            });
            let templates = i
                .request_templates
                .iter()
                .map(|(ct, t)| ("integration request".to_string(), ct, t))
                .chain(response_templates);
            for (place, content_type, src) in templates {
                if let Err(e) = tollgate_vtl::Template::parse(src) {
                    return Err(ApiError::bad_request(format!(
                        "Invalid mapping template specified: {place} of {verb} {path}, content type {content_type}: {e}",
                        path = r.path
                    )));
                }
            }
        }
    }
    Ok(())
}

pub async fn list(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    let a = api(&st, &api_id)?;
    let items: Vec<(String, serde_json::Value)> = a
        .deployments
        .values()
        .map(|d| (format!("{:020}{}", d.created_date, d.id), view(d, false)))
        .collect();
    page(items, &q)
}

pub async fn get(
    State(ctx): State<Ctx>,
    Path((api_id, dep)): Path<(String, String)>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    let d = api(&st, &api_id)?
        .deployments
        .get(&dep)
        .ok_or_else(ApiError::no_deployment)?;
    let summary = q
        .get("embed")
        .is_some_and(|e| e.split(',').any(|x| x == "apisummary"));
    Ok(json(200, &view(d, summary)))
}

/// UpdateDeployment's one path.
static DEPLOYMENT_PATCH: PatchTable<Deployment, ()> = PatchTable {
    rules: &[replace_opt!("/description", description)],
    replace_only: &[],
    no_match: NoMatch::InvalidPath,
};

pub async fn update(
    State(ctx): State<Ctx>,
    Path((api_id, dep)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let ops = PatchBody::parse(&body, "updateDeploymentInput")?;
    let out = ctx
        .store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            let d = Arc::make_mut(
                a.deployments
                    .get_mut(&dep)
                    .ok_or_else(ApiError::no_deployment)?,
            );
            DEPLOYMENT_PATCH.apply(d, &(), &ops)?;
            Ok::<_, ApiError>(view(d, false))
        })
        .await?;
    Ok(json(200, &out))
}

pub async fn delete(
    State(ctx): State<Ctx>,
    Path((api_id, dep)): Path<(String, String)>,
) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            if !a.deployments.contains_key(&dep) {
                return Err(ApiError::no_deployment());
            }
            let in_use = a.stages.values().any(|st| {
                st.deployment_id == dep
                    || st
                        .canary_settings
                        .as_ref()
                        .and_then(|c| c.deployment_id.as_deref())
                        == Some(dep.as_str())
            });
            if in_use {
                return Err(ApiError::bad_request(
                    "Active stages pointing to this deployment must be moved or deleted",
                ));
            }
            a.deployments.remove(&dep);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(202))
}
