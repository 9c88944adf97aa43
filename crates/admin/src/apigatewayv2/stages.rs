//! CreateStage, GetStages, GetStage, UpdateStage, DeleteStage, DeleteRouteSettings,
//! DeleteAccessLogSettings.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_model::v2::{self, RouteSettings, Stage};
use tollgate_model::{time, AccessLogSettings};
use tollgate_store::V2ApiState;

use super::shared::{
    api, api_mut, auto_deploy_stage, check_description, check_tags, find, new_stage, not_found,
    not_managed, stage_mut,
};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::pagination::page_map_v2;
use crate::core::util::{empty, json, parse_body, Query as Q};

#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StageInput {
    stage_name: Option<String>,
    auto_deploy: Option<bool>,
    deployment_id: Option<String>,
    description: Option<String>,
    default_route_settings: Option<RouteSettings>,
    route_settings: Option<BTreeMap<String, RouteSettings>>,
    stage_variables: Option<BTreeMap<String, String>>,
    access_log_settings: Option<AccessLogSettings>,
    tags: Option<BTreeMap<String, String>>,
    // WebSocket-only: named so an HTTP API can refuse it.
    client_certificate_id: Option<String>,
}

type StagePath = Path<(String, String)>;

fn check_route_settings(s: &RouteSettings) -> ApiResult<()> {
    if s.throttling_burst_limit.is_some_and(|b| b < 0)
        || s.throttling_rate_limit
            .is_some_and(|r| r < 0.0 || !r.is_finite())
    {
        return Err(ApiError::bad_request(
            "Throttling limits must be non-negative numbers",
        ));
    }
    Ok(())
}

impl StageInput {
    /// Checks that need no state.
    fn check(&self) -> ApiResult<()> {
        if self.client_certificate_id.is_some() {
            return Err(ApiError::bad_request(
                "clientCertificateId is supported only for WebSocket APIs",
            ));
        }
        check_description(self.description.as_deref())?;
        for s in self
            .default_route_settings
            .iter()
            .chain(self.route_settings.iter().flat_map(|m| m.values()))
        {
            check_route_settings(s)?;
        }
        for (k, v) in self.stage_variables.iter().flatten() {
            tollgate_model::validate::stage_variable(k, v).map_err(ApiError::bad_request)?;
        }
        if let Some(tags) = &self.tags {
            check_tags(tags)?;
        }
        Ok(())
    }

    /// Applies the members this body names to `st` (route settings and stage variables
    /// merged per key); `true` when the stage must be deployed now (autoDeploy turned on).
    fn apply(self, st: &mut Stage, api: &V2ApiState) -> ApiResult<bool> {
        for key in self.route_settings.iter().flat_map(|m| m.keys()) {
            if !api.definition.routes.values().any(|r| &r.route_key == key) {
                return Err(ApiError::not_found(format!(
                    "Unable to find Route by key {key} within the provided RouteSettings"
                )));
            }
        }
        let was_auto = st.auto_deploy;
        if let Some(a) = self.auto_deploy {
            st.auto_deploy = a;
        }
        if let Some(d) = self.deployment_id {
            if st.auto_deploy {
                return Err(ApiError::bad_request(
                    "deploymentId cannot be set on a stage with autoDeploy enabled",
                ));
            }
            if !api.deployments.contains_key(&d) {
                return Err(not_found("Deployment", &d));
            }
            st.deployment_id = Some(d);
        }
        if self.description.is_some() {
            st.description = self.description;
        }
        if let Some(d) = self.default_route_settings {
            st.default_route_settings.merge(&d);
        }
        for (key, s) in self.route_settings.into_iter().flatten() {
            st.route_settings.entry(key).or_default().merge(&s);
        }
        st.stage_variables
            .extend(self.stage_variables.into_iter().flatten());
        if self.access_log_settings.is_some() {
            st.access_log_settings = self.access_log_settings;
        }
        st.last_updated_date = time::now_iso8601();
        Ok(st.auto_deploy && !was_auto)
    }
}

pub async fn create(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: StageInput = parse_body(&body)?;
    input.check()?;
    let name = input
        .stage_name
        .clone()
        .ok_or_else(|| ApiError::bad_request("StageName is required"))?;
    if name != v2::DEFAULT && !tollgate_model::validate::stage_name(&name) {
        return Err(ApiError::bad_request(format!(
            "Invalid stage name specified: {name}. Stage names must be $default or match [A-Za-z0-9_-]{{1,128}}"
        )));
    }
    let out = ctx
        .store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            if a.stages.contains_key(&name) {
                return Err(ApiError::conflict(format!("Stage {name} already exists")));
            }
            if name == v2::DEFAULT && a.definition.is_websocket() {
                return Err(ApiError::bad_request(
                    "The $default stage is supported only for HTTP APIs",
                ));
            }
            let mut st = new_stage(name.clone());
            st.tags = input.tags.clone().unwrap_or_default();
            let deploy_now = input.clone().apply(&mut st, a)?;
            a.stages.insert(name.clone(), Arc::new(st));
            if deploy_now {
                auto_deploy_stage(a, &name);
            }
            Ok::<_, ApiError>(a.stages[&name].as_ref().clone())
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
    page_map_v2(&a.stages, &q)
}

pub async fn get(State(ctx): State<Ctx>, Path((api_id, name)): StagePath) -> ApiResult<Response> {
    let st = ctx.store.state();
    let stage = find(&api(&st, &api_id)?.stages, "Stage", &name)?;
    Ok(json(200, stage.as_ref()))
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path((api_id, name)): StagePath,
    body: Bytes,
) -> ApiResult<Response> {
    let input: StageInput = parse_body(&body)?;
    input.check()?;
    if input.tags.is_some() {
        return Err(ApiError::bad_request(
            "tags cannot be changed by UpdateStage; use TagResource",
        ));
    }
    let out = ctx
        .store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            let mut st = a
                .stages
                .get(&name)
                .map(|s| s.as_ref().clone())
                .ok_or_else(|| not_found("Stage", &name))?;
            not_managed(st.api_gateway_managed, "stage")?;
            if input.stage_name.as_deref().is_some_and(|n| n != name) {
                return Err(ApiError::bad_request("A stage cannot be renamed"));
            }
            let deploy_now = input.clone().apply(&mut st, a)?;
            a.stages.insert(name.clone(), Arc::new(st));
            if deploy_now {
                auto_deploy_stage(a, &name);
            }
            Ok::<_, ApiError>(a.stages[&name].as_ref().clone())
        })
        .await?;
    Ok(json(200, &out))
}

pub async fn delete(
    State(ctx): State<Ctx>,
    Path((api_id, name)): StagePath,
) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            let st = find(&a.stages, "Stage", &name)?;
            not_managed(st.api_gateway_managed, "stage")?;
            a.stages.remove(&name);
            crate::core::domains::unlink(s, &api_id, Some(&name));
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}

pub async fn delete_route_settings(
    State(ctx): State<Ctx>,
    Path((api_id, name, key)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            let st = stage_mut(api_mut(s, &api_id)?, &name)?;
            st.route_settings
                .remove(&key)
                .ok_or_else(|| not_found("RouteSettings", &key))?;
            st.last_updated_date = time::now_iso8601();
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}

pub async fn delete_access_log_settings(
    State(ctx): State<Ctx>,
    Path((api_id, name)): StagePath,
) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            let st = stage_mut(api_mut(s, &api_id)?, &name)?;
            st.access_log_settings = None;
            st.last_updated_date = time::now_iso8601();
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}
