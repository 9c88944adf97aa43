//! The REST API pipeline: addressing within the API (stage, canary), the `$context`, the
//! phases, the method response.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use http::Response;

use super::inbound::{ApiPipeline, Inbound};
use super::phases::{self, Exchange, Flow};
use super::{addressing, gateway_response, method_request, respond};
use crate::body::GatewayBody;
use crate::context::{ErrorContext, RequestContext};
use crate::error::{GatewayError, MAX_BODY, MAX_HEAD};
use crate::execution_log;
use crate::header_case::RawHead;
use crate::invocation::{Invocation, RequestBody};
use crate::runtime::{ApiEntry, StageRuntime};
use crate::Gateway;
use crate::{compression, frontend};

/// REST APIs (API Gateway v1).
pub struct RestPipeline;

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

/// Whether a response may carry a body to compress (not 204 or 304).
fn may_have_body(resp: &Response<GatewayBody>) -> bool {
    !matches!(resp.status().as_u16(), 204 | 304)
}

/// A REST request once addressing found its stage: what the phases need, owned, so the
/// pipeline's future keeps none of addressing's borrows and temporaries.
struct Entered {
    parts: http::request::Parts,
    body: RequestBody,
    remote: std::net::SocketAddr,
    tls: bool,
    ctx: RequestContext,
    stage: Arc<StageRuntime>,
    is_canary: Option<bool>,
    routing_path: String,
    compress_with: Option<(compression::Coding, usize)>,
    raw_head: Option<RawHead>,
}

/// Addressing within the API: the stage (or its canary), the routing path, the `$context`
/// (with a span recorder when the request is traced from `started`); `Err` is the answer to
/// a request that reaches no stage.
// The `Err` is the response itself, sent as it is: boxing it would cost every refusal.
#[allow(clippy::result_large_err)]
fn enter(
    gw: &Gateway,
    req: Inbound<'_>,
    started: Instant,
) -> Result<Entered, Response<GatewayBody>> {
    let Inbound {
        parts,
        body,
        remote,
        tls,
        client_cert,
        raw_head,
        addressed,
    } = req;
    if head_size(&parts) > MAX_HEAD {
        return Err(respond::bare(gateway_response::header_too_large()));
    }
    let forbidden = || respond::bare(gateway_response::forbidden());
    let Some((frontend, addressed)) = addressed.and_then(|a| Some((a.frontend?, a))) else {
        return Err(forbidden());
    };
    let stage_path = &parts.uri.path()[addressed.path_start..];
    let (stage_name, routing_path) = match addressed.stage {
        Some(stage) => (
            stage,
            if stage_path.is_empty() {
                "/"
            } else {
                stage_path
            },
        ),
        None => addressing::split_stage(stage_path).ok_or_else(forbidden)?,
    };
    let ApiEntry::Rest(api) = &frontend.api else {
        return Err(forbidden());
    };
    let stage = api.stages.get(stage_name).cloned().ok_or_else(forbidden)?;
    let (deployment, is_canary) = match &stage.canary {
        Some(c) if c.percent_traffic > 0.0 && rand::random::<f64>() * 100.0 < c.percent_traffic => {
            (&c.deployment, Some(true))
        }
        Some(_) => (&stage.deployment, Some(false)),
        None => (&stage.deployment, None),
    };
    // `minimumCompressionSize` is the deployment's: the client must accept a coding.
    let compress_with = deployment
        .minimum_compression_size
        .and_then(|min| Some((compression::accepted(&parts.headers)?, min)));
    let domain_name = frontend::host_of(&parts).unwrap_or_default();
    // On a custom domain, `$context.path` is the path as sent, mapping key included.
    let ctx_path = match addressed.base_path_matched {
        Some(_) => parts.uri.path(),
        None => stage_path,
    };
    let mut ctx = respond::new_context(
        &parts,
        ctx_path,
        domain_name,
        &stage.name,
        deployment,
        is_canary,
        remote,
    );
    ctx.sample(stage.tracing.as_ref());
    ctx.spans = gw.recorder(ctx.sampled, started);
    ctx.base_path_matched = addressed.base_path_shown();
    ctx.client_cert = client_cert;
    Ok(Entered {
        routing_path: routing_path.to_string(),
        ctx,
        is_canary,
        compress_with,
        stage,
        parts,
        body,
        remote,
        tls,
        raw_head,
    })
}

impl ApiPipeline for RestPipeline {
    // Not an `async fn`, and addressing is a plain function: the future keeps only what
    // the phases need (an `async fn` would also keep its argument, and every borrowed
    // temporary of addressing), since it is copied whole once per request.
    #[allow(clippy::manual_async_fn)] // an `async fn` would keep its arguments twice
    fn serve(&self, gw: &Gateway, req: Inbound<'_>) -> impl Future<Output = Response<GatewayBody>> {
        async move {
            let started = Instant::now();
            let Entered {
                parts,
                body,
                remote,
                tls,
                ctx,
                stage,
                is_canary,
                routing_path,
                compress_with,
                raw_head,
            } = match enter(gw, req, started) {
                Ok(e) => e,
                Err(resp) => return resp,
            };
            let canary = is_canary == Some(true);
            let (deployment, variables) = match &stage.canary {
                Some(c) if canary => (&c.deployment, &c.variables),
                _ => (&stage.deployment, &stage.variables),
            };
            let inv = Invocation {
                parts,
                deployment,
                stage_variables: variables,
                routing_path: &routing_path,
                ctx,
                remote,
                limits: Some(&stage.limits),
                logging: stage.execution_log.as_ref(),
                cache: stage.cache_scope(canary),
                tls,
                backend_tls: stage.backend_tls.as_deref(),
                raw_head,
            };
            let (resp, ctx) = gw.run(inv, body).await;
            let resp = respond::finish(gw, resp, ctx, &stage, variables, started);
            match compress_with {
                Some((coding, min)) if may_have_body(&resp) => {
                    compression::compress(resp, coding, min)
                }
                _ => resp,
            }
        }
    }
}

