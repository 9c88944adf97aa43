//! The HTTP API pipeline (API Gateway v2), in request-pipeline.md §8's order: stage
//! selection, CORS preflight (`crate::cors`), route match, throttling (route settings over the stage's default route
//! settings, then the account), authorization (`http_authorize`), integration, response
//! (`apigw-requestid`), access log (`crate::http_context`). Its answers are HTTP APIs' fixed bodies (§9.4), never REST's
//! gateway responses.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use http::header::HeaderValue;
use http::Response;

use super::http_authorize;
use super::inbound::{ApiPipeline, Inbound};
use super::respond;
use crate::body::GatewayBody;
use crate::compile::http_api::{HttpTarget, RouteMatch};
use crate::compile::http_authorizer::RouteAuthorizer;
use crate::cors::CompiledCors;
use crate::error::{HttpApiError, MAX_BODY, MAX_HEAD};
use crate::frontend;
use crate::http_context::{HttpContext, IntegrationRequestId};
use crate::integrations::http_api::{self, HttpApiCall};
use crate::invocation::RequestBody;
use crate::runtime::{ApiEntry, HttpApiRuntime, HttpStageRuntime};
use crate::Gateway;
use tollgate_store::limit::Verdict;

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

fn declared_length(parts: &http::request::Parts) -> Option<u64> {
    parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| l.parse::<u64>().ok())
}

fn declared_too_large(parts: &http::request::Parts) -> bool {
    declared_length(parts).is_some_and(|l| l > MAX_BODY as u64)
}

impl ApiPipeline for HttpPipeline {
    // Not an `async fn`: its argument would be kept twice in every request's future.
    #[allow(clippy::manual_async_fn)] // an `async fn` would keep its arguments twice
    fn serve(&self, gw: &Gateway, req: Inbound<'_>) -> impl Future<Output = Response<GatewayBody>> {
        async move {
            let started = Instant::now();
            let request_id = crate::request_ids::extended_request_id();
            let (parts, body, remote) = (req.parts, req.body, req.remote);
            let (tls, addressed, client_cert) = (req.tls, req.addressed, req.client_cert);
            let head = parts
                .headers
                .iter()
                .fold(0, |n, (k, v)| n + k.as_str().len() + v.len() + 4);
            if head > MAX_HEAD {
                return respond::bare(super::gateway_response::header_too_large());
            }
            let Some((ApiEntry::Http(api), path_start, mapped)) = addressed
                .as_ref()
                .and_then(|a| Some((&a.frontend?.api, a.path_start, a.stage)))
            else {
                return error_response(HttpApiError::NotFound, &request_id);
            };
            let stage_path = &parts.uri.path()[path_start..];
            // A custom domain's mapping names the stage; `rawPath` excludes its key.
            let selected = match mapped {
                Some(name) => api.stages.get(name).map(|st| {
                    let path = if stage_path.is_empty() {
                        "/"
                    } else {
                        stage_path
                    };
                    (st.clone(), path, path)
                }),
                None => select_stage(api, stage_path),
            };
            // No stage: nothing to log to (AWS writes no access log line either).
            let Some((stage, raw_path, routing_path)) = selected else {
                return error_response(HttpApiError::NotFound, &request_id);
            };
            let domain_name = frontend::host_of(&parts).unwrap_or_default();
            let header = |h| {
                parts
                    .headers
                    .get(h)
                    .and_then(|v: &HeaderValue| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string()
            };
            let mut ctx = HttpContext {
                api_id: stage.deployment.api_id.to_string(),
                stage: stage.name.to_string(),
                http_method: parts.method.to_string(),
                path: raw_path.to_string(),
                protocol: protocol(parts.version),
                source_ip: crate::client_ip::ip_string(remote.ip()),
                user_agent: header(http::header::USER_AGENT),
                domain_name: domain_name.to_string(),
                request_time_epoch_ms: tollgate_model::time::now_epoch_millis(),
                client_cert,
                ..HttpContext::default()
            };
            // A trace only for a caller that sent one: HTTP APIs start none themselves (a
            // function without one gets its own, as any invocation).
            let (amzn, w3c) = tollgate_traces::context::caller_headers(&parts.headers);
            if amzn.is_some() || w3c.is_some() {
                let now = (ctx.request_time_epoch_ms / 1000) as u64;
                let trace = tollgate_traces::TraceContext::incoming(amzn, w3c, now);
                ctx.sampled = trace.caller_sampled == Some(true);
                ctx.trace = Some(trace);
                ctx.spans = gw.recorder(ctx.sampled, started);
            }
            let target = Target {
                parts: &parts,
                remote,
                tls,
                stage: &stage,
                raw_path,
                routing_path,
                request_id: &request_id,
                domain_name,
            };
            let mut resp = match answer(gw, &target, body, &mut ctx).await {
                Ok(resp) => with_request_id(resp, &request_id),
                Err(e) => {
                    ctx.error_message = Some(e.message());
                    let mut resp = error_response(e, &request_id);
                    let challenge = ctx.challenge.as_deref().map(HeaderValue::from_str);
                    if let Some(Ok(v)) = challenge {
                        resp.headers_mut().insert(http::header::WWW_AUTHENTICATE, v);
                    }
                    resp
                }
            };
            if let Some(cors) = &stage.deployment.cors {
                // A preflight's answer already carries exactly the CORS headers it needs.
                if !CompiledCors::is_preflight(&parts.method, &parts.headers) {
                    cors.apply(&parts.headers, resp.headers_mut());
                }
            }
            let status = resp.status().as_u16();
            let response_length = http_body::Body::size_hint(resp.body()).exact();
            let latency = started.elapsed();
            let series = stage.metrics.series(ctx.route_index);
            crate::metrics::count_request(series, status, latency, ctx.integration_latency_ms);
            // DataProcessed: the body bytes known when the request is answered (a declared
            // request length, a response of known length).
            let data = declared_length(&parts).unwrap_or(0) + response_length.unwrap_or(0);
            if data > 0 {
                series.add(crate::metrics::DATA_PROCESSED, data);
            }
            if ctx.spans.is_some() {
                ctx.status = status;
                gw.finish_http_trace(&mut ctx, &request_id);
            }
            if let Some(log) = &stage.access_log {
                ctx.request_id = request_id;
                ctx.data_processed = data;
                ctx.base_path_matched = addressed.as_ref().and_then(|a| a.base_path_shown());
                ctx.status = status;
                ctx.response_length = response_length.unwrap_or(0);
                ctx.response_latency_ms = latency.as_millis() as u64;
                gw.logs.write(log, &ctx, &stage.variables);
            }
            resp
        }
    }
}

/// Where a request is going, once its stage is known.
struct Target<'a> {
    parts: &'a http::request::Parts,
    remote: std::net::SocketAddr,
    tls: bool,
    stage: &'a HttpStageRuntime,
    raw_path: &'a str,
    routing_path: &'a str,
    request_id: &'a str,
    domain_name: &'a str,
}

