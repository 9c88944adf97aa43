//! CreateStage, GetStages, GetStage, UpdateStage, DeleteStage, FlushStage*Cache.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_model::validate::CACHE_CLUSTER_SIZES;
use tollgate_model::{time, AccessLogSettings, CanarySettings, MethodSetting, Stage};
use tollgate_store::ApiState;

use super::shared::{api, api_mut, set_opt};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult, Violation};
use crate::core::patch::{patch_bool, patch_f64, patch_i64};
use crate::core::patch::{PatchBody, PatchOp};
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

fn check_cache_size(size: &str) -> ApiResult<()> {
    if CACHE_CLUSTER_SIZES.contains(&size) {
        Ok(())
    } else {
        Err(Violation::enum_value(
            size,
            "cacheClusterSize",
            "0.5, 1.6, 6.1, 13.5, 28.4, 58.2, 118, 237",
        )
        .into())
    }
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
    if let Some(size) = &input.cache_cluster_size {
        check_cache_size(size)?;
    }
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
            stage.cache_cluster_size = input.cache_cluster_size;
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
    let items: Vec<&Stage> = a
        .stages
        .values()
        .map(|s| s.as_ref())
        .filter(|s| q.get("deploymentId").is_none_or(|d| *d == s.deployment_id))
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
    Ok(json(200, stage(api(&st, &api_id)?, &name)?.as_ref()))
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

/// Records the stage's cache setting. Nothing is cached yet, so the status stays
/// `NOT_AVAILABLE`; say so once per process rather than pretend.
fn enable_cache_cluster(st: &mut Stage, enabled: bool) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    if enabled {
        WARNED.call_once(|| {
            tracing::warn!(
                "cacheClusterEnabled is recorded but Tollgate does not cache responses yet: \
                 stages report cacheClusterStatus NOT_AVAILABLE"
            )
        });
    }
    st.set_cache_cluster(enabled);
}

/// FlushStageCache. No response cache exists yet, so there is nothing to flush.
pub async fn flush_cache(
    State(ctx): State<Ctx>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    stage(api(&st, &api_id)?, &name)?;
    Ok(empty(202))
}

/// FlushStageAuthorizersCache: the data plane empties the stage's authorizer caches.
pub async fn flush_authorizers_cache(
    State(ctx): State<Ctx>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    stage(api(&st, &api_id)?, &name)?;
    if let Some(t) = &ctx.test_invoker {
        t.flush_authorizer_cache(&api_id, &name);
    }
    Ok(empty(202))
}

const INVALID_STAGE_PATH: &str = "Must be one of: [/deploymentId, /description, /cacheClusterEnabled, /cacheClusterSize, /clientCertificateId, /accessLogSettings, /accessLogSettings/destinationArn, /accessLogSettings/format, /{resourcePath}/{httpMethod}/metrics/enabled, /{resourcePath}/{httpMethod}/logging/dataTrace, /{resourcePath}/{httpMethod}/logging/loglevel, /{resourcePath}/{httpMethod}/throttling/burstLimit/{resourcePath}/{httpMethod}/throttling/rateLimit/{resourcePath}/{httpMethod}/caching/ttlInSeconds, /{resourcePath}/{httpMethod}/caching/enabled, /{resourcePath}/{httpMethod}/caching/dataEncrypted, /{resourcePath}/{httpMethod}/caching/requireAuthorizationForCacheControl, /{resourcePath}/{httpMethod}/caching/unauthorizedCacheControlHeaderStrategy, /*/*/metrics/enabled, /*/*/logging/dataTrace, /*/*/logging/loglevel, /*/*/throttling/burstLimit /*/*/throttling/rateLimit /*/*/caching/ttlInSeconds, /*/*/caching/enabled, /*/*/caching/dataEncrypted, /*/*/caching/requireAuthorizationForCacheControl, /*/*/caching/unauthorizedCacheControlHeaderStrategy, /variables/{variable_name}, /tracingEnabled]";

fn invalid_stage_path(path: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Invalid method setting path: {path}. {INVALID_STAGE_PATH}"
    ))
}

const SETTING_SUFFIXES: [&str; 10] = [
    "metrics/enabled",
    "logging/loglevel",
    "logging/dataTrace",
    "throttling/burstLimit",
    "throttling/rateLimit",
    "caching/enabled",
    "caching/ttlInSeconds",
    "caching/dataEncrypted",
    "caching/requireAuthorizationForCacheControl",
    "caching/unauthorizedCacheControlHeaderStrategy",
];

