//! Method, MethodResponse and TestInvokeMethod operations.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_model::test_invoke::TestInvokeRequest;
use tollgate_model::validate::{self, method_request_parameter};
use tollgate_model::{Method, MethodResponse, RestApiDefinition};

use super::method_patch::{authorization_type, METHOD_PATCH, METHOD_RESPONSE_PATCH};
use super::shared::{method, method_mut, resource, resource_mut, MethodPath, ResponsePath};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult, Violation};
use crate::core::patch::PatchBody;
use crate::core::util::{empty, json, parse_body};

pub fn check_http_method(m: &str) -> ApiResult<()> {
    validate::http_method(m).map_err(ApiError::bad_request)
}

/// A status code outside `[1-5]\d\d`.
pub fn status_code_violation(code: &str) -> Violation {
    Violation::new(
        code,
        "statusCode",
        "Member must satisfy regular expression pattern: [1-5]\\d\\d",
    )
}

/// The constraint violation of a status code path parameter, if any.
pub fn status_violation(code: &str) -> Option<Violation> {
    (!validate::status_code(code)).then(|| status_code_violation(code))
}

pub fn check_status(code: &str) -> ApiResult<()> {
    match status_violation(code) {
        Some(v) => Err(v.into()),
        None => Ok(()),
    }
}

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutMethodInput {
    authorization_type: Option<String>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    authorizer_id: Option<String>,
    #[serde(default)]
    api_key_required: bool,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    operation_name: Option<String>,
    #[serde(default)]
    request_parameters: BTreeMap<String, bool>,
    #[serde(default)]
    request_models: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    request_validator_id: Option<String>,
    authorization_scopes: Option<Vec<String>>,
}

/// Cross-checks a method against the rest of the API (authorizer, models, validator, params).
/// The authorization type itself was checked when it was parsed.
fn check_method(def: &RestApiDefinition, m: &Method) -> ApiResult<()> {
    if m.authorization_type.needs_authorizer()
        && !m
            .authorizer_id
            .as_ref()
            .is_some_and(|a| def.authorizers.contains_key(a))
    {
        return Err(ApiError::bad_request("Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer."));
    }
    let mut names = std::collections::HashSet::new();
    for key in m.request_parameters.keys() {
        let (loc, name) = method_request_parameter(key).ok_or_else(|| {
            ApiError::bad_request(format!("Invalid request parameter name: {key}"))
        })?;
        let base = match loc {
            "multivaluequerystring" => "querystring",
            "multivalueheader" => "header",
            other => other,
        };
        if !names.insert(name.to_string()) && base != "path" {
            return Err(ApiError::bad_request(
                "Parameter names must be unique across querystring, header and path",
            ));
        }
    }
    for model in m.request_models.values() {
        if !def.models.contains_key(model) {
            return Err(ApiError::bad_request(format!(
                "Invalid model identifier specified: {model}"
            )));
        }
    }
    if let Some(v) = &m.request_validator_id {
        if !def.request_validators.contains_key(v) {
            return Err(ApiError::bad_request(
                "Invalid Request Validator identifier specified",
            ));
        }
    }
    Ok(())
}

pub async fn put(
    State(ctx): State<Ctx>,
    Path((api_id, res, m)): MethodPath,
    body: Bytes,
) -> ApiResult<Response> {
    check_http_method(&m)?;
    let input: PutMethodInput = parse_body(&body)?;
    let out = ctx
        .store
        .transact(|s| {
            // The closure may run again (on a conflict): it moves copies.
            let input = input.clone();
            let r = resource(s, &api_id, &res)?;
            if r.resource_methods.contains_key(&m) {
                return Err(ApiError::conflict(
                    "Method already exists for this resource",
                ));
            }
            let method = Method {
                http_method: m.clone(),
                authorization_type: authorization_type(
                    input.authorization_type.as_deref().ok_or_else(|| {
                        ApiError::bad_request(
                            "Invalid request input: authorizationType is required",
                        )
                    })?,
                )?,
                authorizer_id: input.authorizer_id,
                api_key_required: input.api_key_required,
                request_validator_id: input.request_validator_id,
                operation_name: input.operation_name,
                request_parameters: input.request_parameters,
                request_models: input.request_models,
                authorization_scopes: input.authorization_scopes,
                method_responses: BTreeMap::new(),
                method_integration: None,
            };
            check_method(&s.apis[&api_id].definition, &method)?;
            resource_mut(s, &api_id, &res)?
                .resource_methods
                .insert(m.clone(), method.clone());
            Ok::<_, ApiError>(method)
        })
        .await?;
    Ok(json(201, &out))
}

pub async fn get(
    State(ctx): State<Ctx>,
    Path((api_id, res, m)): MethodPath,
) -> ApiResult<Response> {
    check_http_method(&m)?;
    let st = ctx.store.state();
    Ok(json(200, method(&st, &api_id, &res, &m)?))
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path((api_id, res, m)): MethodPath,
    body: Bytes,
) -> ApiResult<Response> {
    check_http_method(&m)?;
    let ops = PatchBody::parse(&body, "updateMethodInput")?;
    let out = ctx
        .store
        .transact(|s| {
            let mut mth = method(s, &api_id, &res, &m)?.clone();
            METHOD_PATCH.apply(&mut mth, &(), &ops)?;
            // An authorizer id means nothing to a method whose type takes none: AWS keeps
            // it out of the method (recorded: test_update_method_validation,
            // `skip-auth-id-with-wrong-type`).
            if !mth.authorization_type.needs_authorizer() {
                mth.authorizer_id = None;
            }
            check_method(&s.apis[&api_id].definition, &mth)?;
            *method_mut(s, &api_id, &res, &m)? = mth.clone();
            Ok::<_, ApiError>(mth)
        })
        .await?;
    Ok(json(200, &out))
}

