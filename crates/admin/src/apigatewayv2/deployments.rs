//! CreateDeployment, GetDeployments, GetDeployment, UpdateDeployment, DeleteDeployment.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_model::time;

use super::shared::{
    api, api_mut, check_description, deploy, find, not_found, stage_mut, undeployable,
};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::pagination::page_map_v2;
use crate::core::util::{empty, json, parse_body, Query as Q};

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeploymentInput {
    description: Option<String>,
    stage_name: Option<String>,
}

type DeploymentPath = Path<(String, String)>;

pub async fn create(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: DeploymentInput = parse_body(&body)?;
    check_description(input.description.as_deref())?;
    let out = ctx
        .store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            if a.definition.routes.is_empty() {
                return Err(ApiError::bad_request(
                    "Unable to deploy API because no routes exist in this API",
                ));
            }
            if let Some(key) = a.definition.undeployable_route() {
                return Err(ApiError::bad_request(undeployable(key)));
            }
            if let Some(name) = input.stage_name.as_deref() {
                let st = a.stages.get(name).ok_or_else(|| not_found("Stage", name))?;
                if st.auto_deploy {
                    return Err(ApiError::bad_request(format!(
                        "Stage {name} has autoDeploy enabled; it is deployed automatically"
                    )));
                }
            }
            let id = deploy(a, input.description.clone(), false);
            if let Some(name) = input.stage_name.as_deref() {
                let st = stage_mut(a, name)?;
                st.deployment_id = Some(id.clone());
                st.last_updated_date = time::now_iso8601();
            }
            Ok::<_, ApiError>(a.deployments[&id].clone())
        })
        .await?;
    Ok(json(201, out.as_ref()))
}

pub async fn list(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    let a = api(&st, &api_id)?;
    page_map_v2(&a.deployments, &q)
}

pub async fn get(
    State(ctx): State<Ctx>,
    Path((api_id, id)): DeploymentPath,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    let d = find(&api(&st, &api_id)?.deployments, "Deployment", &id)?;
    Ok(json(200, d.as_ref()))
}

/// UpdateDeployment changes the description only (a deployment's snapshot never changes).
pub async fn update(
    State(ctx): State<Ctx>,
    Path((api_id, id)): DeploymentPath,
    body: Bytes,
) -> ApiResult<Response> {
    let input: DeploymentInput = parse_body(&body)?;
    check_description(input.description.as_deref())?;
    let out = ctx
        .store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            let d = a
                .deployments
                .get_mut(&id)
                .ok_or_else(|| not_found("Deployment", &id))?;
            if input.description.is_some() {
                Arc::make_mut(d).description = input.description.clone();
            }
            Ok::<_, ApiError>(d.clone())
        })
        .await?;
    Ok(json(200, out.as_ref()))
}

pub async fn delete(
    State(ctx): State<Ctx>,
    Path((api_id, id)): DeploymentPath,
) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            if !a.deployments.contains_key(&id) {
                return Err(not_found("Deployment", &id));
            }
            if let Some(st) = a
                .stages
                .values()
                .find(|st| st.deployment_id.as_deref() == Some(id.as_str()))
            {
                return Err(ApiError::bad_request(format!(
                    "Deployment {id} is in use by stage {}",
                    st.stage_name
                )));
            }
            a.deployments.remove(&id);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}
