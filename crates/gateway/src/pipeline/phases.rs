//! The REST pipeline's phases as data: [`REST`] lists them in AWS's order and
//! [`Exchange::run`] runs one over the request's [`Exchange`]. A phase goes on to the next,
//! answers early ([`Flow::Answer`]), or fails with a [`GatewayError`]. Phases are an enum
//! matched in a loop rather than boxed handlers, so a request pays no boxed future; only
//! the phases that wait (authorization, throttling when a cluster's shared limit must be
//! asked, validation reading the body, the integration) are async.

use std::sync::Arc;

use http::Response;

use super::method_request::{self, Params, Routed};
use super::response_cache::{self, Looked, Pending};
use super::{api_key, authorize, integration_response, request_validation, throttle};
use crate::body::GatewayBody;
use crate::error::GatewayError;
use crate::integrations;
use crate::integrations::call::{Answer, Call, CallRecord};
use crate::invocation::{Invocation, RequestBody};
use crate::runtime::KeyBinding;
use crate::Gateway;
use tollgate_traces::context::X_AMZN_TRACE_ID;

/// One unit of a pipeline, after routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The method's authorization type; may call out (an authorizer) and fills
    /// `$context.authorizer`.
    Authorize,
    /// `apiKeyRequired`: the key must be one of the stage's usage plans.
    ApiKey,
    /// Every bucket that applies, then the key's quota.
    Throttle,
    /// Required parameters, then the body against the request model.
    RequestValidation,
    /// The stage's response cache answers a hit before the integration.
    CacheLookup,
    /// Integration request, the call, integration response.
    Integration,
    /// A miss's response is kept for [`Phase::CacheLookup`].
    CacheStore,
}

/// The REST pipeline after routing, in AWS's order.
pub const REST: [Phase; 7] = [
    Phase::Authorize,
    Phase::ApiKey,
    Phase::Throttle,
    Phase::RequestValidation,
    Phase::CacheLookup,
    Phase::Integration,
    Phase::CacheStore,
];

/// What a phase decided.
pub enum Flow {
    /// On to the next phase.
    Next,
    /// This is the response; the phases after are skipped.
    Answer(Response<GatewayBody>),
}

/// One request as the phases see it: the invocation (with its `$context`), the route, and
/// what earlier phases found.
pub struct Exchange<'x, 'a> {
    gw: &'x Gateway,
    inv: &'x mut Invocation<'a>,
    routed: Routed,
    /// Decoded query parameters; decoded only when something reads them.
    query: Vec<(String, String)>,
    /// The client's body until the integration takes it.
    body: Option<RequestBody>,
    /// The API key the key phase accepted, for the throttle phase.
    key: Option<&'a Arc<KeyBinding>>,
    /// The integration's response, for the phases after it.
    response: Option<Response<GatewayBody>>,
    /// A cache miss to fill once the integration answered.
    cache: Option<Pending>,
}

impl<'x, 'a> Exchange<'x, 'a> {
    pub fn new(
        gw: &'x Gateway,
        inv: &'x mut Invocation<'a>,
        routed: Routed,
        body: RequestBody,
    ) -> Self {
        Exchange {
            gw,
            inv,
            routed,
            query: Vec::new(),
            body: Some(body),
            key: None,
            response: None,
            cache: None,
        }
    }

    /// Runs one phase.
    pub async fn run(&mut self, phase: Phase) -> Result<Flow, GatewayError> {
        match phase {
            Phase::Authorize => {
                if !authorize::needed(self.inv, &self.routed) {
                    return Ok(Flow::Next);
                }
                let held = authorize::from_front(self.gw, self.inv, &self.routed, &mut self.query);
                let done = match held {
                    Some(done) => done?,
                    // Boxed: an authorizer's future (a function call, a JWKS fetch, SigV4)
                    // is kilobytes, which inline would size every request's future.
                    None => {
                        Box::pin(authorize::check(
                            self.gw,
                            self.inv,
                            &self.routed,
                            &mut self.query,
                            &mut self.body,
                        ))
                        .await?
                    }
                };
                self.inv.ctx.authorizer = done.authorizer;
                if let Some(caller) = done.iam {
                    // AWS never hands the caller's signature on to the integration.
                    for h in super::iam_caller::SIGNING_HEADERS {
                        self.inv.parts.headers.remove(h);
                    }
                    self.inv.ctx.iam = Some(caller);
                }
            }
            Phase::ApiKey => self.api_key()?,
            Phase::Throttle => {
                if let Some(limits) = self.inv.limits {
                    throttle::check(
                        limits,
                        self.key.map(|k| k.as_ref()),
                        &self.routed.route.resource_path,
                        &self.routed.method.http_method,
                    )
                    .await?;
                }
            }
            Phase::RequestValidation => self.validate().await?,
            Phase::CacheLookup => {
                match response_cache::lookup(self.gw, self.inv, &self.routed, &mut self.query)
                    .await?
                {
                    Looked::Skip => {}
                    Looked::Hit(resp) => return Ok(Flow::Answer(resp)),
                    Looked::Miss(pending) => self.cache = Some(pending),
                }
            }
            Phase::Integration => self.integrate().await?,
            Phase::CacheStore => {
                if let Some(pending) = self.cache.take() {
                    let resp = self.response.take().ok_or_else(GatewayError::internal)?;
                    // Boxed for the same reason: it reads a body to keep it.
                    let stall = self.gw.body_stall;
                    let resp =
                        Box::pin(response_cache::store(self.inv, pending, resp, stall)).await?;
                    self.response = Some(resp);
                }
            }
        }
        Ok(Flow::Next)
    }

