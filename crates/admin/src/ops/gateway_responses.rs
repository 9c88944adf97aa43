//! PutGatewayResponse, GetGatewayResponses, GetGatewayResponse, UpdateGatewayResponse,
//! DeleteGatewayResponse.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_model::{GatewayResponse, GatewayResponseType, RestApiDefinition};

use super::{api, api_mut, def_mut};
use crate::error::{ApiError, ApiResult};
use crate::patch::{invalid_path, PatchBody};
use crate::util::{empty, json, page, parse_body, Query as Q};
use crate::Ctx;

fn response_type(s: &str) -> ApiResult<GatewayResponseType> {
    GatewayResponseType::parse(s).ok_or_else(|| {
        ApiError::validation(format!(
            "1 validation error detected: Value '{s}' at 'responseType' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            GatewayResponseType::ALL.map(|t| t.as_str()).join(", ")
        ))
    })
}

/// The customised response, or AWS's default for the type.
fn current(def: &RestApiDefinition, t: GatewayResponseType) -> GatewayResponse {
    def.gateway_responses
        .get(t.as_str())
        .cloned()
        .unwrap_or_else(|| t.default_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutGatewayResponseInput {
    status_code: Option<String>,
    #[serde(default)]
    response_parameters: BTreeMap<String, String>,
    #[serde(default)]
    response_templates: BTreeMap<String, String>,
}

pub async fn put(
    State(ctx): State<Ctx>,
    Path((api_id, rt)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let t = response_type(&rt)?;
    let input: PutGatewayResponseInput = parse_body(&body)?;
    if let Some(code) = &input.status_code {
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{code}' at 'statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [1-5]\\d\\d"
            )));
        }
    }
    let out = ctx.store.transact(|s| {
        let def = def_mut(api_mut(s, &api_id)?);
        let gr = GatewayResponse {
            response_type: t.as_str().into(),
            status_code: input.status_code,
            response_parameters: input.response_parameters,
            response_templates: input.response_templates,
            default_response: false,
        };
        def.gateway_responses.insert(t.as_str().into(), gr.clone());
        Ok::<_, ApiError>(gr)
    })?;
    Ok(json(201, &out))
}

pub async fn list(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    let def = &api(&st, &api_id)?.definition;
    let items = GatewayResponseType::ALL
        .iter()
        .map(|t| (t.as_str().to_string(), current(def, *t)))
        .collect();
    page(items, &q)
}

pub async fn get(
    State(ctx): State<Ctx>,
    Path((api_id, rt)): Path<(String, String)>,
) -> ApiResult<Response> {
    let t = response_type(&rt)?;
    let st = ctx.store.state();
    Ok(json(200, &current(&api(&st, &api_id)?.definition, t)))
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path((api_id, rt)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let t = response_type(&rt)?;
    let ops = PatchBody::parse(&body, "updateGatewayResponseInput")?;
    let out = ctx.store.transact(|s| {
        let def = def_mut(api_mut(s, &api_id)?);
        let mut gr = current(def, t);
        gr.default_response = false;
        for op in &ops {
            let path = op.path()?;
            let segs = op.segments()?;
            let v = op.value();
            match (segs.first().map(String::as_str), segs.len(), op.op.as_str()) {
                (Some("statusCode"), 1, "replace") => gr.status_code = v.map(str::to_string),
                (Some(field @ ("responseParameters" | "responseTemplates")), 2, o) => {
                    let map = if field == "responseParameters" {
                        &mut gr.response_parameters
                    } else {
                        &mut gr.response_templates
                    };
                    match o {
                        "add" | "replace" => {
                            let value = v.filter(|x| !x.is_empty()).ok_or_else(|| {
                                ApiError::bad_request(format!(
                                    "Invalid null or empty value in {field}"
                                ))
                            })?;
                            if o == "replace" && !map.contains_key(&segs[1]) {
                                return Err(ApiError::not_found(
                                    "Invalid parameter name specified",
                                ));
                            }
                            map.insert(segs[1].clone(), value.to_string());
                        }
                        "remove" => {
                            if map.remove(&segs[1]).is_none() {
                                return Err(ApiError::not_found(
                                    "Invalid parameter name specified",
                                ));
                            }
                        }
                        _ => return Err(invalid_path(path)),
                    }
                }
                _ => return Err(invalid_path(path)),
            }
        }
        def.gateway_responses.insert(t.as_str().into(), gr.clone());
        Ok::<_, ApiError>(gr)
    })?;
    Ok(json(200, &out))
}

pub async fn delete(
    State(ctx): State<Ctx>,
    Path((api_id, rt)): Path<(String, String)>,
) -> ApiResult<Response> {
    let t = response_type(&rt)?;
    ctx.store.transact(|s| {
        let def = def_mut(api_mut(s, &api_id)?);
        def.gateway_responses
            .remove(t.as_str())
            .ok_or_else(|| ApiError::not_found("Gateway response type not defined on api"))?;
        Ok::<_, ApiError>(())
    })?;
    Ok(empty(202))
}
