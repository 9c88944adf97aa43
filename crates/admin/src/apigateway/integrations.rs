//! Integration and IntegrationResponse operations.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_model::{
    Integration, IntegrationResponse, IntegrationType, PassthroughBehavior, TlsConfig,
};

use super::integration_patch::{
    connection_type, content_handling, integration_type, passthrough_behavior, INTEGRATION_PATCH,
    INTEGRATION_RESPONSE_PATCH,
};
use super::methods::{check_http_method, check_status, status_violation};
use super::shared::{
    integration, integration_mut, method, method_mut, resource, MethodPath, ResponsePath,
};
use crate::core::context::Ctx;
use crate::core::error::{parse_enum_opt, ApiError, ApiResult};
use crate::core::patch::PatchBody;
use crate::core::util::{empty, json, parse_body};

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutIntegrationInput {
    #[serde(rename = "type")]
    integration_type: Option<String>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    http_method: Option<String>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    uri: Option<String>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    connection_type: Option<String>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    connection_id: Option<String>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    credentials: Option<String>,
    #[serde(default)]
    request_parameters: BTreeMap<String, String>,
    #[serde(default)]
    request_templates: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    passthrough_behavior: Option<String>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    cache_namespace: Option<String>,
    cache_key_parameters: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    content_handling: Option<String>,
    timeout_in_millis: Option<i64>,
    tls_config: Option<TlsConfig>,
    response_transfer_mode: Option<String>,
    integration_target: Option<String>,
}

/// Rules every integration must satisfy, checked on put and after every patch. Its
/// vocabulary members (type, passthrough behaviour, content handling) were checked when
/// they were parsed, with the same messages and in the same order.
pub(crate) fn check_integration(i: &Integration) -> ApiResult<()> {
    if !(50..=29_000).contains(&i.timeout_in_millis) {
        return Err(ApiError::bad_request(
            "Timeout should be between 50 ms and 29000 ms",
        ));
    }
    if i.integration_type != IntegrationType::Mock {
        if i.http_method.as_deref().unwrap_or_default().is_empty() {
            return Err(ApiError::bad_request(
                "Enumeration value for HttpMethod must be non-empty",
            ));
        }
        let uri = i.uri.as_deref().unwrap_or_default();
        if uri.is_empty() {
            return Err(ApiError::bad_request("Invalid Integration URI specified"));
        }
        if i.integration_type.is_http()
            && !(uri.starts_with("http://")
                || uri.starts_with("https://")
                || uri.starts_with("${stageVariables."))
        {
            return Err(ApiError::bad_request(
                "Invalid HTTP endpoint specified for URI",
            ));
        }
        if i.integration_type.is_aws() && !uri.contains("${stageVariables.") {
            if let Some(message) = aws_uri_violation(i.integration_type, uri) {
                return Err(ApiError::bad_request(message));
            }
        }
    }
    for (k, v) in &i.request_parameters {
        let ok = [
            "integration.request.header.",
            "integration.request.querystring.",
            "integration.request.path.",
        ]
        .iter()
        .any(|p| k.strip_prefix(p).is_some_and(|n| !n.is_empty()));
        if !ok || v.is_empty() {
            return Err(ApiError::bad_request(format!(
                "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: {k}]"
            )));
        }
    }
    Ok(())
}

/// What AWS answers for an `AWS`/`AWS_PROXY` URI it refuses (recorded:
/// test_put_integration_validation, test_error_aws_proxy_not_supported): not an ARN; an
/// ARN that is not `arn:{partition}:apigateway:{region}:{service}:path|action/...`; an
/// `AWS_PROXY` one that invokes neither a Lambda function nor a Firehose stream.
pub(crate) fn aws_uri_violation(kind: IntegrationType, uri: &str) -> Option<&'static str> {
    let Some(rest) = uri.strip_prefix("arn:") else {
        return Some("Invalid ARN specified in the request");
    };
    let mut parts = rest.splitn(5, ':');
    let (_partition, service, _region, target, call) = (
        parts.next()?,
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let addressed = call.starts_with("path/") || call.starts_with("action/");
    if service != "apigateway" || target.is_empty() || !addressed {
        return Some("AWS ARN for integration must contain path or action");
    }
    let lambda = tollgate_model::authorizer::function_of_invocation_uri(uri)
        .is_some_and(|f| tollgate_model::lambda::parse_function_ref(f).is_some());
    let firehose = target == "firehose" && call.starts_with("action/");
    if kind == IntegrationType::AwsProxy && !lambda && !firehose {
        return Some(
            "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations.",
        );
    }
    None
}