fn protocol(v: http::Version) -> &'static str {
    match v {
        http::Version::HTTP_2 => "HTTP/2.0",
        http::Version::HTTP_10 => "HTTP/1.0",
        _ => "HTTP/1.1",
    }
}

/// What the authorizer and the integration know of the request.
fn integration_call<'a>(
    gw: &'a Gateway,
    t: &'a Target<'a>,
    matched: &'a RouteMatch<'a>,
    ctx: &'a HttpContext,
) -> HttpApiCall<'a> {
    HttpApiCall {
        parts: t.parts,
        remote: t.remote,
        tls: t.tls,
        api_id: &t.stage.deployment.api_id,
        stage: &t.stage.name,
        stage_variables: &t.stage.variables,
        route: matched.route,
        path_params: &matched.params,
        raw_path: t.raw_path,
        routing_path: t.routing_path,
        request_id: t.request_id,
        domain_name: t.domain_name,
        time_epoch_ms: ctx.request_time_epoch_ms,
        functions: gw.functions.as_ref(),
        aws: &gw.aws,
        vpc_links: &gw.vpc_links,
        body_stall: gw.body_stall,
        context: ctx,
    }
}

/// From route match to the integration's answer, filling the `$context` on the way.
async fn answer(
    gw: &Gateway,
    t: &Target<'_>,
    body: RequestBody,
    ctx: &mut HttpContext,
) -> Result<Response<GatewayBody>, HttpApiError> {
    let mut body = Some(body);
    if declared_too_large(t.parts) {
        return Err(HttpApiError::TooLarge);
    }
    let deployment = &t.stage.deployment;
    if let Some(cors) = &deployment.cors {
        if CompiledCors::is_preflight(&t.parts.method, &t.parts.headers) {
            let mut resp = Response::new(GatewayBody::empty());
            *resp.status_mut() = http::StatusCode::NO_CONTENT;
            cors.preflight(&t.parts.headers, resp.headers_mut());
            return Ok(resp);
        }
    }
    let matched = deployment
        .route(&t.parts.method, t.routing_path)
        .ok_or(HttpApiError::NotFound)?;
    let route = matched.route;
    ctx.route_key = Some(route.key.to_string());
    ctx.route_index = Some(route.index);
    match t.stage.admit(route.index).await {
        Verdict::Admit => {}
        Verdict::Refuse => return Err(HttpApiError::TooManyRequests),
        Verdict::Unavailable => return Err(HttpApiError::ServiceUnavailable),
    }
    // An IAM caller's signature never reaches the integration: what follows sees the
    // request without it.
    // Authorizers are boxed (their futures are kilobytes, which inline would size every
    // request's future), as are the unsigned request's parts.
    let (unsigned_parts, unsigned): (Box<http::request::Parts>, _);
    let t = if matches!(route.authorizer, RouteAuthorizer::Iam) {
        let call = integration_call(gw, t, &matched, ctx);
        let start = Instant::now();
        let checked = Box::pin(http_authorize::iam(gw, &call, &mut body)).await;
        ctx.authorizer = Some(authorizer_outcome(ctx, start, checked)?);
        unsigned_parts = Box::new(super::iam_caller::without_signature(t.parts));
        unsigned = Target {
            parts: &unsigned_parts,
            ..*t
        };
        &unsigned
    } else {
        t
    };
    let body = body.ok_or(HttpApiError::Internal)?;
    if !matches!(
        route.authorizer,
        RouteAuthorizer::None | RouteAuthorizer::Iam
    ) {
        let call = integration_call(gw, t, &matched, ctx);
        let start = Instant::now();
        let checked = Box::pin(http_authorize::check(gw, t.stage, &call)).await;
        ctx.authorizer = authorizer_outcome(ctx, start, checked)?;
    }
    let integration = route
        .integration
        .and_then(|i| deployment.integrations.get(i))
        .ok_or(HttpApiError::Internal)?;
    let call = integration_call(gw, t, &matched, ctx);
    let called = Instant::now();
    let result = match &integration.target {
        HttpTarget::HttpProxy {
            uri,
            method,
            vpc_link,
        } => {
            let target = http_api::ProxyTarget {
                uri,
                method: method.as_ref(),
                vpc_link: vpc_link.as_ref(),
            };
            http_api::http_proxy(&call, integration, target, body).await
        }
        HttpTarget::Lambda(target) => {
            Box::pin(http_api::lambda(&call, integration, target, body)).await
        }
        HttpTarget::AwsService(target) => {
            Box::pin(http_api::aws_service(&call, integration, target, body)).await
        }
        HttpTarget::Unsupported(why) => {
            tracing::warn!(api = %deployment.api_id, route = %route.key, why, "integration cannot be called");
            return Err(HttpApiError::Internal);
        }
    };
    // The integration's own status and request id, before any response mapping.
    let mut result = result;
    let (answered, request_id) = match &mut result {
        Ok(resp) => (
            Some(resp.status().as_u16()),
            resp.extensions_mut().remove::<IntegrationRequestId>(),
        ),
        Err(_) => (None, None),
    };
    // Boxed, and only when the status has mappings: it may read the backend's body.
    let result = match result {
        Ok(resp) if integration.maps(resp.status().as_u16()) => {
            Box::pin(http_api::map_response(&call, integration, resp)).await
        }
        other => other,
    };
    ctx.integration_latency_ms = Some(called.elapsed().as_millis() as u64);
    let failed = result.as_ref().err().map(|e| e.message());
    let downstream = ctx.trace.map(|t| t.downstream());
    record_span(ctx, "Integration", called, downstream, failed);
    if let (Some(rec), Some(status)) = (ctx.spans.as_mut(), answered) {
        rec.annotate(
            "Integration",
            [("http.response.status_code", i64::from(status).into())],
        );
    }
    ctx.integration_status = answered;
    // A Lambda proxy's invoke answered 200 whatever status the function chose.
    let lambda = matches!(integration.target, HttpTarget::Lambda(_));
    ctx.integration_call_status = answered.map(|status| if lambda { 200 } else { status });
    ctx.integration_request_id = request_id.map(|id| id.0);
    if let Err(e) = &result {
        ctx.integration_error = Some(e.message());
    }
    result
}

