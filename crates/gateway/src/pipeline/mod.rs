//! The REST API request pipeline: named phases in AWS's own order.
//!
//! | phase | module |
//! |---|---|
//! | addressing (API id, stage) | [`addressing`] |
//! | method request (route, parameters) | [`method_request`] |
//! | authorization | [`authorize`] |
//! | API key | [`api_key`] |
//! | throttling and quota | [`throttle`] |
//! | request validation (parameters, body against the model) | [`request_validation`] |
//! | integration request (mappings, templates, contentHandling, URI) | [`integration_request`], [`crate::mapping`], [`crate::content_handling`] |
//! | integration (HTTP, HTTP_PROXY, MOCK, AWS, AWS_PROXY), behind one trait | [`crate::integrations`] |
//! | integration response (selection, mappings) | [`integration_response`] |
//! | method response / response enrichment, access log | [`respond`] |
//!
//! Any phase can stop the request with a [`GatewayError`], which is answered with the
//! deployment's gateway response for that type ([`gateway_response`]).

pub mod addressing;
pub mod api_key;
pub mod authorize;
pub mod gateway_response;
pub mod integration_request;
pub mod integration_response;
pub mod method_request;
pub mod request_validation;
pub mod respond;
pub mod throttle;

use std::net::SocketAddr;
use std::time::Instant;

use http::{Request, Response};
use hyper::body::Incoming;

use crate::body::GatewayBody;
use crate::context::{ErrorContext, RequestContext};
use crate::error::{GatewayError, MAX_BODY, MAX_HEAD};
use crate::integrations;
use crate::integrations::call::{Answer, Call, CallRecord};
use crate::invocation::{Invocation, RequestBody};
use crate::Gateway;

/// Bytes of the request line and headers as they were on the wire (HTTP/1.1 framing).
fn head_size(parts: &http::request::Parts) -> usize {
    let line = parts.method.as_str().len()
        + parts.uri.path_and_query().map_or(1, |p| p.as_str().len())
        + 11;
    parts
        .headers
        .iter()
        .fold(line, |n, (k, v)| n + k.as_str().len() + v.len() + 4)
        + 2
}

impl Gateway {
    /// Serves one data-plane request addressed to `target`.
    pub async fn serve(&self, req: Request<Incoming>, remote: SocketAddr) -> Response<GatewayBody> {
        let started = Instant::now();
        let runtime = self.runtime.load();
        let (parts, body) = req.into_parts();
        if head_size(&parts) > MAX_HEAD {
            return respond::bare(gateway_response::header_too_large());
        }
        let host = parts
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .or(parts.uri.host());
        let Some(target) = addressing::classify(host, parts.uri.path()) else {
            return respond::bare(gateway_response::forbidden());
        };
        let api = runtime
            .api(&target.api_id)
            .filter(|a| !a.disable_execute_api_endpoint);
        let Some((stage_name, routing_path)) = addressing::split_stage(target.stage_path) else {
            return respond::bare(gateway_response::forbidden());
        };
        let Some(stage) = api.and_then(|a| a.stages.get(stage_name)).cloned() else {
            return respond::bare(gateway_response::forbidden());
        };
        let (deployment, variables, is_canary) = match &stage.canary {
            Some(c)
                if c.percent_traffic > 0.0 && rand::random::<f64>() * 100.0 < c.percent_traffic =>
            {
                (&c.deployment, &c.variables, Some(true))
            }
            Some(_) => (&stage.deployment, &stage.variables, Some(false)),
            None => (&stage.deployment, &stage.variables, None),
        };
        let ctx = respond::new_context(&parts, &target, &stage.name, deployment, is_canary, remote);
        let routing_path = routing_path.to_string();
        let inv = Invocation {
            parts,
            deployment,
            stage_variables: variables,
            routing_path: &routing_path,
            ctx,
            remote,
            limits: Some(&stage.limits),
        };
        let (resp, ctx) = self.run(inv, RequestBody::Stream(body)).await;
        respond::finish(self, resp, ctx, &stage, variables, started)
    }

