//! The HTTP API pipeline (API Gateway v2), in request-pipeline.md §8's order: stage
//! selection, route match, throttling (route settings over the stage's default route
//! settings, then the account), authorization (NONE only so far), integration, response
//! (`apigw-requestid`). Its answers are HTTP APIs' fixed bodies (§9.4), never REST's
//! gateway responses.

use std::sync::Arc;

use http::header::HeaderValue;
use http::Response;

use super::inbound::{ApiPipeline, Inbound};
use super::respond;
use crate::body::GatewayBody;
use crate::compile::http_api::HttpTarget;
use crate::error::{HttpApiError, MAX_BODY, MAX_HEAD};
use crate::frontend;
use crate::integrations::http_api::{self, HttpApiCall};
use crate::invocation::RequestBody;
use crate::runtime::{ApiEntry, HttpApiRuntime, HttpStageRuntime};
use crate::Gateway;

/// HTTP APIs.
pub struct HttpPipeline;

/// The stage a request is for and the path the routes see (request-pipeline.md §1.2):
/// a first segment naming a stage selects it, else the `$default` stage takes the whole
/// path. Returns (stage, raw path for events, routing path).
fn select_stage<'p>(
    api: &HttpApiRuntime,
    stage_path: &'p str,
) -> Option<(Arc<HttpStageRuntime>, &'p str, &'p str)> {
    let trimmed = stage_path.strip_prefix('/').unwrap_or(stage_path);
    let (first, rest) = match trimmed.find('/') {
        Some(i) => (&trimmed[..i], &trimmed[i..]),
        None => (trimmed, "/"),
    };
    if !first.is_empty() {
        if let Some(st) = api.stages.get(first) {
            // The `$default` stage is never part of the path AWS shows (the path form names
            // it only to address it).
            let raw = if first == tollgate_model::v2::DEFAULT {
                rest
            } else {
                stage_path
            };
            return Some((st.clone(), raw, rest));
        }
    }
    let st = api.stages.get(tollgate_model::v2::DEFAULT)?;
    let path = if stage_path.is_empty() {
        "/"
    } else {
        stage_path
    };
    Some((st.clone(), path, path))
}

fn with_request_id(mut resp: Response<GatewayBody>, request_id: &str) -> Response<GatewayBody> {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("apigw-requestid", v);
    }
    resp
}

fn error_response(e: HttpApiError, request_id: &str) -> Response<GatewayBody> {
    let mut resp = Response::new(GatewayBody::from_bytes(e.body()));
    *resp.status_mut() =
        http::StatusCode::from_u16(e.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    with_request_id(resp, request_id)
}

fn declared_too_large(parts: &http::request::Parts) -> bool {
    parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| l.parse::<u64>().ok())
        .is_some_and(|l| l > MAX_BODY as u64)
}

impl ApiPipeline for HttpPipeline {
    async fn serve(&self, gw: &Gateway, req: Inbound<'_>) -> Response<GatewayBody> {
        let request_id = tollgate_model::ids::extended_request_id();
        let Inbound {
            parts,
            body,
            remote,
            tls,
            addressed,
        } = req;
        let head = parts
            .headers
            .iter()
            .fold(0, |n, (k, v)| n + k.as_str().len() + v.len() + 4);
        if head > MAX_HEAD {
            return respond::bare(super::gateway_response::header_too_large());
        }
        let Some((ApiEntry::Http(api), path_start)) = addressed
            .as_ref()
            .and_then(|a| Some((&a.frontend?.api, a.path_start)))
        else {
            return error_response(HttpApiError::NotFound, &request_id);
        };
        let stage_path = &parts.uri.path()[path_start..];
        let Some((stage, raw_path, routing_path)) = select_stage(api, stage_path) else {
            return error_response(HttpApiError::NotFound, &request_id);
        };
        if declared_too_large(&parts) {
            return error_response(HttpApiError::TooLarge, &request_id);
        }
        let deployment = &stage.deployment;
        let Some(matched) = deployment.route(&parts.method, routing_path) else {
            return error_response(HttpApiError::NotFound, &request_id);
        };
        let route = matched.route;
        if !stage.admit(route.index) {
            return error_response(HttpApiError::TooManyRequests, &request_id);
        }
        // Authorizers for HTTP APIs are not served yet: a route that needs one is refused
        // rather than let through.
        if route.authorization_type != tollgate_model::AuthorizationType::None {
            tracing::warn!(api = %deployment.api_id, route = %route.key, "route authorization type is not supported yet");
            return error_response(HttpApiError::Internal, &request_id);
        }
        let Some(integration) = route
            .integration
            .and_then(|i| deployment.integrations.get(i))
        else {
            return error_response(HttpApiError::Internal, &request_id);
        };
        let domain_name = frontend::strip_port(frontend::host_of(&parts).unwrap_or_default());
        let call = HttpApiCall {
            parts: &parts,
            remote,
            tls,
            api_id: &deployment.api_id,
            stage: &stage.name,
            stage_variables: &stage.variables,
            route,
            path_params: &matched.params,
            raw_path,
            routing_path,
            request_id: &request_id,
            domain_name,
            time_epoch_ms: tollgate_model::time::now_epoch_millis(),
            functions: gw.functions.as_ref(),
            body_stall: gw.body_stall,
        };
        let body = RequestBody::Stream(body);
        let result = match &integration.target {
            HttpTarget::HttpProxy { uri, method } => {
                http_api::http_proxy(&call, integration, uri, method.as_ref(), body).await
            }
            HttpTarget::Lambda(target) => {
                Box::pin(http_api::lambda(&call, integration, target, body)).await
            }
            HttpTarget::Unsupported(why) => {
                tracing::warn!(api = %deployment.api_id, route = %route.key, why, "integration cannot be called");
                Err(HttpApiError::Internal)
            }
        };
        match result {
            Ok(resp) => with_request_id(resp, &request_id),
            Err(e) => error_response(e, &request_id),
        }
    }
}
