//! Sampled requests' spans (`--otlp-endpoint`): a pipeline starts a request's recorder when
//! the request is sampled and a sink is configured, its phases record spans as they run,
//! and the request's own span closes them when the response is built.

use std::time::Instant;

use tollgate_traces::{Recorder, TraceContext, Value};

use crate::context::RequestContext;
use crate::http_context::HttpContext;
use crate::Gateway;

/// What a request's server span says, whatever the API kind.
struct ServerSpan<'a> {
    method: &'a str,
    /// The resource path or route matched (`/pets/{id}`), if any.
    route: Option<&'a str>,
    path: &'a str,
    status: u16,
    source_ip: &'a str,
    api_id: &'a str,
    stage: &'a str,
    request_id: &'a str,
    /// Why the gateway failed the request, for a 5xx.
    error: Option<&'a str>,
}

impl Gateway {
    /// A recorder for a request that is sampled, when spans have somewhere to go.
    pub(crate) fn recorder(&self, sampled: bool, started: Instant) -> Option<Box<Recorder>> {
        (sampled && self.traces.is_some()).then(|| Box::new(Recorder::new(started)))
    }

    /// Closes a REST request's trace.
    pub(crate) fn finish_rest_trace(&self, ctx: &mut RequestContext) {
        let Some(rec) = ctx.spans.take() else {
            return;
        };
        let mut extra: Vec<(&'static str, Value)> = Vec::new();
        if let Some(ua) = &ctx.user_agent {
            extra.push(("user_agent.original", ua.clone().into()));
        }
        if ctx.is_canary == Some(true) {
            extra.push(("aws.api_gateway.canary", true.into()));
        }
        let span = ServerSpan {
            method: ctx.http_method.as_str(),
            route: ctx.resource_path.as_deref(),
            path: &ctx.path,
            status: ctx.status,
            source_ip: &ctx.source_ip,
            api_id: &ctx.api_id,
            stage: &ctx.stage,
            request_id: &ctx.request_id,
            error: ctx.error.as_ref().map(|e| &*e.message),
        };
        self.export(*rec, &ctx.trace, span, extra);
    }

    /// Closes an HTTP API request's trace.
    pub(crate) fn finish_http_trace(&self, ctx: &mut HttpContext, request_id: &str) {
        let (Some(rec), Some(trace)) = (ctx.spans.take(), &ctx.trace) else {
            return;
        };
        let span = ServerSpan {
            method: &ctx.http_method,
            route: ctx
                .route_key
                .as_deref()
                .and_then(|k| k.split_once(' '))
                .map(|(_, path)| path),
            path: &ctx.path,
            status: ctx.status,
            source_ip: &ctx.source_ip,
            api_id: &ctx.api_id,
            stage: &ctx.stage,
            request_id,
            error: ctx.error_message,
        };
        self.export(*rec, trace, span, Vec::new());
    }

    /// The server span, named `{method} {route}` as OpenTelemetry names HTTP server spans
    /// (the method alone without a route), with the phases as its children.
    fn export(
        &self,
        rec: Recorder,
        trace: &TraceContext,
        s: ServerSpan<'_>,
        extra: Vec<(&'static str, Value)>,
    ) {
        let Some(sink) = &self.traces else {
            return;
        };
        let name = match s.route {
            Some(route) => format!("{} {route}", s.method),
            None => s.method.to_string(),
        };
        let mut attributes: Vec<(&'static str, Value)> = vec![
            ("http.request.method", s.method.to_string().into()),
            ("url.path", s.path.to_string().into()),
            ("http.response.status_code", i64::from(s.status).into()),
            ("client.address", s.source_ip.to_string().into()),
            ("aws.api_gateway.api_id", s.api_id.to_string().into()),
            ("aws.api_gateway.stage", s.stage.to_string().into()),
            ("aws.request_id", s.request_id.to_string().into()),
        ];
        if let Some(route) = s.route {
            attributes.push(("http.route", route.to_string().into()));
        }
        attributes.extend(extra);
        // OpenTelemetry's HTTP server rule: only a 5xx is the server's error.
        let error = (s.status >= 500).then(|| match s.error {
            Some(m) => m.to_string(),
            None => format!("HTTP {}", s.status),
        });
        sink.export(rec.finish(trace, name, Instant::now(), attributes, error));
    }
}

impl RequestContext {
    /// A stage with `tracingEnabled` samples the requests whose caller made no decision.
    pub fn sample(&mut self, sampler: Option<&tollgate_traces::Sampler>) {
        let now_secs = (self.request_time_epoch / 1000) as u64;
        if self.trace.caller_sampled.is_none() && sampler.is_some_and(|s| s.sample(now_secs)) {
            self.sampled = true;
            self.trace_id = self.trace.amzn_header(true);
        }
    }
}
