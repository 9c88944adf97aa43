//! Lambda function URLs: CORS preflight, the caller (`AWS_IAM`: SigV4 for service `lambda`,
//! allowed by its identity policies or the function's resource policy; `NONE`: the resource
//! policy must allow everyone), then the function with the payload 2.0 event and response
//! rules HTTP APIs use (lambda-events.md §2.1, §4.2; the `$default` route, stage
//! `$default`, the URL id as `apiId`).

use std::sync::Arc;

use bytes::Bytes;
use http::header::HeaderValue;
use http::Response;
use tollgate_functions::InvokeRequest;
use tollgate_model::function_url::FunctionUrlAuthType;
use tollgate_policy::{Caller, Decision};

use super::iam_caller::{self, Refused};
use super::inbound::{ApiPipeline, Inbound};
use crate::body::GatewayBody;
use crate::compile::function_url::CompiledFunctionUrl;
use crate::cors::CompiledCors;
use crate::error::{HttpApiError, MAX_BODY};
use crate::frontend;
use crate::http_context::{HttpAuthorized, HttpContext};
use crate::integrations::http_api::{self, HttpApiCall};
use crate::invocation::RequestBody;
use crate::runtime::ApiEntry;
use crate::Gateway;

pub struct FunctionUrlPipeline;

/// Why a function URL call got no function answer.
enum UrlError {
    /// 403 `{"Message":"Forbidden"}`: no caller the policies allow.
    Forbidden,
    /// 413: over Lambda's 6 MB request limit.
    TooLarge,
    /// 502: the function failed or answered something unusable.
    BadGateway,
}

fn error_response(e: UrlError) -> Response<GatewayBody> {
    let (status, body, json) = match e {
        UrlError::Forbidden => (403, r#"{"Message":"Forbidden"}"#, true),
        UrlError::TooLarge => (
            413,
            "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
            false,
        ),
        UrlError::BadGateway => (502, "Internal Server Error", false),
    };
    let mut resp = Response::new(GatewayBody::from_bytes(body));
    *resp.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_GATEWAY);
    let ctype = if json {
        "application/json"
    } else {
        "text/plain"
    };
    resp.headers_mut()
        .insert(http::header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    resp
}

impl ApiPipeline for FunctionUrlPipeline {
    async fn serve(&self, gw: &Gateway, req: Inbound<'_>) -> Response<GatewayBody> {
        let request_id = crate::request_ids::request_id();
        let Inbound {
            parts,
            body,
            remote,
            tls,
            addressed,
            ..
        } = req;
        let Some((ApiEntry::FunctionUrl(url), path_start)) = addressed
            .as_ref()
            .and_then(|a| Some((&a.frontend?.api, a.path_start)))
        else {
            return error_response(UrlError::Forbidden);
        };
        let url = url.clone();
        let preflight = CompiledCors::is_preflight(&parts.method, &parts.headers);
        let mut resp = match (&url.cors, preflight) {
            (Some(cors), true) => {
                let mut resp = Response::new(GatewayBody::empty());
                cors.preflight(&parts.headers, resp.headers_mut());
                resp
            }
            _ => {
                let path = &parts.uri.path()[path_start..];
                let path = if path.is_empty() { "/" } else { path };
                let call = Call {
                    parts: &parts,
                    remote,
                    tls,
                    raw_path: path,
                    request_id: &request_id,
                };
                match invoke(gw, &url, &call, body).await {
                    Ok(resp) => resp,
                    Err(e) => error_response(e),
                }
            }
        };
        if let (Some(cors), false) = (&url.cors, preflight) {
            cors.apply(&parts.headers, resp.headers_mut());
        }
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            resp.headers_mut().insert("x-amzn-RequestId", v);
        }
        resp
    }
}

/// What the pipeline knows of the request.
struct Call<'a> {
    parts: &'a http::request::Parts,
    remote: std::net::SocketAddr,
    tls: bool,
    raw_path: &'a str,
    request_id: &'a str,
}