    /// For a traced request, notes that `phase` starts when it is about to do work (an
    /// authorizer, a key check, validation, the cache, the integration); phases that only
    /// look at a flag leave no span.
    pub fn begin_span(&mut self, phase: Phase) {
        if self.inv.ctx.spans.is_none() {
            return;
        }
        let name = self.span_name(phase);
        if let (Some(name), Some(rec)) = (name, self.inv.ctx.spans.as_mut()) {
            rec.begin(name);
        }
    }

    fn span_name(&self, phase: Phase) -> Option<&'static str> {
        let method = &self.routed.method;
        match phase {
            Phase::Authorize => authorize::needed(self.inv, &self.routed).then_some("Authorizer"),
            Phase::ApiKey => method.api_key_required.then_some("API key"),
            Phase::Throttle => None,
            Phase::RequestValidation => method.validation.is_some().then_some("Request validation"),
            Phase::CacheLookup => self.inv.cache.is_some().then_some("Cache lookup"),
            Phase::Integration => Some("Integration"),
            Phase::CacheStore => self.cache.is_some().then_some("Cache store"),
        }
    }

    /// Records the span [`Exchange::begin_span`] opened for `phase`, ending now; `error`:
    /// how the phase failed.
    pub fn end_span(&mut self, phase: Phase, error: Option<&GatewayError>) {
        use tollgate_traces::{SpanKind, Value};
        let ctx = &mut self.inv.ctx;
        let Some(rec) = ctx.spans.as_mut() else {
            return;
        };
        let Some((name, start)) = rec.end() else {
            return;
        };
        let mut attributes: Vec<(&'static str, Value)> = Vec::new();
        let (kind, span_id) = match phase {
            // The integration's span is the one its backend was told is its parent.
            Phase::Integration => {
                if let Ok(i) = &self.routed.method.integration {
                    attributes.push(("aws.api_gateway.integration.type", i.kind.as_str().into()));
                }
                if let Some(status) = ctx.integration_status {
                    attributes.push(("http.response.status_code", i64::from(status).into()));
                }
                (SpanKind::Client, Some(ctx.trace.downstream()))
            }
            Phase::CacheLookup => {
                if let Some(outcome) = ctx.response_cache {
                    let hit = outcome == crate::context::CacheOutcome::Hit;
                    attributes.push(("aws.api_gateway.cache.hit", hit.into()));
                }
                (SpanKind::Internal, None)
            }
            _ => (SpanKind::Internal, None),
        };
        let error = error.map(|e| format!("{}: {}", e.kind.as_str(), e.message));
        let end = std::time::Instant::now();
        rec.phase_with(name, kind, (start, end), span_id, None, attributes, error);
    }

    /// The response once every phase ran.
    pub fn into_response(self) -> Result<Response<GatewayBody>, GatewayError> {
        // The integration phase always leaves one; without it the list is wrong.
        self.response.ok_or_else(GatewayError::internal)
    }

    fn api_key(&mut self) -> Result<(), GatewayError> {
        let Some(limits) = self.inv.limits else {
            return Ok(());
        };
        let key = api_key::check(
            &self.routed.method,
            self.inv.deployment.api_key_source,
            limits,
            &self.inv.parts.headers,
            self.inv
                .ctx
                .authorizer
                .as_ref()
                .and_then(|a| a.usage_identifier_key()),
        )?;
        if let Some((k, value)) = key {
            self.inv.ctx.api_key = Some((k.key_id.clone(), value.into()));
        }
        let key = key.map(|(k, _)| k);
        self.key = key;
        Ok(())
    }

    /// Decodes the query when validation or the integration reads parameters, then
    /// validates. It runs before the integration is looked at, so a bad request is a 400
    /// even on a method whose integration is broken. A body is read into memory only when a
    /// model will check it (proxy bodies otherwise keep streaming).
    async fn validate(&mut self) -> Result<(), GatewayError> {
        self.decode_body().await?;
        let method = &self.routed.method;
        let validation = method.validation.as_ref();
        let reads_params = validation.is_some_and(|v| !v.required.is_empty())
            || method
                .integration
                .as_ref()
                .is_ok_and(|i| i.reads_parameters());
        if reads_params {
            self.query = method_request::parse_query(self.inv.parts.uri.query());
        }
        let Some(v) = validation else {
            return Ok(());
        };
        let params = Params {
            path: &self.routed.path_params,
            query: &self.query,
            headers: &self.inv.parts.headers,
        };
        let content_type = self
            .inv
            .parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        request_validation::check_parameters(v, &params)?;
        if let Some(model) = request_validation::body_model(v, content_type) {
            let body = self.body.take().ok_or_else(GatewayError::internal)?;
            let bytes = body.collect(self.gw.body_stall).await?;
            request_validation::check_body(model, &bytes)?;
            self.body = Some(RequestBody::Buffered(bytes));
        }
        Ok(())
    }

    /// With `minimumCompressionSize` set, a gzip or deflate request body is decoded before
    /// validation and mapping templates read it (proxy integrations get it as sent).
    async fn decode_body(&mut self) -> Result<(), GatewayError> {
        if self.inv.deployment.minimum_compression_size.is_none() {
            return Ok(());
        }
        let proxy = self.routed.method.integration.as_ref().is_ok_and(|i| {
            matches!(
                i.kind,
                tollgate_model::IntegrationType::HttpProxy
                    | tollgate_model::IntegrationType::AwsProxy
            )
        });
        let Some(coding) = crate::compression::request_coding(&self.inv.parts.headers) else {
            return Ok(());
        };
        if proxy {
            return Ok(());
        }
        let body = self.body.take().ok_or_else(GatewayError::internal)?;
        let bytes = body.collect(self.gw.body_stall).await?;
        self.body = Some(RequestBody::Buffered(crate::compression::decode(
            &bytes, coding,
        )?));
        let h = &mut self.inv.parts.headers;
        h.remove(http::header::CONTENT_ENCODING);
        h.remove(http::header::CONTENT_LENGTH);
        Ok(())
    }

    async fn integrate(&mut self) -> Result<(), GatewayError> {
        let integration = self
            .routed
            .method
            .integration
            .as_ref()
            .map_err(|_| GatewayError::internal())?;
        let body = self.body.take().ok_or_else(GatewayError::internal)?;
        let params = Params {
            path: &self.routed.path_params,
            query: &self.query,
            headers: &self.inv.parts.headers,
        };
        let call = Call {
            integration,
            routed: &self.routed,
            params: &params,
            functions: self.gw.functions.as_ref(),
            body_stall: self.gw.body_stall,
            aws: &self.gw.aws,
            vpc_links: &self.gw.vpc_links,
        };
        let mut record = CallRecord::default();
        let answer = integrations::call(&call, self.inv, &mut record, body).await;
        record.record(&mut self.inv.ctx);
        let mut resp = match answer? {
            Answer::Response(resp) => resp,
            Answer::Output(out) => {
                if let Some(pending) = &mut self.cache {
                    // The output is kept, not the mapped response: hits are mapped again.
                    pending.keep = response_cache::keep_output(&out);
                }
                let mapping = self.inv.ctx.spans.is_some().then(std::time::Instant::now);
                let mapped = integration_response::apply(self.inv, integration, &params, out);
                if let (Some(start), Some(rec)) = (mapping, self.inv.ctx.spans.as_mut()) {
                    let span = (start, std::time::Instant::now());
                    rec.inner(
                        "Integration response",
                        span,
                        self.inv.ctx.trace.downstream(),
                    );
                }
                mapped?
            }
        };
        // AWS, AWS_PROXY and HTTP answers carry the request's trace id; MOCK, HTTP_PROXY
        // and API Gateway's own errors do not (recorded, request-pipeline.md §5.4).
        use tollgate_model::IntegrationType as K;
        if matches!(integration.kind, K::Aws | K::AwsProxy | K::Http) {
            let h = resp.headers_mut();
            if !h.contains_key(&X_AMZN_TRACE_ID) {
                if let Ok(v) = http::HeaderValue::from_str(&self.inv.ctx.trace_id) {
                    h.insert(X_AMZN_TRACE_ID, v);
                }
            }
        }
        self.response = Some(resp);
        Ok(())
    }
}