pub async fn put(
    State(ctx): State<Ctx>,
    Path((api_id, res, m)): MethodPath,
    body: Bytes,
) -> ApiResult<Response> {
    check_http_method(&m)?;
    let input: PutIntegrationInput = parse_body(&body)?;
    // Values from closed vocabularies are checked before the method is looked up (recorded:
    // test_put_integration_wrong_type answers the bad type on a method that does not exist).
    let integration_type = integration_type(input.integration_type.as_deref().unwrap_or_default())?;
    let passthrough_behavior = passthrough_behavior(
        input
            .passthrough_behavior
            .as_deref()
            .unwrap_or(PassthroughBehavior::WhenNoMatch.as_str()),
    )?;
    let content_handling = content_handling(
        input.content_handling.as_deref(),
        "putIntegrationInput.contentHandling",
    )?;
    let connection_type = input
        .connection_type
        .as_deref()
        .map(connection_type)
        .transpose()?;
    let response_transfer_mode = parse_enum_opt(
        input.response_transfer_mode.as_deref(),
        "putIntegrationInput.responseTransferMode",
    )?;
    let out = ctx
        .store
        .transact(|s| {
            // The closure may run again (on a conflict): it moves copies.
            let input = input.clone();
            let existing = method(s, &api_id, &res, &m)?.method_integration.clone();
            let integration = Integration {
                integration_type,
                http_method: input.http_method,
                uri: input.uri,
                connection_type,
                connection_id: input.connection_id,
                credentials: input.credentials,
                request_parameters: input.request_parameters,
                request_templates: input.request_templates,
                passthrough_behavior,
                content_handling,
                timeout_in_millis: input.timeout_in_millis.unwrap_or(29_000),
                cache_namespace: input.cache_namespace.unwrap_or_else(|| res.clone()),
                cache_key_parameters: input.cache_key_parameters.unwrap_or_default(),
                tls_config: input.tls_config,
                // A second put replaces the integration's own fields but keeps its responses.
                integration_responses: existing
                    .map(|e| e.integration_responses)
                    .unwrap_or_default(),
                response_transfer_mode,
                integration_target: input.integration_target,
            };
            check_integration(&integration)?;
            method_mut(s, &api_id, &res, &m)?.method_integration = Some(integration.clone());
            Ok::<_, ApiError>(integration)
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
    let i = integration(&st, &api_id, &res, &m)?;
    Ok(json(200, i))
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path((api_id, res, m)): MethodPath,
    body: Bytes,
) -> ApiResult<Response> {
    check_http_method(&m)?;
    let ops = PatchBody::parse(&body, "updateIntegrationInput")?;
    let out = ctx
        .store
        .transact(|s| {
            let i = integration_mut(s, &api_id, &res, &m)?;
            INTEGRATION_PATCH.apply(i, &(), &ops)?;
            check_integration(i)?;
            Ok::<_, ApiError>(i.clone())
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
            let mth = method_mut(s, &api_id, &res, &m)?;
            mth.method_integration
                .take()
                .ok_or_else(ApiError::no_integration)?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutIntegrationResponseInput {
    selection_pattern: Option<String>,
    response_parameters: Option<BTreeMap<String, String>>,
    response_templates: Option<BTreeMap<String, Option<String>>>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    content_handling: Option<String>,
}

pub async fn put_response(
    State(ctx): State<Ctx>,
    Path((api_id, res, m, code)): ResponsePath,
    body: Bytes,
) -> ApiResult<Response> {
    check_http_method(&m)?;
    check_status(&code)?;
    let input: PutIntegrationResponseInput = parse_body(&body)?;
    let content_handling = content_handling(
        input.content_handling.as_deref(),
        "putIntegrationResponseInput.contentHandling",
    )?;
    let out = ctx
        .store
        .transact(|s| {
            // The closure may run again (on a conflict): it moves copies.
            let input = input.clone();
            let i = integration_mut(s, &api_id, &res, &m)?;
            let ir = IntegrationResponse {
                status_code: code.clone(),
                selection_pattern: input.selection_pattern,
                response_parameters: input.response_parameters,
                // Recorded (test_put_integration_response_templates): an empty template is
                // stored, and answered, as null.
                response_templates: input.response_templates.map(|m| {
                    m.into_iter()
                        .map(|(ct, t)| (ct, t.filter(|t| !t.is_empty())))
                        .collect()
                }),
                content_handling,
            };
            i.integration_responses.insert(code.clone(), ir.clone());
            Ok::<_, ApiError>(ir)
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
    let i = integration(&st, &api_id, &res, &m)?;
    Ok(json(
        200,
        i.integration_responses
            .get(&code)
            .ok_or_else(ApiError::no_response_status)?,
    ))
}

pub async fn update_response(
    State(ctx): State<Ctx>,
    Path((api_id, res, m, code)): ResponsePath,
    body: Bytes,
) -> ApiResult<Response> {
    check_http_method(&m)?;
    let ops = PatchBody::parse_checked(
        &body,
        "updateIntegrationResponseInput",
        status_violation(&code).into_iter().collect(),
    )?;
    let out = ctx
        .store
        .transact(|s| {
            let i = integration_mut(s, &api_id, &res, &m)?;
            let ir = i
                .integration_responses
                .get_mut(&code)
                .ok_or_else(ApiError::no_response_status)?;
            INTEGRATION_RESPONSE_PATCH.apply(ir, &(), &ops)?;
            Ok::<_, ApiError>(ir.clone())
        })
        .await?;
    Ok(json(200, &out))
}

pub async fn delete_response(
    State(ctx): State<Ctx>,
    Path((api_id, res, m, code)): ResponsePath,
) -> ApiResult<Response> {
    check_status(&code)?;
    ctx.store
        .transact(|s| {
            // A method that is missing (or no HTTP verb at all) is a missing integration
            // here (recorded: test_delete_integration_response_errors).
            if method(s, &api_id, &res, &m).is_err() {
                resource(s, &api_id, &res)?;
                return Err(ApiError::no_integration());
            }
            let i = integration_mut(s, &api_id, &res, &m)?;
            i.integration_responses
                .remove(&code)
                .ok_or_else(ApiError::no_response_status)?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}