/// The caller allowed to call `url`: `None` for `NONE` URLs (anyone the resource policy
/// allows), the SigV4 caller for `AWS_IAM` ones.
async fn authorize(
    gw: &Gateway,
    url: &CompiledFunctionUrl,
    parts: &http::request::Parts,
    body: &mut Option<RequestBody>,
) -> Result<Option<Arc<crate::iam::CallerIdentity>>, UrlError> {
    let functions = gw.functions.as_ref().ok_or(UrlError::BadGateway)?;
    let qualifier = url.qualifier.as_deref();
    let auth = url.auth_type.as_str();
    if url.auth_type == FunctionUrlAuthType::None {
        let d = functions.url_permission(&url.function, qualifier, Caller::Anonymous, auth);
        return match d {
            Decision::Allow => Ok(None),
            _ => Err(UrlError::Forbidden),
        };
    }
    let caller = match iam_caller::caller_for(gw, parts, body, "lambda").await {
        Ok(c) => c,
        Err(Refused::Iam(r)) => {
            tracing::debug!(url = %url.url_id, rejection = ?r, "function URL caller refused");
            return Err(UrlError::Forbidden);
        }
        Err(Refused::Body(e)) => {
            return Err(match HttpApiError::from(e) {
                HttpApiError::TooLarge => UrlError::TooLarge,
                _ => UrlError::BadGateway,
            })
        }
    };
    // The same account: either the caller's policies or the function's may allow it; an
    // explicit deny in either refuses.
    let own = caller.decide("lambda:InvokeFunctionUrl", &url.function_arn, &());
    let resource = functions.url_permission(&url.function, qualifier, caller.as_caller(), auth);
    match (own, resource) {
        (Decision::ExplicitDeny, _) | (_, Decision::ExplicitDeny) => Err(UrlError::Forbidden),
        (Decision::Allow, _) | (_, Decision::Allow) => Ok(Some(caller)),
        _ => Err(UrlError::Forbidden),
    }
}

async fn invoke(
    gw: &Gateway,
    url: &CompiledFunctionUrl,
    c: &Call<'_>,
    body: RequestBody,
) -> Result<Response<GatewayBody>, UrlError> {
    let declared = c
        .parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|l| l.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|l| l > MAX_BODY as u64) {
        return Err(UrlError::TooLarge);
    }
    let mut body = Some(body);
    let caller = authorize(gw, url, c.parts, &mut body).await?;
    let body: Bytes = match body {
        Some(b) => b
            .collect(gw.body_stall)
            .await
            .map_err(|e| match HttpApiError::from(e) {
                HttpApiError::TooLarge => UrlError::TooLarge,
                _ => UrlError::BadGateway,
            })?,
        None => return Err(UrlError::BadGateway),
    };
    // An IAM caller's signature never reaches the function.
    let unsigned;
    let parts = match caller {
        Some(_) => {
            unsigned = iam_caller::without_signature(c.parts);
            &unsigned
        }
        None => c.parts,
    };
    let domain_name = frontend::host_of(c.parts).unwrap_or_default();
    let context = HttpContext {
        authorizer: caller.map(HttpAuthorized::Iam),
        ..HttpContext::default()
    };
    let no_variables = Default::default();
    let call = HttpApiCall {
        parts,
        remote: c.remote,
        tls: c.tls,
        api_id: &url.url_id,
        stage: tollgate_model::v2::DEFAULT,
        stage_variables: &no_variables,
        route: &url.route,
        path_params: &[],
        raw_path: c.raw_path,
        routing_path: c.raw_path,
        request_id: c.request_id,
        domain_name,
        time_epoch_ms: tollgate_model::time::now_epoch_millis(),
        functions: gw.functions.as_ref(),
        aws: &gw.aws,
        vpc_links: &gw.vpc_links,
        body_stall: gw.body_stall,
        context: &context,
    };
    let event = http_api::event_v2(&call, &body);
    let functions = gw.functions.as_ref().ok_or(UrlError::BadGateway)?;
    let request = InvokeRequest {
        payload: Bytes::from(event),
        log_tail: false,
        client_context: None,
        trace_id: None,
    };
    let out = functions
        .invoke(&url.function, url.qualifier.as_deref(), request)
        .await
        .map_err(|e| {
            tracing::info!(url = %url.url_id, function = %url.function, error = %e, "function URL invocation failed");
            UrlError::BadGateway
        })?;
    http_api::output_v2(&url.url_id, &out).map_err(|_| UrlError::BadGateway)
}