/// Splits `/{key}/{group}/{name}` into the stored key (verbatim, escapes kept) and suffix.
fn method_setting_path(path: &str) -> Option<(String, &'static str)> {
    let rest = path.strip_prefix('/')?;
    let suffix = SETTING_SUFFIXES
        .iter()
        .find(|s| rest.ends_with(&format!("/{s}")))?;
    let key = &rest[..rest.len() - suffix.len() - 1];
    // The key must be `{prefix}/{METHOD}` with a non-empty prefix.
    let (prefix, method) = key.rsplit_once('/')?;
    (!prefix.is_empty() && !method.is_empty()).then(|| (key.to_string(), *suffix))
}

fn apply_setting(
    ms: &mut MethodSetting,
    suffix: &str,
    v: Option<&str>,
    path: &str,
) -> ApiResult<()> {
    match suffix {
        "metrics/enabled" => ms.metrics_enabled = patch_bool(v, path)?,
        "logging/loglevel" => {
            let level = v.unwrap_or_default().parse().map_err(|_| {
                ApiError::bad_request(
                    "Invalid logging level specified. Valid options are OFF, ERROR, INFO",
                )
            })?;
            ms.logging_level = Some(level);
        }
        "logging/dataTrace" => ms.data_trace_enabled = patch_bool(v, path)?,
        "throttling/burstLimit" => ms.throttling_burst_limit = patch_i64(v, path)?,
        "throttling/rateLimit" => ms.throttling_rate_limit = patch_f64(v, path)?,
        "caching/enabled" => ms.caching_enabled = patch_bool(v, path)?,
        "caching/ttlInSeconds" => {
            let ttl = patch_i64(v, path)?;
            if !(0..=3600).contains(&ttl) {
                return Err(ApiError::bad_request(
                    "Cache TTL must be between 0 and 3600 seconds",
                ));
            }
            ms.cache_ttl_in_seconds = ttl;
        }
        "caching/dataEncrypted" => ms.cache_data_encrypted = patch_bool(v, path)?,
        "caching/requireAuthorizationForCacheControl" => {
            ms.require_authorization_for_cache_control = patch_bool(v, path)?
        }
        _ => {
            ms.unauthorized_cache_control_header_strategy =
                v.unwrap_or_default().parse().map_err(|_| {
                    ApiError::bad_request(
                        "Invalid unauthorizedCacheControlHeaderStrategy specified",
                    )
                })?
        }
    }
    Ok(())
}

fn no_canary() -> ApiError {
    ApiError::bad_request("Promotion not available. Canary does not exist.")
}

