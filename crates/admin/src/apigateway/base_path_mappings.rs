//! CreateBasePathMapping, GetBasePathMappings, GetBasePathMapping, UpdateBasePathMapping,
//! DeleteBasePathMapping: v1's view of a domain's mapping table (`(none)` is the empty key;
//! v1 keys are one path segment).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_model::domain::{valid_mapping_key, ApiMapping};

use crate::core::context::Ctx;
use crate::core::domains;
use crate::core::error::{ApiError, ApiResult};
use crate::core::pagination::page;
use crate::core::patch::PatchBody;
use crate::core::util::{empty, json, parse_body, Query as Q};

const NONE: &str = "(none)";

fn view(m: &ApiMapping) -> Value {
    let base_path = if m.api_mapping_key.is_empty() {
        NONE
    } else {
        &m.api_mapping_key
    };
    let mut v = json!({ "basePath": base_path, "restApiId": m.api_id });
    if let Some(s) = &m.stage {
        v["stage"] = s.clone().into();
    }
    v
}

fn no_mapping() -> ApiError {
    ApiError::not_found("Invalid base path mapping identifier specified")
}

/// A v1 base path as a mapping key: `(none)` or empty is the root; one segment otherwise.
fn key_of(base_path: Option<&str>) -> ApiResult<String> {
    let bp = base_path.unwrap_or_default();
    if bp.is_empty() || bp == NONE {
        return Ok(String::new());
    }
    if bp.contains('/') {
        return Err(ApiError::bad_request(
            "API Gateway V1 doesn't support the slash character (/) in base path mappings. To create a multi-level base path mapping, use API Gateway V2.",
        ));
    }
    if !valid_mapping_key(bp) {
        return Err(ApiError::bad_request(format!(
            "Invalid base path specified: {bp}"
        )));
    }
    Ok(bp.to_string())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateInput {
    base_path: Option<String>,
    rest_api_id: Option<String>,
    stage: Option<String>,
}

pub async fn create(
    State(ctx): State<Ctx>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let i: CreateInput = parse_body(&body)?;
    let key = key_of(i.base_path.as_deref())?;
    let api_id = i
        .rest_api_id
        .ok_or_else(|| ApiError::bad_request("Invalid REST API identifier specified"))?;
    let stage = i.stage.filter(|s| !s.is_empty());
    let created = ctx
        .store
        .transact(|s| {
            if !s.apis.contains_key(&api_id) {
                return Err(ApiError::bad_request(
                    "Invalid REST API identifier specified",
                ));
            }
            domains::check_target(s, &api_id, stage.as_deref())?;
            let d = domains::domain_mut(s, &name)?;
            let m = ApiMapping {
                api_mapping_id: domains::mapping_id(d),
                api_mapping_key: key.clone(),
                api_id: api_id.clone(),
                stage: stage.clone(),
            };
            domains::add_mapping(d, m.clone())?;
            Ok::<_, ApiError>(m)
        })
        .await?;
    Ok(json(201, &view(&created)))
}

pub async fn list(
    State(ctx): State<Ctx>,
    Path(name): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let state = ctx.store.state();
    let d = domains::find(&state, &name)?;
    let items = d
        .mappings
        .iter()
        .map(|m| (m.api_mapping_key.clone(), view(m)))
        .collect();
    page(items, &q)
}

pub async fn get(
    State(ctx): State<Ctx>,
    Path((name, base_path)): Path<(String, String)>,
) -> ApiResult<Response> {
    let state = ctx.store.state();
    let d = domains::find(&state, &name)?;
    let key = key_of(Some(&base_path))?;
    let m = d.mapping_by_key(&key).ok_or_else(no_mapping)?;
    Ok(json(200, &view(m)))
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path((name, base_path)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let ops = PatchBody::parse(&body, "UpdateBasePathMappingRequest")?;
    let key = key_of(Some(&base_path))?;
    let updated = ctx
        .store
        .transact(|s| {
            let d = domains::find(s, &name)?;
            let mut m = d.mapping_by_key(&key).ok_or_else(no_mapping)?.clone();
            for op in &ops {
                let path = op.path.as_deref().unwrap_or_default();
                if op.op != "replace" {
                    return Err(ApiError::bad_request(format!(
                        "Invalid patch operation specified. Must be 'replace' for path {path}"
                    )));
                }
                let value = op.value.clone().unwrap_or_default();
                match path {
                    "/basePath" => m.api_mapping_key = key_of(Some(&value))?,
                    "/restapiId" => m.api_id = value,
                    "/stage" => m.stage = Some(value).filter(|v| !v.is_empty()),
                    other => {
                        return Err(ApiError::bad_request(format!("Invalid patch path {other}")))
                    }
                }
            }
            if !s.apis.contains_key(&m.api_id) {
                return Err(ApiError::bad_request(
                    "Invalid REST API identifier specified",
                ));
            }
            domains::check_target(s, &m.api_id, m.stage.as_deref())?;
            let d = domains::domain_mut(s, &name)?;
            if m.api_mapping_key != key && d.mapping_by_key(&m.api_mapping_key).is_some() {
                return Err(ApiError::conflict(
                    "Base path already exists for this domain name",
                ));
            }
            if let Some(slot) = d.mappings.iter_mut().find(|x| x.api_mapping_key == key) {
                *slot = m.clone();
            }
            Ok::<_, ApiError>(m)
        })
        .await?;
    Ok(json(200, &view(&updated)))
}

pub async fn delete(
    State(ctx): State<Ctx>,
    Path((name, base_path)): Path<(String, String)>,
) -> ApiResult<Response> {
    let key = key_of(Some(&base_path))?;
    ctx.store
        .transact(|s| {
            domains::find(s, &name)?
                .mapping_by_key(&key)
                .ok_or_else(no_mapping)?;
            let d = domains::domain_mut(s, &name)?;
            d.mappings.retain(|m| m.api_mapping_key != key);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(202))
}