/// What an authorizer decided, its span recorded (traced requests) and a refusal's reason
/// and challenge kept in `$context`.
fn authorizer_outcome<T>(
    ctx: &mut HttpContext,
    start: Instant,
    checked: Result<T, http_authorize::Refusal>,
) -> Result<T, HttpApiError> {
    let reason = checked.as_ref().err().map(|r| r.reason);
    record_span(ctx, "Authorizer", start, None, reason);
    checked.map_err(|refusal| {
        ctx.authorizer_error = Some(refusal.reason);
        ctx.challenge = refusal.challenge;
        refusal.error
    })
}

/// Records a traced request's span for work that ran from `start` until now: the
/// authorizer's, or the integration's (`span_id`: the one its backend was told).
fn record_span(
    ctx: &mut HttpContext,
    name: &'static str,
    start: Instant,
    span_id: Option<u64>,
    error: Option<&'static str>,
) {
    let Some(rec) = ctx.spans.as_mut() else {
        return;
    };
    let kind = match span_id {
        Some(_) => tollgate_traces::SpanKind::Client,
        None => tollgate_traces::SpanKind::Internal,
    };
    let span = (start, Instant::now());
    let error = error.map(str::to_string);
    rec.phase_with(name, kind, span, span_id, None, Vec::new(), error);
}