fn patch_stage(a: &ApiState, st: &mut Stage, op: &PatchOp) -> ApiResult<()> {
    let path = op.path()?;
    let v = op.value();
    let segs = op.segments()?;
    let first = segs.first().map(String::as_str).unwrap_or_default();
    match (op.op.as_str(), first, segs.len()) {
        ("copy", _, _) => {
            let from = op.from.as_deref().unwrap_or_default();
            match (path, from) {
                ("/deploymentId", "/canarySettings/deploymentId") => {
                    let c = st.canary_settings.as_ref().ok_or_else(no_canary)?;
                    st.deployment_id = c.deployment_id.clone().ok_or_else(no_canary)?;
                }
                ("/variables", "/canarySettings/stageVariableOverrides") => {
                    let c = st.canary_settings.as_ref().ok_or_else(no_canary)?;
                    let overrides = c.stage_variable_overrides.clone();
                    st.variables.extend(overrides);
                }
                _ => return Err(ApiError::bad_request(format!(
                    "Invalid copy operation with path: {path} and from {from}. Valid copy:path are [/deploymentId, /variables] and valid copy:from are [/canarySettings/deploymentId, /canarySettings/stageVariableOverrides]"
                ))),
            }
        }
        ("replace", "deploymentId", 1) => {
            let d = v.unwrap_or_default();
            if !a.deployments.contains_key(d) {
                return Err(ApiError::bad_request("Deployment id does not exist"));
            }
            st.deployment_id = d.to_string();
        }
        ("replace", "description", 1) => set_opt(&mut st.description, v),
        ("replace", "clientCertificateId", 1) => set_opt(&mut st.client_certificate_id, v),
        ("replace", "cacheClusterEnabled", 1) => enable_cache_cluster(st, patch_bool(v, path)?),
        ("replace", "cacheClusterSize", 1) => {
            let size = v.unwrap_or_default();
            check_cache_size(size)?;
            st.cache_cluster_size = Some(size.to_string());
        }
        ("replace", "tracingEnabled", 1) => st.tracing_enabled = patch_bool(v, path)?,
        (o @ ("add" | "replace" | "remove"), "variables", 2) => {
            if o == "remove" {
                st.variables.remove(&segs[1]);
            } else {
                let value = v.unwrap_or_default().to_string();
                tollgate_model::validate::stage_variable(&segs[1], &value)
                    .map_err(ApiError::bad_request)?;
                st.variables.insert(segs[1].clone(), value);
                if st.variables.len() > 100 {
                    return Err(ApiError::bad_request(
                        "A stage can have at most 100 stage variables",
                    ));
                }
            }
        }
        ("remove", "accessLogSettings", 1) => st.access_log_settings = None,
        (o, "accessLogSettings", _) => {
            let field = segs.get(1).map(String::as_str);
            if segs.len() != 2
                || !matches!(field, Some("destinationArn" | "format"))
                || !matches!(o, "add" | "replace")
            {
                return Err(ApiError::bad_request("Invalid accessLogSettings path. Must be one of : [/accessLogSettings/destinationArn, /accessLogSettings/format]"));
            }
            let value = v
                .filter(|s| !s.is_empty())
                .ok_or_else(|| ApiError::bad_request("Access Log value must not be empty"))?;
            let settings = st.access_log_settings.get_or_insert(AccessLogSettings {
                format: None,
                destination_arn: None,
            });
            if field == Some("format") {
                settings.format = Some(value.to_string());
            } else {
                settings.destination_arn = Some(value.to_string());
            }
        }
        ("remove", "canarySettings", 1) => st.canary_settings = None,
        (o, "canarySettings", _) => {
            let field = segs.get(1).map(String::as_str).unwrap_or_default();
            if field == "deploymentId" && o == "add" {
                return Err(ApiError::bad_request(
                    "Invalid add operation with path: /canarySettings/deploymentId",
                ));
            }
            let c = st.canary_settings.as_mut().ok_or_else(no_canary)?;
            match (o, field, segs.len()) {
                ("replace", "percentTraffic", 2) => {
                    let p = patch_f64(v, path)?;
                    if !(0.0..=100.0).contains(&p) {
                        return Err(ApiError::bad_request(
                            "Canary weight must be between 0.0 and 100.0",
                        ));
                    }
                    c.percent_traffic = Some(p);
                }
                ("replace", "useStageCache", 2) => c.use_stage_cache = patch_bool(v, path)?,
                ("replace", "deploymentId", 2) => {
                    let d = v.unwrap_or_default();
                    if !a.deployments.contains_key(d) {
                        return Err(ApiError::bad_request("Deployment id does not exist"));
                    }
                    c.deployment_id = Some(d.to_string());
                }
                ("add" | "replace", "stageVariableOverrides", 3) => {
                    let value = v.unwrap_or_default().to_string();
                    tollgate_model::validate::stage_variable(&segs[2], &value)
                        .map_err(ApiError::bad_request)?;
                    c.stage_variable_overrides.insert(segs[2].clone(), value);
                }
                ("remove", "stageVariableOverrides", 3) => {
                    c.stage_variable_overrides.remove(&segs[2]);
                }
                _ => return Err(invalid_stage_path(path)),
            }
        }
        ("add" | "replace", _, _) => {
            let (key, suffix) =
                method_setting_path(path).ok_or_else(|| invalid_stage_path(path))?;
            let base = st.method_settings.get("*/*").cloned().unwrap_or_default();
            let ms = st.method_settings.entry(key).or_insert(base);
            apply_setting(ms, suffix, v, path)?;
        }
        ("remove", _, _) => {
            let key = path.trim_start_matches('/');
            if key.contains('/') && st.method_settings.remove(key).is_none() {
                return Err(ApiError::bad_request(format!(
                    "Cannot remove method setting {key} because there is no method setting for this method "
                )));
            } else if !key.contains('/') {
                return Err(invalid_stage_path(path));
            }
        }
        _ => return Err(invalid_stage_path(path)),
    }
    Ok(())
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
            for op in &ops {
                patch_stage(a, &mut st, op)?;
            }
            st.last_updated_date = time::now_epoch();
            a.stages.insert(name.clone(), Arc::new(st.clone()));
            Ok::<_, ApiError>(st)
        })
        .await?;
    Ok(json(200, &out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_setting_paths_parse_from_the_right() {
        assert_eq!(
            method_setting_path("/*/*/throttling/rateLimit"),
            Some(("*/*".into(), "throttling/rateLimit"))
        );
        assert_eq!(
            method_setting_path("/~1pets~1{id}/GET/caching/enabled"),
            Some(("~1pets~1{id}/GET".into(), "caching/enabled"))
        );
        assert_eq!(
            method_setting_path("/test/GET/throttling/burstLimit"),
            Some(("test/GET".into(), "throttling/burstLimit"))
        );
        assert_eq!(
            method_setting_path("/~1/GET/metrics/enabled"),
            Some(("~1/GET".into(), "metrics/enabled"))
        );
        assert_eq!(method_setting_path("/GET/metrics/enabled"), None);
        assert_eq!(method_setting_path("/nope"), None);
    }
}
