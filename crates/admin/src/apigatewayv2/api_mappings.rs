//! CreateApiMapping, GetApiMappings, GetApiMapping, UpdateApiMapping, DeleteApiMapping: v2's
//! view of a domain's mapping table, whose targets may be HTTP, WebSocket or REST APIs and
//! whose keys may be multi-level (`orders/v1`).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_model::domain::{valid_mapping_key, ApiMapping};
use tollgate_model::vocabulary::EndpointType;

use crate::core::context::Ctx;
use crate::core::domains;
use crate::core::error::{ApiError, ApiResult};
use crate::core::pagination::page_v2;
use crate::core::util::{empty, json, parse_body, Query as Q};

fn view(m: &ApiMapping) -> Value {
    json!({
        "apiId": m.api_id,
        "apiMappingId": m.api_mapping_id,
        "apiMappingKey": m.api_mapping_key,
        "stage": m.stage.clone().unwrap_or_default(),
    })
}

fn no_mapping(id: &str) -> ApiError {
    ApiError::not_found(format!("Invalid API mapping identifier specified {id}"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Input {
    api_id: Option<String>,
    api_mapping_key: Option<String>,
    stage: Option<String>,
}

/// The key as stored: no leading or trailing `/`; multi-level only for HTTP and REST APIs.
fn check_key(s: &tollgate_store::State, key: &str, api_id: &str, domain: &str) -> ApiResult<()> {
    if key.is_empty() {
        return Ok(());
    }
    if !valid_mapping_key(key) {
        return Err(ApiError::bad_request(format!(
            "Invalid API mapping key specified: {key}"
        )));
    }
    let websocket = s
        .v2_apis
        .get(api_id)
        .is_some_and(|a| a.definition.is_websocket());
    if websocket && key.contains('/') {
        return Err(ApiError::bad_request(
            "Multi-level API mapping keys are not supported for WebSocket APIs.",
        ));
    }
    // Multi-level keys: regional domains with TLS 1.2 only (stages-canary-domains.md §4).
    let d = domains::find(s, domain)?;
    let regional_tls12 =
        d.endpoint_type == EndpointType::Regional && d.security_policy == "TLS_1_2";
    if key.contains('/') && !regional_tls12 {
        return Err(ApiError::bad_request(
            "Multi-level base path mappings are only supported for REGIONAL domain names \
             with the TLS_1_2 security policy.",
        ));
    }
    Ok(())
}

pub async fn create(
    State(ctx): State<Ctx>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let i: Input = parse_body(&body)?;
    let api_id = i
        .api_id
        .ok_or_else(|| ApiError::bad_request("ApiId must be specified."))?;
    let stage = i
        .stage
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("Stage must be specified."))?;
    let key = i.api_mapping_key.unwrap_or_default();
    let created = ctx
        .store
        .transact(|s| {
            domains::check_target(s, &api_id, Some(&stage))?;
            check_key(s, &key, &api_id, &name)?;
            let d = domains::domain_mut(s, &name)?;
            let m = ApiMapping {
                api_mapping_id: domains::mapping_id(d),
                api_mapping_key: key.clone(),
                api_id: api_id.clone(),
                stage: Some(stage.clone()),
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
        .map(|m| (m.api_mapping_id.clone(), view(m)))
        .collect();
    page_v2(items, &q)
}

pub async fn get(
    State(ctx): State<Ctx>,
    Path((name, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let state = ctx.store.state();
    let d = domains::find(&state, &name)?;
    let m = d
        .mappings
        .iter()
        .find(|m| m.api_mapping_id == id)
        .ok_or_else(|| no_mapping(&id))?;
    Ok(json(200, &view(m)))
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path((name, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let i: Input = parse_body(&body)?;
    let api_id = i
        .api_id
        .ok_or_else(|| ApiError::bad_request("ApiId must be specified."))?;
    let updated = ctx
        .store
        .transact(|s| {
            let d = domains::find(s, &name)?;
            let mut m = d
                .mappings
                .iter()
                .find(|m| m.api_mapping_id == id)
                .ok_or_else(|| no_mapping(&id))?
                .clone();
            m.api_id = api_id.clone();
            if let Some(k) = &i.api_mapping_key {
                m.api_mapping_key = k.clone();
            }
            if let Some(st) = i.stage.as_ref().filter(|s| !s.is_empty()) {
                m.stage = Some(st.clone());
            }
            domains::check_target(s, &m.api_id, m.stage.as_deref())?;
            check_key(s, &m.api_mapping_key, &m.api_id, &name)?;
            let taken = d
                .mappings
                .iter()
                .any(|x| x.api_mapping_id != id && x.api_mapping_key == m.api_mapping_key);
            if taken {
                return Err(ApiError::conflict(
                    "Base path already exists for this domain name",
                ));
            }
            let d = domains::domain_mut(s, &name)?;
            if let Some(slot) = d.mappings.iter_mut().find(|x| x.api_mapping_id == id) {
                *slot = m.clone();
            }
            Ok::<_, ApiError>(m)
        })
        .await?;
    Ok(json(200, &view(&updated)))
}

pub async fn delete(
    State(ctx): State<Ctx>,
    Path((name, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            let d = domains::domain_mut(s, &name)?;
            let before = d.mappings.len();
            d.mappings.retain(|m| m.api_mapping_id != id);
            if d.mappings.len() == before {
                return Err(no_mapping(&id));
            }
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}