/// A logged method's request lines, kept in the `$context` until the request is answered
/// (with data trace, the integration's bodies are recorded there too).
fn record_method_request(inv: &mut Invocation<'_>, routed: &method_request::Routed) {
    let verb = inv.parts.method.as_str();
    let Some(logging) = inv
        .logging
        .and_then(|l| l.for_method(Some(&*routed.route.resource_path), verb))
    else {
        return;
    };
    // Without data trace only the first line is kept: the rest is not built at all.
    let trace = logging.data_trace;
    let query = match trace {
        true => method_request::parse_query(inv.parts.uri.query()),
        false => Vec::new(),
    };
    let headers: Vec<(&str, String)> = match trace {
        true => inv
            .parts
            .headers
            .iter()
            .map(|(k, v)| {
                let v = v.to_str().unwrap_or_default();
                (k.as_str(), execution_log::redacted(k.as_str(), v))
            })
            .collect(),
        false => Vec::new(),
    };
    let mut lines = execution_log::method_request_lines(
        verb,
        inv.routing_path,
        routed
            .path_params
            .iter()
            .filter(|_| trace)
            .map(|(k, v)| (&**k, v.as_str())),
        query.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        headers.iter().map(|(k, v)| (*k, v.as_str())),
    );
    if !trace {
        lines.truncate(1);
    }
    inv.ctx
        .execution_log
        .get_or_insert_with(Box::default)
        .method_request = lines;
}

impl Gateway {
    /// Runs the REST phases after addressing; returns the response and the final
    /// `$context`. TestInvokeMethod enters here.
    // Not `async fn`s (here and below): those move their arguments into locals, so the
    // future would hold the invocation twice; an `async move` block uses its captures in
    // place.
    pub fn run<'s>(
        &'s self,
        inv: Invocation<'s>,
        body: RequestBody,
    ) -> impl Future<Output = (Response<GatewayBody>, RequestContext)> + 's {
        self.run_inner(inv, body, None)
    }

    /// [`Gateway::run`] for a method chosen by its resource rather than by the path
    /// (TestInvokeMethod runs the resource's method whatever path it is given).
    pub fn run_routed<'s>(
        &'s self,
        inv: Invocation<'s>,
        body: RequestBody,
        routed: method_request::Routed,
    ) -> impl Future<Output = (Response<GatewayBody>, RequestContext)> + 's {
        self.run_inner(inv, body, Some(routed))
    }

    #[allow(clippy::manual_async_fn)] // an `async fn` would keep its arguments twice
    fn run_inner<'s>(
        &'s self,
        mut inv: Invocation<'s>,
        body: RequestBody,
        routed: Option<method_request::Routed>,
    ) -> impl Future<Output = (Response<GatewayBody>, RequestContext)> + 's {
        async move {
            let result = self.phases(&mut inv, body, routed).await;
            self.answer(inv, result)
        }
    }

    fn answer(
        &self,
        mut inv: Invocation<'_>,
        result: Result<Response<GatewayBody>, GatewayError>,
    ) -> (Response<GatewayBody>, RequestContext) {
        let resp = match result {
            Ok(r) => r,
            Err(e) => {
                inv.ctx.error = Some(ErrorContext {
                    response_type: e.kind,
                    message: e.message.clone(),
                    validation_error: e.validation_error.clone(),
                    log_detail: e.log_detail,
                });
                gateway_response::render(&inv, &e)
            }
        };
        (resp, inv.ctx)
    }

    /// The method request (body limit, route), then [`phases::REST`] in order.
    #[allow(clippy::manual_async_fn)] // an `async fn` would keep its arguments twice
    fn phases<'f, 'a: 'f>(
        &'f self,
        inv: &'f mut Invocation<'a>,
        body: RequestBody,
        routed: Option<method_request::Routed>,
    ) -> impl Future<Output = Result<Response<GatewayBody>, GatewayError>> + use<'f, 'a> {
        async move {
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
            let routed = match routed {
                Some(r) => r,
                None => method_request::route(
                    inv.deployment,
                    inv.parts.method.as_str(),
                    inv.routing_path,
                )?,
            };
            inv.ctx.resource_id = Some(routed.route.resource_id.clone());
            inv.ctx.resource_path = Some(routed.route.resource_path.clone());
            record_method_request(inv, &routed);
            let mut ex = Exchange::new(self, inv, routed, body);
            for phase in phases::REST {
                ex.begin_span(phase);
                let flow = ex.run(phase).await;
                ex.end_span(phase, flow.as_ref().err());
                if let Flow::Answer(resp) = flow? {
                    return Ok(resp);
                }
            }
            ex.into_response()
        }
    }
}