    /// Runs the phases after addressing; returns the response and the final `$context`.
    pub async fn run(
        &self,
        mut inv: Invocation<'_>,
        body: RequestBody,
    ) -> (Response<GatewayBody>, RequestContext) {
        let result = self.phases(&mut inv, body).await;
        let resp = match result {
            Ok(r) => r,
            Err(e) => {
                inv.ctx.error = Some(ErrorContext {
                    response_type: e.kind,
                    message: e.message.clone(),
                    validation_error: e.validation_error.clone(),
                });
                gateway_response::render(&inv, &e)
            }
        };
        (resp, inv.ctx)
    }

    async fn phases(
        &self,
        inv: &mut Invocation<'_>,
        body: RequestBody,
    ) -> Result<Response<GatewayBody>, GatewayError> {
        if let Some(len) = inv.parts.headers.get(http::header::CONTENT_LENGTH) {
            if len
                .to_str()
                .ok()
                .and_then(|l| l.parse::<u64>().ok())
                .is_some_and(|l| l > MAX_BODY as u64)
            {
                return Err(GatewayError::too_large());
            }
        }
        let routed =
            method_request::route(inv.deployment, inv.parts.method.as_str(), inv.routing_path)?;
        inv.ctx.resource_id = Some(routed.route.resource_id.clone());
        inv.ctx.resource_path = Some(routed.route.resource_path.clone());
        authorize::check(&routed.method)?;
        if let Some(limits) = inv.limits {
            let key = api_key::check(
                &routed.method,
                inv.deployment.api_key_source,
                limits,
                &inv.parts.headers,
            )?;
            if let Some(k) = key {
                inv.ctx.api_key = Some((
                    k.key_id.clone(),
                    inv.parts
                        .headers
                        .get("x-api-key")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .into(),
                ));
            }
            throttle::check(
                limits,
                key.map(|k| k.as_ref()),
                &routed.route.resource_path,
                &routed.method.http_method,
            )?;
        }
        let validation = routed.method.validation.as_ref();
        // Query parameters are decoded only when something reads them.
        let reads_params = validation.is_some_and(|v| !v.required.is_empty())
            || routed
                .method
                .integration
                .as_ref()
                .is_ok_and(|i| i.reads_parameters());
        let query = if reads_params {
            method_request::parse_query(inv.parts.uri.query())
        } else {
            Vec::new()
        };
        let params = method_request::Params {
            path: &routed.path_params,
            query: &query,
            headers: &inv.parts.headers,
        };
        // Validation runs before the integration is looked at, so a bad request is a 400
        // even on a method whose integration is broken. A body is read into memory only
        // when a model will check it (proxy bodies otherwise keep streaming).
        let body = match validation {
            Some(v) => {
                let content_type = inv
                    .parts
                    .headers
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok());
                request_validation::check_parameters(v, &params)?;
                match request_validation::body_model(v, content_type) {
                    Some(model) => {
                        let bytes = body.collect(self.body_stall).await?;
                        request_validation::check_body(model, &bytes)?;
                        RequestBody::Buffered(bytes)
                    }
                    None => body,
                }
            }
            None => body,
        };
        let integration = routed
            .method
            .integration
            .as_ref()
            .map_err(|_| GatewayError::internal())?;
        let call = Call {
            integration,
            routed: &routed,
            params: &params,
            functions: self.functions.as_ref(),
            body_stall: self.body_stall,
        };
        let mut record = CallRecord::default();
        let answer = integrations::call(&call, inv, &mut record, body).await;
        record.record(&mut inv.ctx);
        match answer? {
            Answer::Response(resp) => Ok(resp),
            Answer::Output(out) => integration_response::apply(inv, integration, &params, out),
        }
    }
}