pub async fn delete(
    State(ctx): State<Ctx>,
    Path((api_id, res, m)): MethodPath,
) -> ApiResult<Response> {
    check_http_method(&m)?;
    ctx.store
        .transact(|s| {
            method(s, &api_id, &res, &m)?;
            resource_mut(s, &api_id, &res)?.resource_methods.remove(&m);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutMethodResponseInput {
    response_parameters: Option<BTreeMap<String, bool>>,
    response_models: Option<BTreeMap<String, String>>,
}

pub async fn put_response(
    State(ctx): State<Ctx>,
    Path((api_id, res, m, code)): ResponsePath,
    body: Bytes,
) -> ApiResult<Response> {
    check_http_method(&m)?;
    check_status(&code)?;
    let input: PutMethodResponseInput = parse_body(&body)?;
    let out = ctx
        .store
        .transact(|s| {
            // The closure may run again (on a conflict): it moves copies.
            let input = input.clone();
            let defined_models = s
                .apis
                .get(&api_id)
                .map(|a| a.definition.models.clone())
                .unwrap_or_default();
            for model in input.response_models.iter().flat_map(BTreeMap::values) {
                if !defined_models.contains_key(model) {
                    return Err(ApiError::bad_request(format!(
                        "Invalid model identifier specified: {model}"
                    )));
                }
            }
            let mth = method_mut(s, &api_id, &res, &m)?;
            if mth.method_responses.contains_key(&code) {
                return Err(ApiError::conflict(
                    "Response already exists for this resource",
                ));
            }
            let mr = MethodResponse {
                status_code: code.clone(),
                response_parameters: input.response_parameters,
                response_models: input.response_models,
            };
            mth.method_responses.insert(code.clone(), mr.clone());
            Ok::<_, ApiError>(mr)
        })
        .await?;
    Ok(json(201, &out))
}

pub async fn get_response(
    State(ctx): State<Ctx>,
    Path((api_id, res, m, code)): ResponsePath,
) -> ApiResult<Response> {
    check_http_method(&m)?;
    check_status(&code)?;
    let st = ctx.store.state();
    let mr = method(&st, &api_id, &res, &m)?
        .method_responses
        .get(&code)
        .ok_or_else(ApiError::no_response_status)?;
    Ok(json(200, mr))
}

pub async fn update_response(
    State(ctx): State<Ctx>,
    Path((api_id, res, m, code)): ResponsePath,
    body: Bytes,
) -> ApiResult<Response> {
    check_http_method(&m)?;
    let ops = PatchBody::parse_checked(
        &body,
        "updateMethodResponseInput",
        status_violation(&code).into_iter().collect(),
    )?;
    let out = ctx
        .store
        .transact(|s| {
            let mth = method_mut(s, &api_id, &res, &m)?;
            let mr = mth
                .method_responses
                .get_mut(&code)
                .ok_or_else(ApiError::no_response_status)?;
            METHOD_RESPONSE_PATCH.apply(mr, &(), &ops)?;
            Ok::<_, ApiError>(mr.clone())
        })
        .await?;
    // AWS answers UpdateMethodResponse with 201.
    Ok(json(201, &out))
}

pub async fn delete_response(
    State(ctx): State<Ctx>,
    Path((api_id, res, m, code)): ResponsePath,
) -> ApiResult<Response> {
    check_http_method(&m)?;
    check_status(&code)?;
    ctx.store
        .transact(|s| {
            let mth = method_mut(s, &api_id, &res, &m)?;
            mth.method_responses
                .remove(&code)
                .ok_or_else(ApiError::no_response_status)?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TestInvokeMethodInput {
    path_with_query_string: Option<String>,
    body: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    multi_value_headers: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    stage_variables: BTreeMap<String, String>,
}

pub async fn test_invoke(
    State(ctx): State<Ctx>,
    Path((api_id, res, m)): MethodPath,
    body: Bytes,
) -> ApiResult<Response> {
    check_http_method(&m)?;
    let input: TestInvokeMethodInput = parse_body(&body)?;
    let st = ctx.store.state();
    // An `ANY` method answers any verb, here as on the data plane.
    if let Err(e) = method(&st, &api_id, &res, &m) {
        method(&st, &api_id, &res, "ANY").map_err(|_| e)?;
    }
    let invoker = ctx.test_invoker.clone().ok_or_else(|| {
        ApiError::bad_request("TestInvokeMethod needs the data plane, which is not running")
    })?;
    let req = TestInvokeRequest {
        definition: st.apis[&api_id].definition.clone(),
        resource_id: res,
        http_method: m,
        path_with_query_string: input.path_with_query_string,
        body: input.body,
        headers: input.headers,
        multi_value_headers: input.multi_value_headers,
        stage_variables: input.stage_variables,
    };
    let out = invoker.test_invoke(req).await;
    Ok(json(200, &out))
}
