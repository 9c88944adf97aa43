//! CreateStage, GetStages, GetStage, UpdateStage, DeleteStage, FlushStage*Cache.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_model::{time, CacheClusterStatus, CanarySettings, Stage};
use tollgate_store::ApiState;

use super::shared::{api, api_mut};
use super::stage_patch::{cache_cluster_size, enable_cache_cluster, STAGE_PATCH};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::patch::PatchBody;
use crate::core::util::{empty, json, parse_body, Query as Q};

const MAX_STAGES: usize = 10;

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanarySettingsInput {
    pub percent_traffic: Option<f64>,
    pub deployment_id: Option<String>,
    pub stage_variable_overrides: Option<BTreeMap<String, String>>,
    pub use_stage_cache: Option<bool>,
}

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateStageInput {
    stage_name: Option<String>,
    deployment_id: Option<String>,
    description: Option<String>,
    cache_cluster_enabled: Option<bool>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    cache_cluster_size: Option<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    documentation_version: Option<String>,
    canary_settings: Option<CanarySettingsInput>,
    tracing_enabled: Option<bool>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

pub fn check_variables(vars: &BTreeMap<String, String>) -> ApiResult<()> {
    if vars.len() > 100 {
        return Err(ApiError::bad_request(
            "A stage can have at most 100 stage variables",
        ));
    }
    for (k, v) in vars {
        tollgate_model::validate::stage_variable(k, v).map_err(ApiError::bad_request)?;
    }
    Ok(())
}

pub async fn create(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: CreateStageInput = parse_body(&body)?;
    let name = input.stage_name.clone().unwrap_or_default();
    if !tollgate_model::validate::stage_name(&name) {
        return Err(ApiError::bad_request(
            "Stage name only allows a-zA-Z0-9_- and must be between 1 and 128 characters",
        ));
    }
    let dep = input.deployment_id.clone().unwrap_or_default();
    check_variables(&input.variables)?;
    let cache_size = cache_cluster_size(input.cache_cluster_size.as_deref())?;
    for (k, v) in &input.tags {
        tollgate_model::validate::tag(k, v).map_err(ApiError::bad_request)?;
    }
    let out = ctx
        .store
        .transact(|s| {
            // The closure may run again (on a conflict): it moves copies.
            let input = input.clone();
            let a = api_mut(s, &api_id)?;
            if a.stages.contains_key(&name) {
                return Err(ApiError::conflict("Stage already exists"));
            }
            if !a.deployments.contains_key(&dep) {
                return Err(ApiError::bad_request(
                    "Invalid deployment identifier specified",
                ));
            }
            if a.stages.len() >= MAX_STAGES {
                return Err(ApiError::limit_exceeded(format!(
                    "Maximum number of Stages for this API has been reached: {MAX_STAGES}"
                )));
            }
            let mut stage = Stage::new(name.clone(), dep.clone(), time::now_epoch());
            stage.description = input.description;
            stage.variables = input.variables;
            stage.documentation_version = input.documentation_version;
            stage.tracing_enabled = input.tracing_enabled.unwrap_or(false);
            stage.tags = input.tags;
            stage.cache_cluster_size = cache_size;
            if input.cache_cluster_enabled.unwrap_or(false) {
                enable_cache_cluster(&mut stage, true);
            }
            if let Some(c) = input.canary_settings {
                let canary_dep = c.deployment_id.unwrap_or_else(|| dep.clone());
                if !a.deployments.contains_key(&canary_dep) {
                    return Err(ApiError::bad_request("Deployment id does not exist"));
                }
                stage.canary_settings = Some(CanarySettings {
                    percent_traffic: Some(c.percent_traffic.unwrap_or(0.0)),
                    deployment_id: Some(canary_dep),
                    stage_variable_overrides: c.stage_variable_overrides.unwrap_or_default(),
                    use_stage_cache: c.use_stage_cache.unwrap_or(false),
                });
            }
            a.stages.insert(name.clone(), Arc::new(stage.clone()));
            Ok::<_, ApiError>(stage)
        })
        .await?;
    Ok(json(201, &out))
}

pub async fn list(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    let a = api(&st, &api_id)?;
    let items: Vec<Stage> = a
        .stages
        .values()
        .filter(|s| q.get("deploymentId").is_none_or(|d| *d == s.deployment_id))
        .map(|s| observed(&ctx, &api_id, s))
        .collect();
    Ok(json(200, &serde_json::json!({ "item": items })))
}

fn stage<'a>(a: &'a ApiState, name: &str) -> ApiResult<&'a Arc<Stage>> {
    a.stages.get(name).ok_or_else(ApiError::no_stage)
}

pub async fn get(
    State(ctx): State<Ctx>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    let found = stage(api(&st, &api_id)?, &name)?;
    Ok(json(200, &observed(&ctx, &api_id, found)))
}

pub async fn delete(
    State(ctx): State<Ctx>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            api_mut(s, &api_id)?
                .stages
                .remove(&name)
                .ok_or_else(ApiError::no_stage)?;
            super::shared::unlink_stage(s, &api_id, Some(&name));
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(202))
}

/// FlushStageCache: the data plane empties the stage's response cache.
pub async fn flush_cache(
    State(ctx): State<Ctx>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    stage(api(&st, &api_id)?, &name)?;
    if let Some(t) = &ctx.test_invoker {
        t.flush_stage_cache(&api_id, &name).await;
    }
    Ok(empty(202))
}

/// The stage as the control plane answers it: a cache being made or dropped is reported
/// `AVAILABLE` or `NOT_AVAILABLE` once the data plane has done it.
pub fn observed(ctx: &Ctx, api_id: &str, st: &Stage) -> Stage {
    let mut st = st.clone();
    if let Some(t) = &ctx.test_invoker {
        let exists = || t.stage_cache_exists(api_id, &st.stage_name);
        st.cache_cluster_status = match st.cache_cluster_status {
            CacheClusterStatus::CreateInProgress if exists() => CacheClusterStatus::Available,
            CacheClusterStatus::DeleteInProgress if !exists() => CacheClusterStatus::NotAvailable,
            other => other,
        };
    }
    st
}

/// FlushStageAuthorizersCache: the data plane empties the stage's authorizer caches.
pub async fn flush_authorizers_cache(
    State(ctx): State<Ctx>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    stage(api(&st, &api_id)?, &name)?;
    if let Some(t) = &ctx.test_invoker {
        t.flush_authorizer_cache(&api_id, &name).await;
    }
    Ok(empty(202))
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path((api_id, name)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let ops = PatchBody::parse(&body, "updateStageInput")?;
    let out = ctx
        .store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            let mut st = stage(a, &name)?.as_ref().clone();
            let status = st.cache_cluster_status;
            STAGE_PATCH.apply(&mut st, a, &ops)?;
            st.last_updated_date = time::now_epoch();
            a.stages.insert(name.clone(), Arc::new(st.clone()));
            Ok::<_, ApiError>((st, status))
        })
        .await?;
    // A cache this update asks for (or drops) is reported in progress, as AWS answers;
    // otherwise as the data plane has it.
    let (st, before) = out;
    if st.cache_cluster_status != before {
        return Ok(json(200, &st));
    }
    Ok(json(200, &observed(&ctx, &api_id, &st)))
}
