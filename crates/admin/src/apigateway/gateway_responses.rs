//! PutGatewayResponse, GetGatewayResponses, GetGatewayResponse, UpdateGatewayResponse,
//! DeleteGatewayResponse.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_model::{GatewayResponse, GatewayResponseType, RestApiDefinition};

use super::shared::{api, api_mut, def_mut};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult, Violation};
use crate::core::pagination::page;
use crate::core::patch::PatchBody;
use crate::core::patch_table::{Change, NoMatch, PatchRule, PatchTable};
use crate::core::util::{empty, json, parse_body, Query as Q};

fn response_type(s: &str) -> ApiResult<GatewayResponseType> {
    GatewayResponseType::parse(s).ok_or_else(|| {
        Violation::enum_value(
            s,
            "responseType",
            &GatewayResponseType::VALIDATION_ORDER
                .map(|t| t.as_str())
                .join(", "),
        )
        .into()
    })
}

/// The response in effect for the type (its own, its family's, or AWS's default).
fn current(def: &RestApiDefinition, t: GatewayResponseType) -> GatewayResponse {
    t.effective(&def.gateway_responses)
}

#[derive(Clone, Deserialize)]
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
            return Err(super::methods::status_code_violation(code).into());
        }
    }
    let out = ctx
        .store
        .transact(|s| {
            // The closure may run again (on a conflict): it moves copies.
            let input = input.clone();
            let def = def_mut(api_mut(s, &api_id)?);
            // PUT replaces the whole entry: what is not given is the type's own default,
            // never the family's (recorded: test_gateway_response_put).
            let default = t.default_response();
            let gr = GatewayResponse {
                response_type: t,
                status_code: input.status_code.or(default.status_code),
                response_parameters: input.response_parameters,
                response_templates: if input.response_templates.is_empty() {
                    default.response_templates
                } else {
                    input.response_templates
                },
                default_response: false,
            };
            def.gateway_responses.insert(t.as_str().into(), gr.clone());
            Ok::<_, ApiError>(gr)
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

/// UpdateGatewayResponse's paths.
static RESPONSE_PATCH: PatchTable<GatewayResponse, ()> = PatchTable {
    rules: &[
        PatchRule {
            ops: &["replace"],
            path: "/statusCode",
            apply: |gr, c| {
                gr.status_code = c.value.map(str::to_string);
                Ok(())
            },
        },
        PatchRule {
            ops: &["add", "replace"],
            path: "/responseParameters/*",
            apply: |gr, c| put_entry(&mut gr.response_parameters, "responseParameters", c),
        },
        PatchRule {
            ops: &["remove"],
            path: "/responseParameters/*",
            apply: |gr, c| c.remove_from(&mut gr.response_parameters, no_parameter),
        },
        PatchRule {
            ops: &["add", "replace"],
            path: "/responseTemplates/*",
            apply: |gr, c| put_entry(&mut gr.response_templates, "responseTemplates", c),
        },
        PatchRule {
            ops: &["remove"],
            path: "/responseTemplates/*",
            apply: |gr, c| c.remove_from(&mut gr.response_templates, no_parameter),
        },
    ],
    replace_only: &[],
    no_match: NoMatch::InvalidPath,
};

fn no_parameter() -> ApiError {
    ApiError::not_found("Invalid parameter name specified")
}

/// `add` sets an entry; `replace` only an existing one.
fn put_entry(map: &mut BTreeMap<String, String>, field: &str, c: &Change<'_, ()>) -> ApiResult<()> {
    let value = c
        .value
        .filter(|x| !x.is_empty())
        .ok_or_else(|| ApiError::bad_request(format!("Invalid null or empty value in {field}")))?;
    let name = c.param(0);
    if c.op == "replace" && !map.contains_key(name) {
        return Err(no_parameter());
    }
    map.insert(name.to_string(), value.to_string());
    Ok(())
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path((api_id, rt)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let t = response_type(&rt)?;
    let ops = PatchBody::parse(&body, "updateGatewayResponseInput")?;
    let out = ctx
        .store
        .transact(|s| {
            let def = def_mut(api_mut(s, &api_id)?);
            // An update starts from the type's own entry or default, not its family's.
            let mut gr = def
                .gateway_responses
                .get(t.as_str())
                .cloned()
                .unwrap_or_else(|| t.default_response());
            gr.default_response = false;
            RESPONSE_PATCH.apply(&mut gr, &(), &ops)?;
            def.gateway_responses.insert(t.as_str().into(), gr.clone());
            Ok::<_, ApiError>(gr)
        })
        .await?;
    Ok(json(200, &out))
}

pub async fn delete(
    State(ctx): State<Ctx>,
    Path((api_id, rt)): Path<(String, String)>,
) -> ApiResult<Response> {
    let t = response_type(&rt)?;
    ctx.store
        .transact(|s| {
            let def = def_mut(api_mut(s, &api_id)?);
            def.gateway_responses
                .remove(t.as_str())
                .ok_or_else(|| ApiError::not_found("Gateway response type not defined on api"))?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(202))
}
